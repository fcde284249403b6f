"""Reads of public reports, emergencies and reports to the authorities, with their joins done."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from moderation.models import (
    OPEN_REPORT_STATUSES,
    AuthorityReport,
    Emergency,
    EmergencyCut,
    PublicReport,
)
from moderation.queries.payloads import report_row


def open_reports_count():
    """An annotation: how many open reports name the outer query's stream."""
    counts = (
        PublicReport.objects.filter(stream=OuterRef("pk"), status__in=OPEN_REPORT_STATUSES)
        .order_by()
        .values("stream")
        .annotate(count=Count("pk"))
        .values("count")[:1]
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def _reports() -> QuerySet[PublicReport]:
    return PublicReport.objects.select_related(
        "stream__publisher", "stream__category", "publisher", "comment", "claimed_by", "decided_by", "action"
    ).prefetch_related("images")


def reports_for_queue(*, status: str | None = None, limit: int = 200) -> list[PublicReport]:
    """Reports in the queue: open ones by deadline (the most urgent first), or those of one status, newest first."""
    if status in PublicReport.Status.values:
        return list(_reports().filter(status=status).order_by("-received_at", "-pk")[:limit])
    return list(_reports().filter(status__in=OPEN_REPORT_STATUSES).order_by("respond_by", "pk")[:limit])


def report_rows(report_ids) -> list[dict]:
    """Rows consoles receive for these reports, in one query."""
    return [report_row(report) for report in _reports().filter(pk__in=list(report_ids)).order_by("pk")]


def report_for_page(report_id: int) -> PublicReport | None:
    return _reports().filter(pk=report_id).first()


def report_by_receipt(receipt: str) -> PublicReport | None:
    return PublicReport.objects.select_related("action").filter(receipt=receipt).first()


def open_report_count() -> int:
    return PublicReport.objects.filter(status__in=OPEN_REPORT_STATUSES).count()


def reports_on_stream(stream_id: int, *, limit: int = 50) -> list[PublicReport]:
    return list(PublicReport.objects.filter(stream_id=stream_id).order_by("-received_at", "-pk")[:limit])


# --- emergencies ---------------------------------------------------------------------------------


def current_emergencies() -> list[Emergency]:
    """Emergencies in force or awaiting confirmation, newest first (the banner)."""
    statuses = (Emergency.Status.ACTIVE, Emergency.Status.AWAITING_CONFIRMATION)
    return list(Emergency.objects.select_related("declared_by").filter(status__in=statuses).order_by("-declared_at"))


def emergencies_for_page(*, limit: int = 50) -> list[Emergency]:
    return list(Emergency.objects.select_related("declared_by", "confirmed_by", "ended_by")[:limit])


def emergency_for_page(emergency_id: int) -> Emergency | None:
    return Emergency.objects.select_related("declared_by", "confirmed_by", "ended_by").filter(pk=emergency_id).first()


def emergency_cuts(emergency_id: int) -> list[EmergencyCut]:
    return list(
        EmergencyCut.objects.select_related("stream__publisher", "stream__node", "action")
        .filter(emergency_id=emergency_id)
        .order_by("pk")
    )


def emergency_progress(emergency_id: int) -> dict[str, int]:
    """How many of the emergency's cuts stand at each outcome."""
    rows = EmergencyCut.objects.filter(emergency_id=emergency_id).values("outcome").annotate(count=Count("pk"))
    counts = {outcome: 0 for outcome in EmergencyCut.Outcome.values}
    counts.update({row["outcome"]: row["count"] for row in rows})
    return counts


# --- reports to the authorities -----------------------------------------------------------------


def authority_reports_for_page(*, limit: int = 200) -> list[AuthorityReport]:
    return list(AuthorityReport.objects.select_related("stream", "publisher", "filed_by", "submitted_by")[:limit])


def authority_report_for_page(report_id: int) -> AuthorityReport | None:
    related = ("stream__category", "stream__node", "publisher", "filed_by", "submitted_by")
    return AuthorityReport.objects.select_related(*related).filter(pk=report_id).first()
