"""Every state change of the moderation domain, one module per concern.

Order inside an action: lock what is read-then-written, validate, write, log the staff action,
then register side effects (console events, tasks, media-server calls) with on_commit. Callers
import from here: ``from moderation import actions; actions.block_stream(...)``.
"""

from moderation.actions.claims import NotOnDutyError, claim_streams, release_claims
from moderation.actions.comments import decide_held_comment, receive_comment
from moderation.actions.errors import ModerationError
from moderation.actions.gate import (
    end_stream_session,
    open_stream,
    record_gate_decision,
    touch_stream_session,
)
from moderation.actions.news import (
    audit_news_licences,
    cut_news_stream,
    cut_uncovered_news_stream,
    decide_news_application,
    lapse_application,
    record_platform_licence,
    submit_news_application,
    submit_publisher_licence,
    verify_publisher_licence,
    withdraw_news_application,
    withdraw_platform_licence,
)
from moderation.actions.patrol import (
    ACTION_ROLES,
    block_stream,
    close_publisher,
    escalate_stream,
    lift_block,
    mark_patrolled,
    perform_cut,
    suspend_publisher,
)
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
from moderation.actions.warnings import warn_publisher
from moderation.actions.webhooks import (
    claim_webhook_delivery,
    enqueue_webhook,
    mark_webhook_delivered,
    notify_platform,
    record_webhook_failure,
)

__all__ = [
    "ACTION_ROLES",
    "ModerationError",
    "NotOnDutyError",
    "Verdict",
    "accept_agreement",
    "audit_news_licences",
    "block_stream",
    "claim_streams",
    "claim_webhook_delivery",
    "close_publisher",
    "create_category",
    "cut_news_stream",
    "cut_uncovered_news_stream",
    "decide_held_comment",
    "decide_news_application",
    "end_stream_session",
    "enqueue_webhook",
    "escalate_stream",
    "flag_stream_for_review",
    "issue_stream_key",
    "lapse_application",
    "lift_block",
    "mark_patrolled",
    "mark_webhook_delivered",
    "notify_platform",
    "open_stream",
    "perform_cut",
    "publish_agreement",
    "receive_comment",
    "record_gate_decision",
    "record_platform_licence",
    "record_snapshot",
    "record_webhook_failure",
    "register_media_server",
    "register_publisher",
    "release_claims",
    "revoke_stream_key",
    "rotate_media_server_secret",
    "set_media_server_play_url",
    "set_publisher_verification",
    "submit_news_application",
    "submit_publisher_licence",
    "suspend_publisher",
    "touch_stream_session",
    "verify_publisher_licence",
    "warn_publisher",
    "withdraw_news_application",
    "withdraw_platform_licence",
]
