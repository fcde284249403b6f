"""Public reports answered in time (Art. 19): every report past its first-response deadline is a finding."""

from __future__ import annotations

from moderation import actions, queries
from moderation.audits.context import AuditContext, Severity


def check(context: AuditContext) -> dict:
    """Record the reports newly overdue, then a finding per open report without its first response in time."""
    newly = actions.find_overdue_reports()
    overdue = queries.overdue_reports()
    for done, report in enumerate(overdue, 1):
        context.finding(
            key=f"report:{report.pk}:overdue",
            severity=Severity.CRITICAL if report.category == "minors" else Severity.WARNING,
            title=f"public report {report.receipt} has had no first response within its deadline",
            data={"report": report.pk, "receipt": report.receipt, "respond_by": report.respond_by.isoformat()},
            stream=report.stream,
            publisher=report.publisher,
        )
        context.progress(done, len(overdue))
    return {"overdue": len(overdue), "newly_overdue": len(newly)}
