"""Identity at rest: bringing every encrypted value under the newest key, and revealing one value.

Both are logged in the staff action log. Revealing is the only way a full identity value leaves the
database for a person (the console, the API, exports and the admin show masks): a compliance admin,
a typed reason, one field of one publisher at a time.
"""

from __future__ import annotations

from django.db import connection, transaction

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import identity_cipher, identity_rows, permissions
from moderation.errors import ModerationError
from moderation.models import Publisher
from moderation.text_input import TextRefused, check_text

# The publisher fields a compliance admin may reveal, in the order the publisher page lists them.
REVEALABLE_FIELDS = ("real_name", "document_number", "phone", "organisation_licence_number")
REVEAL_REASON_MIN = 4
REVEAL_REASON_MAX = 300


def rotate_identity_key(*, actor: User | None = None, batch: int = identity_rows.BATCH) -> dict[str, int]:
    """Re-encrypt every identity value and file that is not under the newest key; return the counts.

    Batched (a transaction per batch) and resumable: run it again after a stop and it carries on
    with what is still under an older key. Safe while the console runs (every key still decrypts).
    """
    counts = identity_rows.reencrypt_everything(connection, batch=batch)
    with transaction.atomic():
        log_staff_action(
            actor, "identity.rotate_key", data={"key_id": identity_cipher.current_key_id(), "changed": counts}
        )
    return counts


def reveal_identity(publisher: Publisher, *, field: str, reason: str, actor: User) -> str:
    """Return one full identity value of a publisher to a compliance admin, logging who, what and why."""
    permissions.check(actor, "identity.reveal")
    if field not in REVEALABLE_FIELDS:
        raise ModerationError(f"{field!r} is not an identity field that can be revealed", code="bad_field")
    try:
        reason = check_text(str(reason or ""), "reason").strip()
    except TextRefused as refused:
        raise ModerationError(str(refused), code="bad_text") from None
    if not REVEAL_REASON_MIN <= len(reason) <= REVEAL_REASON_MAX:
        raise ModerationError(
            f"give a reason of {REVEAL_REASON_MIN} to {REVEAL_REASON_MAX} characters", code="reason_required"
        )
    with transaction.atomic():
        value = getattr(Publisher.objects.only(field).get(pk=publisher.pk), field)
        log_staff_action(actor, "identity.reveal", target=publisher, data={"field": field, "reason": reason})
    return value
