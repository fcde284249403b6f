"""Claims on live streams: the patrol queue spreads the streams across the staff on duty.

A claim says "this patroller watches this stream now" and lapses after a TTL unless renewed, so a
stream whose watcher left (closed the tab, lost the network) goes back to the pool by itself.
Each claim is taken with one conditional UPDATE (``WHERE claimed_by IS NULL OR claim_expires_at <
now``): of two patrollers racing for a stream exactly one UPDATE matches, on SQLite and PostgreSQL
alike, with no row locks held across queries.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.actions import ShiftError, is_on_duty, log_staff_action
from accounts.models import User
from moderation import events, queries
from moderation.errors import ModerationError
from moderation.models import Stream

# Candidates read per round; more rounds follow only when others took most of them meanwhile.
_CANDIDATE_BATCH = 50


class NotOnDutyError(ModerationError, ShiftError):
    """Only staff on an open shift take streams from the queue."""

    code = "not_on_duty"


def claim_ttl() -> timedelta:
    """Return how long a claim lasts without renewal (LIVEWARD_CLAIM_TTL_SECONDS)."""
    return timedelta(seconds=settings.LIVEWARD_CLAIM_TTL_SECONDS)


def claim_streams(user: User, *, limit: int, ttl_seconds: int | None = None, now: datetime | None = None) -> list[int]:
    """Renew the user's claims and take unwatched live streams, riskiest first, up to ``limit``; return their ids."""
    if limit < 0:
        raise ValueError("limit must not be negative")
    if not is_on_duty(user):
        raise NotOnDutyError(_("Check in for a shift before taking streams from the queue."))
    now = now or timezone.now()
    expires_at = now + (timedelta(seconds=ttl_seconds) if ttl_seconds is not None else claim_ttl())

    # 1. Keep what the user watches already (unexpired), highest priority first, up to the limit.
    held = list(queries.streams_claimed_by(user, now=now).values_list("pk", flat=True))
    kept, surplus = held[:limit], held[limit:]
    renewed = _take(kept, user=user, now=now, expires_at=expires_at, own=True)
    released = _release(surplus, user=user) if surplus else []

    # 2. Fill up with unclaimed or lapsed streams. A candidate another patroller took between the
    #    read and the UPDATE simply matches no row; the next round reads fresh candidates.
    claimed: list[int] = []
    tried: set[int] = set(renewed)
    while len(renewed) + len(claimed) < limit:
        wanted = limit - len(renewed) - len(claimed)
        candidates = list(
            queries.claimable_streams(now=now)
            .exclude(pk__in=tried)
            .values_list("pk", flat=True)[: max(wanted, _CANDIDATE_BATCH)]
        )
        if not candidates:
            break
        for stream_id in candidates:
            tried.add(stream_id)
            claimed += _take([stream_id], user=user, now=now, expires_at=expires_at, own=False)
            if len(renewed) + len(claimed) >= limit:
                break

    if claimed or released:
        # Renewals alone are a heartbeat, not a change: they write no log line and send no event.
        with transaction.atomic():
            log_staff_action(
                user,
                "stream.claim",
                data={"claimed": claimed, "renewed": len(renewed), "released": released, "limit": limit},
            )
            if claimed:
                transaction.on_commit(lambda: events.streams_claimed(claimed))
            if released:
                transaction.on_commit(lambda: events.streams_claimed(released))
    return renewed + claimed


def release_claims(user: User) -> list[int]:
    """Give back every stream the user has claimed; return the ids of the live ones released."""
    held = list(Stream.objects.live().filter(claimed_by=user).order_by("pk").values_list("pk", flat=True))
    # Ended streams keep no claim either, but nobody watches them: no event for those.
    Stream.objects.filter(claimed_by=user, ended_at__isnull=False).update(claimed_by=None, claim_expires_at=None)
    if not held:
        return []
    with transaction.atomic():
        released = _release(held, user=user)
        if released:
            log_staff_action(user, "stream.release_claims", data={"released": released})
            transaction.on_commit(lambda: events.streams_claimed(released))
    return released


def _take(stream_ids: list[int], *, user: User, now: datetime, expires_at: datetime, own: bool) -> list[int]:
    """Claim (or, with ``own``, renew) each stream with one conditional UPDATE; return those that matched."""
    taken = []
    for stream_id in stream_ids:
        free = Q(claimed_by=user, claim_expires_at__gte=now) if own else queries.claimable(now)
        if (
            Stream.objects.filter(free, pk=stream_id, ended_at__isnull=True).update(
                claimed_by=user, claim_expires_at=expires_at
            )
            == 1
        ):
            taken.append(stream_id)
    return taken


def _release(stream_ids: list[int], *, user: User) -> list[int]:
    """Clear the user's claim on each stream still theirs; return those cleared."""
    return [
        stream_id
        for stream_id in stream_ids
        if Stream.objects.filter(pk=stream_id, claimed_by=user).update(claimed_by=None, claim_expires_at=None)
    ]


def release_claims_at_shift_end(sender, *, user: User, **kwargs) -> list[int]:
    """Give back the streams of a patroller whose shift ends (receiver of ``accounts.actions.shift_ended``)."""
    return release_claims(user)
