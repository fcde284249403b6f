"""The audits' checks (docs/audits.md) and the one runner that gives each its run and its findings.

A check is a function ``check(context: AuditContext) -> dict``: it looks, reports what it found with
``context.finding(key=…, severity=…, title=…)`` (idempotent by key), may tell its progress with
``context.progress(done, total)``, and returns a small JSON summary. It is listed in ``CHECKS``
under the name its ``AuditSpec`` has in ``moderation/audit_catalogue.py``. The runner is called by
one Celery task (``moderation.tasks.audits.run_audit``, ``acks_late``) with the task's id, so a
task redelivered after its worker was killed carries on with the same run.
"""

from __future__ import annotations

from collections.abc import Callable

from moderation import actions
from moderation.audits import (
    blacklist_sweep,
    news_licences,
    patrol_coverage,
    public_reports,
    reconciliation,
    record_chain,
    records,
    staffing,
)
from moderation.audits.context import AuditContext
from moderation.errors import ModerationError

CHECKS: dict[str, Callable[[AuditContext], dict]] = {
    "news_licences": news_licences.check,
    "blacklist_sweep": blacklist_sweep.check,
    "patrol_coverage": patrol_coverage.check,
    "reconciliation": reconciliation.check,
    "records": records.check,
    "retention_purge": records.purge,
    "record_chain": record_chain.check,
    "staffing": staffing.check,
    "public_reports": public_reports.check,
}


def run_audit(name: str, *, task_id: str) -> dict:
    """Run audit ``name`` as the run of task ``task_id`` (begun now, or carried on after a killed worker)."""
    check = CHECKS.get(name) if isinstance(name, str) else None
    if check is None:
        raise ModerationError(f"no audit is called {str(name)[:64]!r}", code="not_found")
    run = actions.begin_audit_run(name, task_id=task_id)
    if run is None:
        return {"skipped": "finished already"}
    try:
        summary = check(AuditContext(run)) or {}
    except Exception as exc:
        actions.finish_audit_run(run, error=f"{type(exc).__name__}: {exc}")
        raise
    actions.finish_audit_run(run, summary=summary)
    return summary


__all__ = ["CHECKS", "AuditContext", "run_audit"]
