"""Warnings to publishers (警示, Art. 14): recorded, logged, and sent to the platform to pass on."""

from __future__ import annotations

import time

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.actions import log_staff_action
from accounts.models import User
from moderation.actions.credit import charge_for_action
from moderation.actions.patrol import replayed_action
from moderation.actions.webhooks import notify_platform
from moderation.errors import ModerationError
from moderation.models import ModerationAction, ReasonCode, Stream

PUBLISHER_WARNED = "publisher.warned"


def warn_publisher(
    stream: Stream,
    *,
    actor: User | None,
    reason: str,
    note: str = "",
    request_id: str | None = None,
) -> ModerationAction:
    """Warn the publisher of a live stream and notify the platform; the same request id warns once."""
    if reason not in ReasonCode.values or reason == ReasonCode.PATROLLED:
        raise ModerationError(f"unknown reason {str(reason)[:40]!r} for a warning", code="bad_field")
    request_id = request_id or None
    with transaction.atomic():
        if request_id is not None:
            earlier = replayed_action(request_id, actor)
            if earlier is not None:
                return earlier
        # Locked, so a stream ending meanwhile is either seen ended here or ends after the warning.
        locked = Stream.objects.select_for_update(of=("self",)).select_related("publisher").filter(pk=stream.pk).first()
        if locked is None:
            raise ModerationError("no such stream", code="not_found")
        if not locked.is_live:
            raise ModerationError("the stream has ended", code="stream_ended")
        try:
            with transaction.atomic():
                action = ModerationAction.objects.create(
                    kind=ModerationAction.Kind.WARN,
                    actor=actor,
                    stream=locked,
                    publisher=locked.publisher,
                    reason=reason,
                    note=note,
                    request_id=request_id,
                    media_status=ModerationAction.MediaStatus.NOT_APPLICABLE,
                    at=timezone.now(),
                )
        except IntegrityError:
            # The same request id arrived twice at once and the other one committed first.
            earlier = replayed_action(request_id, actor) if request_id is not None else None
            if earlier is None:
                raise
            return earlier
        charge_for_action(action)
        log_staff_action(
            actor,
            "publisher.warn",
            target=locked.publisher,
            data={"action": action.pk, "stream": locked.pk, "reason": reason, "request_id": request_id},
        )
        notify_platform(
            PUBLISHER_WARNED,
            {
                "publisher": locked.publisher.platform_account_id,
                "stream": locked.pk,
                "reason": reason,
                "note": note,
                "action": action.pk,
                "at": action.at,
            },
        )
        # Server-side timings for the clicker's acknowledgement, as the other patrol actions keep them.
        action.stamps = {}
        transaction.on_commit(lambda: action.stamps.__setitem__("stored", time.perf_counter()))
    return action
