"""The audit framework: runs stored with their outcome, findings idempotent by key, handled by people."""

from __future__ import annotations

import pytest
from celery import current_app
from django_celery_beat.models import PeriodicTask

from accounts.models import StaffActionLog
from moderation import actions, audits
from moderation.audit_catalogue import AUDITS, RUN_AUDIT_TASK
from moderation.models import AuditRun, Finding
from moderation.tasks.audits import run_audit
from tests.news_world import days

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager_tasks():
    previous = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = previous


def expiring_platform_licence(admin, number="P-SOON", until=12):
    return actions.record_platform_licence(
        number, scopes=["platform"], valid_from=days(-9), valid_until=days(until), actor=admin
    )


def test_every_audit_in_the_catalogue_has_a_check_and_a_schedule():
    assert set(audits.CHECKS) == {spec.name for spec in AUDITS}
    actions.ensure_audit_schedules()
    scheduled = {task.name: task for task in PeriodicTask.objects.filter(task=RUN_AUDIT_TASK)}
    for spec in AUDITS:
        task = scheduled[spec.periodic_task_name]
        assert task.enabled and task.crontab is not None and task.args == f'["{spec.name}"]'


def test_a_run_is_stored_with_its_start_end_outcome_and_findings(admin):
    expiring_platform_licence(admin)
    summary = run_audit.apply(args=["news_licences"]).get()
    assert summary["alerted"] == 1
    run = AuditRun.objects.get(audit="news_licences")
    assert run.outcome == AuditRun.Outcome.FINDINGS and run.attempts == 1
    assert run.started_at <= run.finished_at and run.findings_new == 1
    finding = Finding.objects.get()
    assert finding.first_run == run and finding.status == Finding.Status.OPEN
    assert finding.severity == Finding.Severity.WARNING and "P-SOON" in finding.title
    assert StaffActionLog.objects.filter(verb="audit.finding").count() == 1


def test_a_clean_case_finds_nothing(admin):
    expiring_platform_licence(admin, until=300)
    run_audit.apply(args=["news_licences"]).get()
    run = AuditRun.objects.get()
    assert run.outcome == AuditRun.Outcome.CLEAN and not Finding.objects.exists()


def test_a_problem_found_again_is_the_same_finding_seen_once_more(admin):
    expiring_platform_licence(admin)
    run_audit.apply(args=["news_licences"]).get()
    run_audit.apply(args=["news_licences"]).get()
    finding = Finding.objects.get()
    assert finding.times_seen == 2
    second = AuditRun.objects.order_by("-id").first()
    assert (second.findings_new, second.findings_seen, second.outcome) == (0, 1, AuditRun.Outcome.FINDINGS)


def test_a_run_killed_mid_way_runs_again_to_completion_without_duplicating_findings(admin):
    one = expiring_platform_licence(admin, "P-ONE")
    expiring_platform_licence(admin, "P-TWO", until=20)
    # The first delivery got as far as one finding, then its worker was SIGKILLed (no finish).
    killed = actions.begin_audit_run("news_licences", task_id="task-killed")
    actions.record_finding(killed, key=f"platform-licence:{one.pk}:expiring", severity="warning", title="P-ONE")
    # The broker redelivers the same message (acks_late): same task id, same run.
    run_audit.apply(args=["news_licences"], task_id="task-killed").get()
    run = AuditRun.objects.get(task_id="task-killed")
    assert run.is_finished and run.attempts == 2 and run.outcome == AuditRun.Outcome.FINDINGS
    assert AuditRun.objects.count() == 1
    assert Finding.objects.count() == 2, "a finding was duplicated"
    assert (run.findings_new, run.findings_seen) == (2, 0)
    assert Finding.objects.get(key=f"platform-licence:{one.pk}:expiring").times_seen == 1
    # A delivery of a finished run does nothing.
    assert run_audit.apply(args=["news_licences"], task_id="task-killed").get() == {"skipped": "finished already"}


