"""How long each kind of record is kept (Art. 16: at least sixty days), as the purge and the exports read it."""

from __future__ import annotations

from datetime import datetime, timedelta

from moderation.models import DEFAULT_RETENTION_DAYS, RecordKind, RetentionRule

# The export kinds, and the record kind whose retention bounds how far back each may reach (None:
# kept for as long as the entries themselves, e.g. the blacklist).
EXPORT_RETENTION: dict[str, str | None] = {
    "streams": RecordKind.STREAMS,
    "gate_decisions": RecordKind.GATE_DECISIONS,
    "actions": RecordKind.ACTIONS,
    "comments": RecordKind.COMMENTS,
    "staff_log": RecordKind.STAFF_LOG,
    "blacklist": None,
    "credit": RecordKind.ACTIONS,
}


def retention_days() -> dict[str, int]:
    """Days kept per record kind: the stored rule, or the default (one query)."""
    days = dict(DEFAULT_RETENTION_DAYS)
    days.update(dict(RetentionRule.objects.values_list("kind", "days")))
    return days


def retention_cutoff(kind: str, now: datetime, *, days: dict[str, int] | None = None) -> datetime:
    """The moment before which records of ``kind`` may be purged."""
    return now - timedelta(days=(days or retention_days())[kind])
