"""The catalogue of what the platform is told (docs/webhooks.md): one function per measure's event.

Each builds its event's fields and records it with ``notify_platform`` inside the caller's
transaction, so a measure that rolls back tells the platform nothing. Warnings, news decisions,
appeals and verification changes send theirs from their own modules with the same envelope.
"""

from __future__ import annotations

from datetime import datetime

from moderation.actions.webhooks import notify_platform, notify_platform_many
from moderation.models import ModerationAction, Publisher

STREAM_BLOCKED = "stream.blocked"
STREAM_CUT_CONFIRMED = "stream.cut_confirmed"
PUBLISHER_SUSPENDED = "publisher.suspended"
PUBLISHER_CLOSED = "publisher.closed"
PUBLISHER_LIFTED = "publisher.lifted"
PUBLISHER_REOPENED = "publisher.reopened"
CREDIT_LEVEL_CHANGED = "publisher.credit_level_changed"


def _account(publisher_id: int) -> str:
    return Publisher.objects.filter(pk=publisher_id).values_list("platform_account_id", flat=True).first() or ""


def _measure(action: ModerationAction, account: str | None = None) -> dict:
    return {
        "publisher": _account(action.publisher_id) if account is None else account,
        "stream": action.stream_id,
        "action": action.pk,
        "reason": action.reason,
        "note": action.note,
        "at": action.at,
    }


def stream_blocked(action: ModerationAction) -> None:
    """A stream was cut (封禁/断流); every key of its publisher is denied until ``cooling_off_until``."""
    notify_platform(STREAM_BLOCKED, {**_measure(action), "cooling_off_until": action.until})


def streams_blocked(actions: list[ModerationAction], accounts: dict[int, str]) -> None:
    """``stream_blocked`` for many blocks at once (an emergency's), in one statement; ``accounts`` by publisher id."""
    notify_platform_many(
        STREAM_BLOCKED,
        [{**_measure(action, accounts[action.publisher_id]), "cooling_off_until": action.until} for action in actions],
    )


def publisher_suspended(action: ModerationAction) -> None:
    """A publisher may not publish until ``until`` (暂停发布); their live streams are cut."""
    notify_platform(PUBLISHER_SUSPENDED, {**_measure(action), "until": action.until})


def publisher_closed(action: ModerationAction, *, cause: str = "measure", **extra) -> None:
    """A publisher's account was closed (关闭账号): by a staff measure, or because it is blacklisted."""
    fields = _measure(action)
    notify_platform(PUBLISHER_CLOSED, {**fields, "platform_account_id": fields["publisher"], "cause": cause, **extra})


def cut_confirmed(action: ModerationAction, *, outcome: str, at: datetime) -> None:
    """The media servers confirmed a measure's cut (``confirmed``) or found nothing left on air (``gone``)."""
    notify_platform(
        STREAM_CUT_CONFIRMED,
        {
            "publisher": _account(action.publisher_id),
            "stream": action.stream_id,
            "action": action.pk,
            "measure": action.kind,
            "outcome": outcome,
            "confirmed_at": at,
        },
    )


def cuts_confirmed(actions: list[ModerationAction], accounts: dict[int, str], *, outcome: str, at: datetime) -> None:
    """``cut_confirmed`` for many blocks at once, in one statement; ``accounts`` by publisher id."""
    notify_platform_many(
        STREAM_CUT_CONFIRMED,
        [
            {
                "publisher": accounts[action.publisher_id],
                "stream": action.stream_id,
                "action": action.pk,
                "measure": action.kind,
                "outcome": outcome,
                "confirmed_at": at,
            }
            for action in actions
        ],
    )


def publisher_lifted(publisher: Publisher, *, lift: ModerationAction, measure: str) -> None:
    """A block's cooling-off (``measure`` = ``cooling_off``) or a suspension was lifted early."""
    notify_platform(
        PUBLISHER_LIFTED,
        {
            "publisher": publisher.platform_account_id,
            "measure": measure,
            "action": lift.pk,
            "note": lift.note,
            "by": lift.actor.get_username() if lift.actor_id else "",
            "at": lift.at,
        },
    )


def publisher_reopened(publisher: Publisher, *, lift: ModerationAction, reference: str = "") -> None:
    """A closed account is open again (its closure or blacklisting was reversed)."""
    notify_platform(
        PUBLISHER_REOPENED,
        {
            "publisher": publisher.platform_account_id,
            "platform_account_id": publisher.platform_account_id,
            "reference": reference,
            "action": lift.pk,
            "note": lift.note,
            "at": lift.at,
        },
    )


def credit_level_changed(publisher_id: int, *, previous: str, level: str, score: int, event_id: int | None) -> None:
    """A publisher's credit level (信用等级) changed: the platform applies the new level's rules."""
    notify_platform(
        CREDIT_LEVEL_CHANGED,
        {
            "publisher": _account(publisher_id),
            "previous_level": previous,
            "credit_level": level,
            "credit_score": score,
            "credit_event": event_id,
        },
    )
