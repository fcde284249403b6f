"""Reads of the compliance dashboard and the day's report: a few grouped queries over a window."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta

from django.db.models import Count, F
from django.db.models.functions import TruncHour

from moderation.models import Finding, GateDecision, ModerationAction, Stream
from moderation.queries.coverage import live_stream_coverage, staffing_load

HOURS = 24


def hour_starts(end: datetime, hours: int = HOURS) -> list[datetime]:
    """The starts of the last ``hours`` whole hours up to ``end`` (the current hour last)."""
    last = end.replace(minute=0, second=0, microsecond=0)
    return [last - timedelta(hours=hours - 1 - index) for index in range(hours)]


def live_streams_by_hour(end: datetime, hours: int = HOURS) -> dict:
    """Streams live during each hour, by category (with its tier): one query over the window."""
    starts = hour_starts(end, hours)
    window_start, window_end = starts[0], starts[-1] + timedelta(hours=1)
    rows = (
        Stream.objects.filter(started_at__lt=window_end)
        .exclude(ended_at__lt=window_start)
        .values_list("started_at", "ended_at", "category__name", "category__risk_tier")
    )
    series: dict[str, list[int]] = defaultdict(lambda: [0] * len(starts))
    for started, ended, name, tier in rows.iterator(5000):
        label = f"{name} · T{tier}"
        for index, hour in enumerate(starts):
            if started < hour + timedelta(hours=1) and (ended is None or ended >= hour):
                series[label][index] += 1
    return {"hours": starts, "series": dict(sorted(series.items()))}


def actions_by_hour(end: datetime, hours: int = HOURS) -> dict:
    """Staff and gate actions per hour, by kind."""
    starts = hour_starts(end, hours)
    index = {hour: number for number, hour in enumerate(starts)}
    rows = (
        ModerationAction.objects.filter(at__gte=starts[0], at__lt=starts[-1] + timedelta(hours=1))
        .annotate(hour=TruncHour("at"))
        .values_list("hour", "kind")
        .annotate(count=Count("pk"))
    )
    series: dict[str, list[int]] = defaultdict(lambda: [0] * len(starts))
    for hour, kind, count in rows:
        position = index.get(hour)
        if position is None:  # TruncHour in the database's zone vs ours: place by nearest start
            position = min(range(len(starts)), key=lambda number: abs((starts[number] - hour).total_seconds()))
        series[kind][position] += count
    return {"hours": starts, "series": dict(sorted(series.items()))}


def gate_denials(start: datetime, end: datetime) -> list[tuple[str, int]]:
    """Gate denials by reason in the window, most first."""
    rows = (
        GateDecision.objects.filter(at__gte=start, at__lt=end, allowed=False)
        .values_list("reason")
        .annotate(count=Count("pk"))
        .order_by("-count")
    )
    return [(reason, count) for reason, count in rows]


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def cut_latency(start: datetime, end: datetime) -> dict:
    """Seconds from a cutting action to the node's confirmation, p50 and p99 (confirmed cuts in the window)."""
    confirmed = ModerationAction.objects.filter(
        at__gte=start, at__lt=end, media_status=ModerationAction.MediaStatus.CONFIRMED, media_confirmed_at__isnull=False
    ).annotate(latency=F("media_confirmed_at") - F("at"))
    values = [row.total_seconds() * 1000 for row in confirmed.values_list("latency", flat=True) if row is not None]
    return {"count": len(values), "p50_ms": percentile(values, 0.5), "p99_ms": percentile(values, 0.99)}


def coverage_now(now: datetime) -> dict:
    """Live streams now, how many overdue a patrol, and the staffing ratio."""
    coverage = live_stream_coverage(now)
    overdue = sum(1 for item in coverage if item.overdue_seconds(now) > 0)
    load = staffing_load()
    staff = len(load["on_duty"])
    return {
        "live": len(coverage),
        "overdue": overdue,
        "covered_percent": round(100 * (len(coverage) - overdue) / len(coverage)) if coverage else 100,
        "on_duty": staff,
        "weighted_streams": load["weighted_streams"],
        "load_per_patroller": round(load["weighted_streams"] / staff, 1) if staff else None,
    }


def findings_summary(start: datetime, end: datetime) -> dict:
    """Findings first seen in the window by audit and severity, and how many are unresolved now."""
    found = Counter()
    for audit, severity, count in (
        Finding.objects.filter(first_seen_at__gte=start, first_seen_at__lt=end)
        .values_list("audit", "severity")
        .annotate(count=Count("pk"))
    ):
        found[(audit, severity)] += count
    unresolved = Finding.objects.exclude(status=Finding.Status.RESOLVED).count()
    return {"by_audit": sorted(found.items()), "unresolved": unresolved}


def streams_started(start: datetime, end: datetime) -> int:
    return Stream.objects.filter(started_at__gte=start, started_at__lt=end).count()
