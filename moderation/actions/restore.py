"""Undoing a measure (Art. 14): lift a block's cooling-off, lift a suspension, reopen a closed account.

Each is recorded as a ``lift`` action with its note. Appeals (credit) and blacklist removals call these;
this module calls no measure, so undoing never charges or cuts.
"""

from __future__ import annotations

from django.db import transaction

from accounts.actions import log_staff_action
from accounts.models import User
from moderation.actions import platform_events
from moderation.errors import ModerationError
from moderation.models import ModerationAction, Publisher, ReasonCode, StreamKey

Kind = ModerationAction.Kind


def lift_block(stream_key: StreamKey, *, actor: User, note: str) -> StreamKey:
    """End a block's cooling-off early (a reviewer decided the block was enough), on every key of the publisher."""
    if not note.strip():
        raise ModerationError("lifting a block needs a note", code="missing_field")
    with transaction.atomic():
        stream_key = StreamKey.objects.select_for_update().select_related("publisher").get(pk=stream_key.pk)
        Publisher.objects.filter(pk=stream_key.publisher_id).update(cooling_off_until=None)
        StreamKey.objects.filter(publisher_id=stream_key.publisher_id).update(denied_until=None)
        lift = ModerationAction.objects.create(
            actor=actor,
            kind=Kind.LIFT,
            publisher_id=stream_key.publisher_id,
            reason=ReasonCode.OTHER_ILLEGAL,
            note=note,
        )
        log_staff_action(actor, "stream_key.lift_block", target=stream_key, data={"note": note[:200]})
        platform_events.publisher_lifted(stream_key.publisher, lift=lift, measure="cooling_off")
    stream_key.denied_until = None
    return stream_key


def lift_suspension(publisher: Publisher, *, actor: User | None, note: str) -> Publisher:
    """End a publisher's suspension early (an appeal was upheld, or a reviewer decided it was enough)."""
    return _restore_publisher(
        publisher,
        actor=actor,
        note=note,
        from_status=Publisher.Status.SUSPENDED,
        cleared="suspended_until",
        verb="publisher.lift_suspension",
        refusals=("lifting a suspension needs a note", "the publisher is not suspended"),
        tell=lambda publisher, lift: platform_events.publisher_lifted(publisher, lift=lift, measure="suspension"),
    )


def reopen_publisher(publisher: Publisher, *, actor: User | None, note: str, reference: str = "") -> Publisher:
    """Reopen a closed account (only when the closure itself was reversed, e.g. on an upheld appeal).

    ``reference``: the blacklist entry whose reversal reopens it, for the platform's ``publisher.reopened``.
    """
    return _restore_publisher(
        publisher,
        actor=actor,
        note=note,
        from_status=Publisher.Status.CLOSED,
        cleared="closed_at",
        verb="publisher.reopen",
        refusals=("reopening an account needs a note", "the account is not closed"),
        tell=lambda publisher, lift: platform_events.publisher_reopened(publisher, lift=lift, reference=reference),
    )


def _restore_publisher(
    publisher: Publisher,
    *,
    actor: User | None,
    note: str,
    from_status: str,
    cleared: str,
    verb: str,
    refusals: tuple[str, str],
    tell,
) -> Publisher:
    """Make a suspended or closed publisher active again, recorded as a ``lift`` action."""
    if not note.strip():
        raise ModerationError(refusals[0], code="missing_field")
    with transaction.atomic():
        publisher = Publisher.objects.select_for_update().get(pk=publisher.pk)
        if publisher.status != from_status:
            raise ModerationError(refusals[1], code="invalid")
        Publisher.objects.filter(pk=publisher.pk).update(status=Publisher.Status.ACTIVE, **{cleared: None})
        lift = ModerationAction.objects.create(
            actor=actor, kind=Kind.LIFT, publisher=publisher, reason=ReasonCode.OTHER_ILLEGAL, note=note
        )
        log_staff_action(actor, verb, target=publisher, data={"note": note[:200]})
        tell(publisher, lift)
    publisher.status = Publisher.Status.ACTIVE
    setattr(publisher, cleared, None)
    return publisher
