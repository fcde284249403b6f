"""Reads of the audits page and the alerts: audits with their schedules, runs, findings."""

from __future__ import annotations

from django.db.models import QuerySet

from django_celery_beat.models import PeriodicTask

from moderation.audit_catalogue import AUDITS, RUN_AUDIT_TASK
from moderation.models import AuditRun, Finding

UNRESOLVED = (Finding.Status.OPEN, Finding.Status.ACKNOWLEDGED)
LABELS = {spec.name: spec.label for spec in AUDITS}


def audit_label(name: str) -> str:
    """Return an audit's label in the current language (its name if it is no longer listed)."""
    return str(LABELS.get(name, name))


def audits_overview() -> list[dict]:
    """Every audit with its schedule in force (or its default) and its latest run: two queries."""
    tasks = {task.name: task for task in PeriodicTask.objects.filter(task=RUN_AUDIT_TASK).select_related("crontab")}
    latest: dict[str, AuditRun] = {}
    for run in AuditRun.objects.filter(audit__in=[spec.name for spec in AUDITS]).order_by("audit", "-queued_at")[
        : 20 * len(AUDITS)
    ]:
        latest.setdefault(run.audit, run)
    rows = []
    for spec in AUDITS:
        task = tasks.get(spec.periodic_task_name)
        crontab = spec.default_crontab
        if task is not None and task.crontab is not None:
            c = task.crontab
            crontab = f"{c.minute} {c.hour} {c.day_of_month} {c.month_of_year} {c.day_of_week}"
        rows.append(
            {
                "spec": spec,
                "crontab": crontab,
                "enabled": task.enabled if task is not None else True,
                "last_run_at": task.last_run_at if task is not None else None,
                "latest": latest.get(spec.name),
            }
        )
    return rows


def recent_audit_runs(*, audit: str | None = None, limit: int = 50) -> QuerySet[AuditRun]:
    runs = AuditRun.objects.select_related("requested_by")
    if audit:
        runs = runs.filter(audit=audit)
    return runs.order_by("-queued_at", "-id")[:limit]


def findings_for_page(*, status: str = "unresolved", audit: str | None = None, limit: int = 200) -> QuerySet[Finding]:
    findings = Finding.objects.select_related("stream", "publisher", "node", "acknowledged_by", "resolved_by")
    if status == "unresolved":
        findings = findings.filter(status__in=UNRESOLVED)
    elif status in Finding.Status.values:
        findings = findings.filter(status=status)
    if audit:
        findings = findings.filter(audit=audit)
    return findings.order_by("-first_seen_at", "-id")[:limit]


def unresolved_finding_count() -> int:
    return Finding.objects.filter(status__in=UNRESOLVED).count()


def finding_alert(finding_id: int) -> dict | None:
    """The alert consoles receive about a finding (new, acknowledged, resolved)."""
    finding = Finding.objects.select_related("acknowledged_by", "resolved_by").filter(pk=finding_id).first()
    return None if finding is None else _alert(finding)


def finding_alerts(finding_ids: list[int]) -> list[dict]:
    """The alerts of many findings, in the order given (one query; gone ones left out)."""
    found = Finding.objects.select_related("acknowledged_by", "resolved_by").in_bulk(finding_ids)
    return [_alert(found[pk]) for pk in finding_ids if pk in found]


def _alert(finding: Finding) -> dict:
    return {
        "id": finding.pk,
        "audit": finding.audit,
        "audit_label": audit_label(finding.audit),
        "severity": finding.severity,
        "status": finding.status,
        "title": finding.title,
        "stream": finding.stream_id,
        "first_seen_at": finding.first_seen_at.isoformat(),
        "acknowledged_by": str(finding.acknowledged_by) if finding.acknowledged_by else None,
        "resolved_by": str(finding.resolved_by) if finding.resolved_by else None,
    }


def open_finding_alerts(*, limit: int = 20) -> list[dict]:
    """The newest unresolved findings as alerts (a console that connects gets them in its hello)."""
    ids = list(
        Finding.objects.filter(status__in=UNRESOLVED).order_by("-first_seen_at").values_list("pk", flat=True)[:limit]
    )
    return [alert for alert in (finding_alert(pk) for pk in ids) if alert is not None]
