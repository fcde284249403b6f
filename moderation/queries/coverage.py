"""Reads of the patrol-coverage and staffing audits: when each live stream was last watched, and the load."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import OuterRef, Subquery

from accounts.models import Shift
from moderation.models import ModerationAction, Stream

# Staffing (Art. 7, staff in proportion to scale): how much one live stream weighs, by its category's
# risk tier (1 the highest) and by its audience.
TIER_WEIGHTS = {1: 3.0, 2: 2.0, 3: 1.0}
AUDIENCE_WEIGHTS = ((10000, 3.0), (1000, 2.0), (0, 1.0))


@dataclass(frozen=True)
class Coverage:
    """One live stream as the coverage audit sees it."""

    stream_id: int
    publisher_id: int
    interval_seconds: int
    watched_at: datetime  # the latest of: its start, its last patrol mark, the last staff action on it
    watched_now: bool  # someone on duty holds an unexpired claim on it (has it open)

    def overdue_seconds(self, now: datetime) -> int:
        """Seconds past its patrol interval (0 while within it, or while someone has it open)."""
        if self.watched_now:
            return 0
        return max(0, int((now - self.watched_at).total_seconds()) - self.interval_seconds)

    def due_at(self) -> datetime:
        return self.watched_at + timedelta(seconds=self.interval_seconds)


def live_stream_coverage(now: datetime) -> list[Coverage]:
    """Every live stream with when it was last watched: one query, whatever the number of streams."""
    last_staff_action = (
        ModerationAction.objects.filter(stream=OuterRef("pk"), actor__isnull=False).order_by("-at").values("at")[:1]
    )
    rows = (
        Stream.objects.live()
        .annotate(last_action_at=Subquery(last_staff_action))
        .values_list(
            "pk",
            "publisher_id",
            "started_at",
            "last_patrolled_at",
            "last_action_at",
            "claimed_by_id",
            "claim_expires_at",
            "category__patrol_interval_seconds",
        )
        .order_by("pk")
    )
    coverage = []
    for pk, publisher_id, started, patrolled, acted, claimed_by, claim_expires, interval in rows.iterator(2000):
        watched = max(moment for moment in (started, patrolled, acted) if moment is not None)
        coverage.append(
            Coverage(
                stream_id=pk,
                publisher_id=publisher_id,
                interval_seconds=interval,
                watched_at=watched,
                watched_now=claimed_by is not None and claim_expires is not None and claim_expires > now,
            )
        )
    return coverage


def stream_weight(*, risk_tier: int, viewers: int) -> float:
    """How much one live stream weighs in the staffing ratio."""
    audience = next(weight for floor, weight in AUDIENCE_WEIGHTS if viewers >= floor)
    return TIER_WEIGHTS.get(risk_tier, 1.0) * audience


def staffing_load() -> dict:
    """Live streams (count and weight) and the staff on duty now, by name."""
    weight = 0.0
    count = 0
    for risk_tier, viewers in Stream.objects.live().values_list("category__risk_tier", "viewers").iterator(5000):
        weight += stream_weight(risk_tier=risk_tier, viewers=viewers)
        count += 1
    staff = on_duty_names()
    return {"live_streams": count, "weighted_streams": round(weight, 1), "on_duty": staff}


def on_duty_names() -> list[str]:
    """The names of the staff on duty now (an open shift each), the earliest check-in first."""
    # Open shifts, not accounts.actions.on_duty(): its filter across the reverse join also matches
    # staff who never checked in at all.
    shifts = Shift.objects.filter(ended_at__isnull=True).select_related("user").order_by("started_at", "pk")
    return [str(shift.user) for shift in shifts]
