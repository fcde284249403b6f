"""Every state change of the moderation domain, one module per concern.

Order inside an action: lock what is read-then-written, validate, write, log the staff action,
then register side effects (console events, tasks, media-server calls) with on_commit. Callers
import from here: ``from moderation import actions; actions.block_stream(...)``.
"""

from moderation.actions.appeals import (
    APPEAL_TARGETS,
    AppealSubject,
    decide_appeal,
    register_appeal_target,
    submit_appeal,
)
from moderation.actions.audiences import record_node_viewers, report_viewers
from moderation.actions.blacklist import (
    BlacklistedIdentity,
    add_blacklist_entry,
    approve_blacklist_removal,
    enforce_blacklist,
    record_publisher_device,
    reject_blacklist_removal,
    request_blacklist_removal,
    reverse_blacklisting,
    rotate_identity_hashes,
    sweep_blacklist,
)
from moderation.actions.blacklist_export import export_blacklist
from moderation.actions.claims import NotOnDutyError, claim_streams, release_claims
from moderation.actions.comments import decide_held_comment, receive_comment
from moderation.actions.credit import (
    LevelSpec,
    adjust_credit,
    charge_for_action,
    earn_back,
    ensure_credit_policy,
    nightly_earn_back,
    publish_credit_policy,
    reverse_credit_event,
    settle_credit_charges,
)
from moderation.actions.cuts import perform_cut
from moderation.actions.filing_export import export_filing
from moderation.actions.gate import (
    end_stream_session,
    open_stream,
    record_gate_decision,
    replace_live_session,
    touch_stream_session,
    withdraw_unanswered_stream,
)
from moderation.actions.licences import (
    record_platform_licence,
    submit_publisher_licence,
    verify_publisher_licence,
    withdraw_platform_licence,
)
from moderation.actions.news import (
    audit_news_licences,
    cut_news_stream,
    cut_uncovered_news_stream,
    decide_news_application,
    lapse_application,
    submit_news_application,
    withdraw_news_application,
)
from moderation.actions.patrol import (
    block_stream,
    close_publisher,
    close_publisher_account,
    escalate_stream,
    mark_patrolled,
    suspend_publisher,
)
from moderation.actions.restore import lift_block, lift_suspension, reopen_publisher
from moderation.actions.setup import (
    accept_agreement,
    create_category,
    issue_stream_key,
    publish_agreement,
    register_media_server,
    register_publisher,
    revoke_stream_key,
    rotate_media_server_secret,
    set_media_server_play_url,
    set_publisher_verification,
)
from moderation.actions.snapshots import Verdict, flag_stream_for_review, record_snapshot
from moderation.actions.verification import report_verification
from moderation.actions.verification_review import decide_verification_review, submit_verification_review
from moderation.actions.warnings import warn_publisher
from moderation.actions.webhooks import (
    claim_webhook_delivery,
    enqueue_webhook,
    mark_webhook_delivered,
    notify_platform,
    record_webhook_failure,
    retry_webhook_now,
)
from moderation.errors import ModerationError

__all__ = [
    "APPEAL_TARGETS",
    "AppealSubject",
    "BlacklistedIdentity",
    "LevelSpec",
    "ModerationError",
    "NotOnDutyError",
    "Verdict",
    "accept_agreement",
    "add_blacklist_entry",
    "adjust_credit",
    "approve_blacklist_removal",
    "audit_news_licences",
    "block_stream",
    "charge_for_action",
    "claim_streams",
    "claim_webhook_delivery",
    "close_publisher",
    "close_publisher_account",
    "create_category",
    "cut_news_stream",
    "cut_uncovered_news_stream",
    "decide_appeal",
    "decide_held_comment",
    "decide_news_application",
    "decide_verification_review",
    "earn_back",
    "end_stream_session",
    "enforce_blacklist",
    "enqueue_webhook",
    "ensure_credit_policy",
    "escalate_stream",
    "export_blacklist",
    "export_filing",
    "flag_stream_for_review",
    "issue_stream_key",
    "lapse_application",
    "lift_block",
    "lift_suspension",
    "mark_patrolled",
    "mark_webhook_delivered",
    "nightly_earn_back",
    "notify_platform",
    "open_stream",
    "perform_cut",
    "publish_agreement",
    "publish_credit_policy",
    "receive_comment",
    "record_gate_decision",
    "record_node_viewers",
    "record_platform_licence",
    "record_publisher_device",
    "record_snapshot",
    "record_webhook_failure",
    "register_appeal_target",
    "register_media_server",
    "register_publisher",
    "reject_blacklist_removal",
    "release_claims",
    "reopen_publisher",
    "replace_live_session",
    "report_verification",
    "report_viewers",
    "request_blacklist_removal",
    "retry_webhook_now",
    "reverse_blacklisting",
    "reverse_credit_event",
    "revoke_stream_key",
    "rotate_identity_hashes",
    "rotate_media_server_secret",
    "set_media_server_play_url",
    "set_publisher_verification",
    "settle_credit_charges",
    "submit_appeal",
    "submit_news_application",
    "submit_publisher_licence",
    "submit_verification_review",
    "suspend_publisher",
    "sweep_blacklist",
    "touch_stream_session",
    "verify_publisher_licence",
    "warn_publisher",
    "withdraw_news_application",
    "withdraw_platform_licence",
    "withdraw_unanswered_stream",
]
