"""Audits (docs/audits.md): their runs, the findings they add, who handled each, and their schedules.

An audit's check (``moderation/audits/``) never writes a finding itself: it calls ``record_finding``
through its ``AuditContext``. A finding is keyed by what it is about (``stream:42:unwatched``); found
again while unresolved it is the same row, seen once more, so a run that was killed and runs again
adds nothing twice. A new finding goes to the consoles of the staff on duty as an alert.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from django_celery_beat.models import CrontabSchedule, PeriodicTask
from django_celery_beat.validators import crontab_validator

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import events, permissions, task_queue
from moderation.audit_catalogue import AUDITS, RUN_AUDIT_TASK, AuditSpec, audit_spec
from moderation.errors import ModerationError
from moderation.models import AuditRun, Finding, MediaServer, Publisher, Stream

Outcome = AuditRun.Outcome
Severity = Finding.Severity
FindingStatus = Finding.Status

SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
KEY_MAX = 200
TITLE_MAX = 300


def _spec(name: str) -> AuditSpec:
    spec = audit_spec(name)
    if spec is None:
        raise ModerationError(f"no audit is called {str(name)[:64]!r}", code="not_found")
    return spec


# --- runs ---------------------------------------------------------------------------------------


def queue_audit_run(name: str, *, actor: User | None) -> AuditRun:
    """Queue a run of audit ``name`` now (on demand); the worker picks it up by its task id."""
    spec = _spec(name)
    if actor is not None:
        permissions.check(actor, "audit.run")
    with transaction.atomic():
        run = AuditRun.objects.create(audit=spec.name, task_id=str(uuid.uuid4()), requested_by=actor)
        log_staff_action(actor, "audit.run", target=run, data={"audit": spec.name})
        transaction.on_commit(lambda: task_queue.enqueue(RUN_AUDIT_TASK, spec.name, task_id=run.task_id))
    return run


def begin_audit_run(name: str, *, task_id: str) -> AuditRun | None:
    """Start (or, after a killed worker, carry on with) the run of this task; None if it already finished."""
    spec = _spec(name)
    now = timezone.now()
    with transaction.atomic():
        run = AuditRun.objects.select_for_update().filter(task_id=task_id).first()
        if run is None:
            try:
                with transaction.atomic():
                    run = AuditRun.objects.create(audit=spec.name, task_id=task_id, queued_at=now)
            except IntegrityError:  # the same message delivered twice at once: one of them runs it
                return None
            run = AuditRun.objects.select_for_update().get(pk=run.pk)
        if run.is_finished or run.audit != spec.name:
            return None
        run.started_at = run.started_at or now
        run.attempts += 1
        run.outcome = Outcome.RUNNING
        run.save(update_fields=["started_at", "attempts", "outcome"])
    return run


def report_audit_progress(run: AuditRun, *, done: int, total: int) -> None:
    """Record how far a run got (the audits page shows it while the run goes on)."""
    run.progress_done, run.progress_total = max(0, int(done)), max(0, int(total))
    AuditRun.objects.filter(pk=run.pk).update(progress_done=run.progress_done, progress_total=run.progress_total)


def finish_audit_run(run: AuditRun, *, summary: dict | None = None, error: str = "") -> AuditRun:
    """Close a run with its outcome: failed, findings (new or seen again) or clean."""
    run.refresh_from_db()
    if error:
        run.outcome = Outcome.FAILED
    else:
        run.outcome = Outcome.FINDINGS if run.findings_new or run.findings_seen else Outcome.CLEAN
    run.finished_at = timezone.now()
    run.summary = summary or {}
    run.error = error[:300]
    if not error and run.progress_total:
        run.progress_done = run.progress_total
    run.save(update_fields=["outcome", "finished_at", "summary", "error", "progress_done"])
    return run


# --- findings -----------------------------------------------------------------------------------


def record_finding(
    run: AuditRun,
    *,
    key: str,
    severity: str,
    title: str,
    data: dict | None = None,
    stream: Stream | None = None,
    publisher: Publisher | None = None,
    node: MediaServer | None = None,
) -> tuple[Finding, bool]:
    """Add what an audit found, keyed by what it is about; return the finding and whether it is new.

    Found again while unresolved, the finding is the same row: seen once more, its severity raised
    if the new one is higher. A new finding is logged and pushed to the on-duty consoles on commit.
    """
    if not key or len(key) > KEY_MAX:
        raise ModerationError(f"a finding's key is 1–{KEY_MAX} characters", code="bad_field")
    if severity not in SEVERITY_RANK:
        raise ModerationError(f"unknown severity {str(severity)[:20]!r}", code="bad_field")
    title = str(title)[:TITLE_MAX]
    now = timezone.now()
    with transaction.atomic():
        unresolved = Finding.objects.select_for_update().exclude(status=FindingStatus.RESOLVED)
        finding = unresolved.filter(audit=run.audit, key=key).first()
        if finding is None:
            try:
                with transaction.atomic():
                    finding = Finding.objects.create(
                        audit=run.audit,
                        key=key,
                        severity=severity,
                        title=title,
                        data=data or {},
                        stream=stream,
                        publisher=publisher,
                        node=node,
                        first_run=run,
                        last_run=run,
                        first_seen_at=now,
                        last_seen_at=now,
                    )
            except IntegrityError:  # another run added it meanwhile: it is seen again, below
                finding = unresolved.get(audit=run.audit, key=key)
            else:
                AuditRun.objects.filter(pk=run.pk).update(findings_new=F("findings_new") + 1)
                log_staff_action(
                    None, "audit.finding", target=finding, data={"audit": run.audit, "key": key, "severity": severity}
                )
                transaction.on_commit(lambda: events.audit_finding_changed(finding.pk))
                return finding, True
        fields = ["last_seen_at", "last_run"]
        finding.last_seen_at = now
        if finding.last_run_id != run.pk:  # a rerun of the same run (killed worker) counts it once
            finding.last_run = run
            finding.times_seen += 1
            fields.append("times_seen")
            AuditRun.objects.filter(pk=run.pk).update(findings_seen=F("findings_seen") + 1)
        if SEVERITY_RANK[severity] > SEVERITY_RANK[finding.severity]:
            finding.severity, finding.title = severity, title
            fields += ["severity", "title"]
            transaction.on_commit(lambda: events.audit_finding_changed(finding.pk))
        if data:
            finding.data = data
            fields.append("data")
        finding.save(update_fields=fields)
    return finding, False


@dataclass(frozen=True)
class FindingReport:
    """One problem a check found, before it is a finding (``record_findings`` takes many at once)."""

    key: str
    severity: str
    title: str
    data: dict = field(default_factory=dict)
    stream: Stream | None = None
    publisher: Publisher | None = None
    node: MediaServer | None = None


FINDINGS_CHUNK = 500


def _check_report(report: FindingReport) -> None:
    if not report.key or len(report.key) > KEY_MAX:
        raise ModerationError(f"a finding's key is 1–{KEY_MAX} characters", code="bad_field")
    if report.severity not in SEVERITY_RANK:
        raise ModerationError(f"unknown severity {str(report.severity)[:20]!r}", code="bad_field")


def record_findings(run: AuditRun, reports: list[FindingReport]) -> int:
    """Add many findings at once, each as ``record_finding`` would (same keys, same rows); return how many are new.

    One transaction and a handful of statements per chunk of 500, whatever the chunk holds: the
    unresolved findings already there under those keys are seen again, the others are inserted in
    bulk, logged in one ``audit.findings`` line naming the run and each new finding's id, key and
    severity, and pushed to the on-duty consoles on commit.
    """
    for report in reports:
        _check_report(report)
    unique = list({report.key: report for report in reports}.values())  # a key twice in one call is one finding
    created = 0
    for start in range(0, len(unique), FINDINGS_CHUNK):
        chunk = unique[start : start + FINDINGS_CHUNK]
        try:
            with transaction.atomic():
                created += _record_chunk(run, chunk)
        except IntegrityError:  # another run added some of these meanwhile: one at a time, as record_finding does
            created += sum(
                int(
                    record_finding(
                        run,
                        key=report.key,
                        severity=report.severity,
                        title=report.title,
                        data=report.data,
                        stream=report.stream,
                        publisher=report.publisher,
                        node=report.node,
                    )[1]
                )
                for report in chunk
            )
    return created


def _record_chunk(run: AuditRun, chunk: list[FindingReport]) -> int:
    now = timezone.now()
    unresolved = Finding.objects.select_for_update().exclude(status=FindingStatus.RESOLVED)
    existing = {finding.key: finding for finding in unresolved.filter(audit=run.audit, key__in=[r.key for r in chunk])}
    seen, again, changed_data = [], [], []
    raised: list[int] = []
    for report in chunk:
        finding = existing.get(report.key)
        if finding is None:
            continue
        # A rerun of the same run (killed worker) counts it once.
        (again if finding.last_run_id == run.pk else seen).append(finding.pk)
        if SEVERITY_RANK[report.severity] > SEVERITY_RANK[finding.severity]:
            title = str(report.title)[:TITLE_MAX]
            Finding.objects.filter(pk=finding.pk).update(severity=report.severity, title=title)
            raised.append(finding.pk)
        if report.data and report.data != finding.data:
            finding.data = report.data
            changed_data.append(finding)
    # A few statements whatever the chunk holds: Django's bulk_update builds a CASE per row and field.
    if seen:
        Finding.objects.filter(pk__in=seen).update(last_seen_at=now, last_run=run, times_seen=F("times_seen") + 1)
    if again:
        Finding.objects.filter(pk__in=again).update(last_seen_at=now)
    if changed_data:
        Finding.objects.bulk_update(changed_data, ["data"])
    fresh = Finding.objects.bulk_create(
        [
            Finding(
                audit=run.audit,
                key=report.key,
                severity=report.severity,
                title=str(report.title)[:TITLE_MAX],
                data=report.data or {},
                stream=report.stream,
                publisher=report.publisher,
                node=report.node,
                first_run=run,
                last_run=run,
                first_seen_at=now,
                last_seen_at=now,
            )
            for report in chunk
            if report.key not in existing
        ]
    )
    if fresh or seen:
        AuditRun.objects.filter(pk=run.pk).update(
            findings_new=F("findings_new") + len(fresh), findings_seen=F("findings_seen") + len(seen)
        )
    if fresh:  # one line for the chunk (a line each costs an INSERT each): the run, and what it found
        log_staff_action(
            None,
            "audit.findings",
            target=run,
            data={"audit": run.audit, "findings": [[f.pk, f.key, f.severity] for f in fresh]},
        )
    changed = [finding.pk for finding in fresh] + raised
    if changed:
        transaction.on_commit(lambda: events.audit_findings_changed(changed))
    return len(fresh)


def _load_finding(finding_id: int, *, actor: User, capability: str) -> Finding:
    permissions.check(actor, capability)
    finding = Finding.objects.select_for_update().filter(pk=finding_id).first()
    if finding is None:
        raise ModerationError("no such finding", code="not_found")
    return finding


def acknowledge_finding(finding_id: int, *, actor: User) -> Finding:
    """Acknowledge an open finding: someone on duty has seen it and is on it."""
    with transaction.atomic():
        finding = _load_finding(finding_id, actor=actor, capability="audit.handle")
        if finding.status != FindingStatus.OPEN:
            raise ModerationError("this finding is no longer open", code="conflict")
        finding.status = FindingStatus.ACKNOWLEDGED
        finding.acknowledged_by, finding.acknowledged_at = actor, timezone.now()
        finding.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
        log_staff_action(actor, "audit.acknowledge", target=finding, data={"audit": finding.audit})
        transaction.on_commit(lambda: events.audit_finding_changed(finding.pk))
    return finding


def resolve_finding(finding_id: int, *, actor: User, note: str = "") -> Finding:
    """Resolve a finding (open or acknowledged), with an optional note; found again later, it is a new one."""
    note = (note or "").strip()
    if len(note) > 2000:
        raise ModerationError("a note is at most 2000 characters", code="bad_field")
    with transaction.atomic():
        finding = _load_finding(finding_id, actor=actor, capability="audit.handle")
        if finding.status == FindingStatus.RESOLVED:
            raise ModerationError("this finding is already resolved", code="conflict")
        now = timezone.now()
        if finding.acknowledged_at is None:
            finding.acknowledged_by, finding.acknowledged_at = actor, now
        finding.status = FindingStatus.RESOLVED
        finding.resolved_by, finding.resolved_at, finding.resolution_note = actor, now, note
        finding.save(
            update_fields=[
                "status",
                "acknowledged_by",
                "acknowledged_at",
                "resolved_by",
                "resolved_at",
                "resolution_note",
            ]
        )
        log_staff_action(actor, "audit.resolve", target=finding, data={"audit": finding.audit, "note": note[:200]})
        transaction.on_commit(lambda: events.audit_finding_changed(finding.pk))
    return finding


def audit_staffing_after_shift(sender=None, **kwargs) -> None:
    """A shift ended (inside its transaction): when nobody stays on duty, run the staffing audit at once."""
    from accounts.models import Shift

    if not Shift.objects.filter(ended_at__isnull=True).exists() and Stream.objects.live().exists():
        queue_audit_run("staffing", actor=None)


# --- schedules ----------------------------------------------------------------------------------


def parse_crontab(text: str) -> list[str]:
    """Split a five-field crontab (minute hour day-of-month month day-of-week); ModerationError if invalid."""
    fields = str(text or "").split()
    if len(fields) != 5:
        raise ModerationError("a crontab has five fields: minute hour day-of-month month day-of-week", code="bad_field")
    try:
        crontab_validator(" ".join(fields))
    except ValidationError as exc:
        raise ModerationError(f"not a valid crontab: {'; '.join(exc.messages)[:200]}", code="bad_field") from None
    return fields


def _crontab_schedule(fields: list[str]) -> CrontabSchedule:
    minute, hour, day_of_month, month_of_year, day_of_week = fields
    schedule, _created = CrontabSchedule.objects.get_or_create(
        minute=minute,
        hour=hour,
        day_of_month=day_of_month,
        month_of_year=month_of_year,
        day_of_week=day_of_week,
        timezone=settings.CELERY_TIMEZONE,
    )
    return schedule


def _periodic_task(spec: AuditSpec, fields: list[str], *, enabled: bool) -> PeriodicTask:
    task, _created = PeriodicTask.objects.update_or_create(
        name=spec.periodic_task_name,
        defaults={
            "task": RUN_AUDIT_TASK,
            "args": f'["{spec.name}"]',
            "crontab": _crontab_schedule(fields),
            "interval": None,
            "enabled": enabled,
            "description": str(spec.label),
        },
    )
    return task


def set_audit_schedule(name: str, *, crontab: str, enabled: bool, actor: User | None) -> PeriodicTask:
    """Set when beat runs an audit (a crontab, in the console's time zone), or pause it; no deploy needed."""
    spec = _spec(name)
    if actor is not None:
        permissions.check(actor, "audit.schedule")
    fields = parse_crontab(crontab)
    with transaction.atomic():
        task = _periodic_task(spec, fields, enabled=bool(enabled))
        log_staff_action(
            actor,
            "audit.schedule",
            target=task,
            data={"audit": spec.name, "crontab": " ".join(fields), "enabled": enabled},
        )
    return task


def ensure_audit_schedules() -> int:
    """Give every audit without a schedule its default one (after migrate); return how many were added."""
    added = 0
    existing = set(PeriodicTask.objects.filter(task=RUN_AUDIT_TASK).values_list("name", flat=True))
    for spec in AUDITS:
        if spec.periodic_task_name not in existing:
            _periodic_task(spec, parse_crontab(spec.default_crontab), enabled=True)
            added += 1
    return added
