"""Every state change of the moderation domain, one module per concern.

Order inside an action: lock what is read-then-written, validate, write, log the staff action,
then register side effects (console events, tasks, media-server calls) with on_commit. Callers
import from here: ``from moderation import actions; actions.block_stream(...)``.
"""

from moderation.actions.blacklist import (
    BLACKLIST_CHANGE_ROLES,
    BLACKLIST_READ_ROLES,
    BlacklistedIdentity,
    add_blacklist_entry,
    approve_blacklist_removal,
    enforce_blacklist,
    export_blacklist,
    record_publisher_device,
    reject_blacklist_removal,
    request_blacklist_removal,
    reverse_blacklisting,
    rotate_identity_hashes,
    sweep_blacklist,
)
from moderation.actions.claims import NotOnDutyError, claim_streams, release_claims
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
    close_publisher_account,
    escalate_stream,
    lift_block,
    mark_patrolled,
    perform_cut,
    reopen_publisher_account,
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
    "BLACKLIST_CHANGE_ROLES",
    "BLACKLIST_READ_ROLES",
    "BlacklistedIdentity",
    "ModerationError",
    "NotOnDutyError",
    "Verdict",
    "accept_agreement",
    "add_blacklist_entry",
    "approve_blacklist_removal",
    "block_stream",
    "claim_streams",
    "claim_webhook_delivery",
    "close_publisher",
    "close_publisher_account",
    "create_category",
    "end_stream_session",
    "enforce_blacklist",
    "enqueue_webhook",
    "escalate_stream",
    "export_blacklist",
    "flag_stream_for_review",
    "issue_stream_key",
    "lift_block",
    "mark_patrolled",
    "mark_webhook_delivered",
    "notify_platform",
    "open_stream",
    "perform_cut",
    "publish_agreement",
    "record_gate_decision",
    "record_publisher_device",
    "record_snapshot",
    "record_webhook_failure",
    "register_media_server",
    "register_publisher",
    "reject_blacklist_removal",
    "release_claims",
    "reopen_publisher_account",
    "request_blacklist_removal",
    "reverse_blacklisting",
    "revoke_stream_key",
    "rotate_identity_hashes",
    "rotate_media_server_secret",
    "set_media_server_play_url",
    "set_publisher_verification",
    "suspend_publisher",
    "sweep_blacklist",
    "touch_stream_session",
    "warn_publisher",
]
