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
from moderation.actions.claims import NotOnDutyError, claim_streams, release_claims
from moderation.actions.credit import (
    LevelSpec,
    adjust_credit,
    charge_for_action,
    earn_back,
    ensure_credit_policy,
    nightly_earn_back,
    publish_credit_policy,
    reverse_credit_event,
)
from moderation.actions.errors import ModerationError
from moderation.actions.gate import (
    end_stream_session,
    open_stream,
    record_gate_decision,
    touch_stream_session,
)
from moderation.actions.patrol import (
    ACTION_ROLES,
    block_stream,
    close_publisher,
    escalate_stream,
    lift_block,
    lift_suspension,
    mark_patrolled,
    perform_cut,
    reopen_publisher,
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
    "APPEAL_TARGETS",
    "AppealSubject",
    "LevelSpec",
    "ModerationError",
    "NotOnDutyError",
    "Verdict",
    "accept_agreement",
    "adjust_credit",
    "block_stream",
    "charge_for_action",
    "claim_streams",
    "claim_webhook_delivery",
    "close_publisher",
    "create_category",
    "decide_appeal",
    "earn_back",
    "end_stream_session",
    "enqueue_webhook",
    "ensure_credit_policy",
    "escalate_stream",
    "flag_stream_for_review",
    "issue_stream_key",
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
    "record_gate_decision",
    "record_snapshot",
    "record_webhook_failure",
    "register_appeal_target",
    "register_media_server",
    "register_publisher",
    "release_claims",
    "reopen_publisher",
    "reverse_credit_event",
    "revoke_stream_key",
    "rotate_media_server_secret",
    "set_media_server_play_url",
    "set_publisher_verification",
    "submit_appeal",
    "suspend_publisher",
    "touch_stream_session",
    "warn_publisher",
]
