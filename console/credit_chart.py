"""The publisher page's credit chart: the score over time as an SVG step line with the level thresholds."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from moderation import credit_policy as policy_cache

CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 720, 220, 36
CHART_PAD_RIGHT = 72  # room for the level thresholds' labels


def score_chart(publisher, events: list, *, now: datetime) -> dict:
    """Lay out the score over time as an SVG step line, with the level thresholds, server-side."""
    policy = policy_cache.current_policy()
    low, high = min(policy.score_min, publisher.credit_score), max(policy.score_max, publisher.credit_score)
    if events:
        first = events[0]
        start, start_score = min(first.at, publisher.created_at), first.score_after - first.points
    else:
        start, start_score = publisher.created_at, publisher.credit_score
    for event in events:
        low, high = min(low, event.score_after), max(high, event.score_after)
    span_seconds = max((now - start).total_seconds(), 1.0)
    span_score = max(high - low, 1)
    inner_width, inner_height = CHART_WIDTH - CHART_PAD - CHART_PAD_RIGHT, CHART_HEIGHT - 2 * CHART_PAD

    def x(at: datetime) -> float:
        return round(CHART_PAD + inner_width * (at - start).total_seconds() / span_seconds, 1)

    def y(score: int) -> float:
        return round(CHART_PAD + inner_height * (high - score) / span_score, 1)

    points = [(x(start), y(start_score))]
    markers = []
    score = start_score
    for event in events:
        points.append((x(event.at), y(score)))
        score = event.score_after
        points.append((x(event.at), y(score)))
        markers.append(
            {
                "x": x(event.at),
                "y": y(score),
                "title": f"{timezone.localtime(event.at):%Y-%m-%d %H:%M} {event.points:+d} → {score} "
                f"({event.level_after}) {event.get_kind_display()}",
                "down": event.points < 0,
            }
        )
    points.append((x(now), y(score)))
    thresholds = [
        {"y": y(level.min_score), "label": f"{level.code} ≥ {level.min_score}"}
        for level in policy.levels
        if low <= level.min_score <= high
    ]
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_PAD,
        "right": CHART_WIDTH - CHART_PAD_RIGHT,
        "top": CHART_PAD,
        "bottom": CHART_HEIGHT - CHART_PAD,
        "polyline": " ".join(f"{px},{py}" for px, py in points),
        "markers": markers,
        "thresholds": thresholds,
        "high": high,
        "low": low,
        "start": timezone.localtime(start),
        "end": timezone.localtime(now),
    }