def test_findings_are_acknowledged_and_resolved_with_who_and_when(admin, patroller, inspector):
    expiring_platform_licence(admin)
    run_audit.apply(args=["news_licences"]).get()
    finding = Finding.objects.get()
    with pytest.raises(actions.ModerationError) as refused:
        actions.acknowledge_finding(finding.pk, actor=inspector)
    assert refused.value.code == "forbidden"
    actions.acknowledge_finding(finding.pk, actor=patroller)
    with pytest.raises(actions.ModerationError) as twice:
        actions.acknowledge_finding(finding.pk, actor=admin)
    assert twice.value.code == "conflict"
    actions.resolve_finding(finding.pk, actor=admin, note="续期已提交")
    finding.refresh_from_db()
    assert (finding.status, finding.acknowledged_by, finding.resolved_by) == ("resolved", patroller, admin)
    assert finding.acknowledged_at <= finding.resolved_at and finding.resolution_note == "续期已提交"
    # Still there on the next run, it is a new finding (the resolved one stays as it was).
    run_audit.apply(args=["news_licences"]).get()
    assert Finding.objects.filter(status="open").count() == 1 and Finding.objects.count() == 2


def test_a_rolled_back_finding_sends_no_alert(admin, django_capture_on_commit_callbacks):
    run = actions.begin_audit_run("news_licences", task_id="t-rollback")
    from django.db import transaction

    with django_capture_on_commit_callbacks() as callbacks:
        try:
            with transaction.atomic():
                actions.record_finding(run, key="k:1", severity="critical", title="t")
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert callbacks == [] and not Finding.objects.exists()


def test_bad_findings_are_refused(admin):
    run = actions.begin_audit_run("news_licences", task_id="t-bad")
    for key, severity in (("", "warning"), ("x" * 201, "warning"), ("k", "catastrophic")):
        with pytest.raises(actions.ModerationError):
            actions.record_finding(run, key=key, severity=severity, title="t")
    assert not Finding.objects.exists()


def test_an_unknown_audit_is_refused_and_nothing_is_started(admin):
    with pytest.raises(actions.ModerationError):
        actions.queue_audit_run("no_such_audit", actor=admin)
    with pytest.raises(actions.ModerationError):
        audits.run_audit("no_such_audit", task_id="t")
    assert not AuditRun.objects.exists()


def test_an_audit_queued_on_demand_runs_as_the_same_run(admin, eager_tasks, django_capture_on_commit_callbacks):
    expiring_platform_licence(admin)
    with django_capture_on_commit_callbacks(execute=True):
        run = actions.queue_audit_run("news_licences", actor=admin)
    run.refresh_from_db()
    assert run.requested_by == admin and run.outcome == AuditRun.Outcome.FINDINGS
    assert AuditRun.objects.count() == 1


def test_the_blacklist_sweep_runs_as_an_audit_and_reports_each_closure(admin, publisher):
    from moderation.identity import Kind, hash_of
    from moderation.models import BlacklistEntry, ReasonCode
    from moderation.tasks.blacklist import sweep_blacklist

    assert sweep_blacklist.apply().get() == 0
    assert AuditRun.objects.get().outcome == AuditRun.Outcome.CLEAN and not Finding.objects.exists()
    # An entry loaded in bulk closes nothing by itself: the sweep finds the account and closes it.
    entry = BlacklistEntry.objects.create(
        reference="BL-BULK-9", kind=Kind.PHONE, value_hash=hash_of(Kind.PHONE, "+8613800138000"),
        masked_value="+86138****8000", reason=ReasonCode.FRAUD, author=admin,
    )  # fmt: skip
    assert sweep_blacklist.apply().get() == 1
    finding = Finding.objects.get()
    assert finding.audit == "blacklist_sweep" and finding.publisher == publisher and entry.reference in finding.key
