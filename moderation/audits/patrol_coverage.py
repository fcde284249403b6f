"""Patrol coverage (Art. 7, 值班巡查): every live stream watched within its category's patrol interval.

A stream counts as watched by a patrol mark, any staff action on it, or an unexpired claim (someone
on duty has it open). A stream past its interval is a finding, keyed by the stream (seen again
while it stays unwatched), naming the staff then on duty.
"""

from __future__ import annotations

from django.utils import timezone

from moderation import actions, queries
from moderation.audits.context import AuditContext, Severity
from moderation.models import Stream

PROGRESS_EVERY = 1000


def check(context: AuditContext) -> dict:
    """Find the live streams unwatched past their interval; a finding per stream."""
    now = timezone.now()
    coverage = queries.live_stream_coverage(now)
    total = len(coverage)
    context.progress(0, total)
    overdue = [(item, item.overdue_seconds(now)) for item in coverage]
    overdue = [(item, seconds) for item, seconds in overdue if seconds > 0]
    staff = queries.on_duty_names() if overdue else []
    streams = Stream.objects.only("pk").in_bulk([item.stream_id for item, _seconds in overdue])
    reports = [
        actions.FindingReport(
            key=f"stream:{item.stream_id}:unwatched",
            # Twice its interval without anyone looking is critical.
            severity=Severity.CRITICAL if seconds >= item.interval_seconds else Severity.WARNING,
            title=(
                f"stream {item.stream_id} unwatched for {seconds + item.interval_seconds} s "
                f"(interval {item.interval_seconds} s); on duty: {'、'.join(staff) or 'nobody'}"
            ),
            data={
                "stream": item.stream_id,
                "interval_seconds": item.interval_seconds,
                "watched_at": item.watched_at.isoformat(),
                "overdue_seconds": seconds,
                "on_duty": staff,
            },
            stream=streams.get(item.stream_id),
        )
        for item, seconds in overdue
    ]
    for start in range(0, len(reports), PROGRESS_EVERY):  # one bulk write per step, its progress after it
        context.findings(reports[start : start + PROGRESS_EVERY])
        context.progress(min(start + PROGRESS_EVERY, len(reports)), len(reports))
    return {"live": total, "overdue": len(overdue), "covered": total - len(overdue)}
