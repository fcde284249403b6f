"""Many findings at once (``record_findings``): the same rows, counts and alerts as one at a time, in few statements."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

import pytest

from accounts.models import StaffActionLog
from moderation import actions
from moderation.models import AuditRun, Finding

pytestmark = pytest.mark.django_db


def reports(count: int, *, severity: str = "warning", start: int = 0) -> list[actions.FindingReport]:
    return [
        actions.FindingReport(key=f"stream:{n}:unwatched", severity=severity, title=f"stream {n}", data={"n": n})
        for n in range(start, start + count)
    ]


def run(task_id: str) -> AuditRun:
    return actions.begin_audit_run("patrol_coverage", task_id=task_id)


def test_new_findings_are_written_together_logged_once_per_chunk_and_alerted(django_capture_on_commit_callbacks):
    first = run("t-1")
    with CaptureQueriesContext(connection) as statements, django_capture_on_commit_callbacks() as callbacks:
        assert actions.record_findings(first, reports(1200)) == 1200
    # Three chunks of 500, each: read the existing, insert in bulk (SQLite splits a bulk insert into a
    # few statements by its variable limit), count on the run, one log line: never a statement a finding.
    writes = [q["sql"] for q in statements.captured_queries if q["sql"].startswith(("INSERT", "UPDATE"))]
    assert sum(sql.startswith('INSERT INTO "accounts_staffactionlog"') for sql in writes) == 3
    assert sum(sql.startswith('UPDATE "moderation_auditrun"') for sql in writes) == 3
    assert len(writes) <= 1200 // 30
    assert Finding.objects.count() == 1200 and set(Finding.objects.values_list("first_run", flat=True)) == {first.pk}
    first.refresh_from_db()
    assert (first.findings_new, first.findings_seen) == (1200, 0)
    logs = StaffActionLog.objects.filter(verb="audit.findings", target_id=str(first.pk))
    assert sorted(len(log.data["findings"]) for log in logs) == [200, 500, 500]
    assert len(callbacks) == 3  # an alert for each new finding, read in one query per chunk


def test_a_rerun_adds_nothing_and_a_later_run_sees_them_again():
    first = run("t-1")
    actions.record_findings(first, reports(10))
    # The same run again (its worker was killed): nothing new, nothing counted twice.
    assert actions.record_findings(first, reports(10)) == 0
    first.refresh_from_db()
    assert (first.findings_new, first.findings_seen) == (10, 0)
    assert set(Finding.objects.values_list("times_seen", flat=True)) == {1}
    # The next run: seen again, one more new, the severity raised where it rose.
    later = run("t-2")
    assert actions.record_findings(later, reports(5, severity="critical") + reports(6, start=5)) == 1
    later.refresh_from_db()
    assert (later.findings_new, later.findings_seen) == (1, 10)
    assert Finding.objects.count() == 11
    assert set(Finding.objects.filter(key__in=[f"stream:{n}:unwatched" for n in range(5)]).values_list(
        "severity", flat=True
    )) == {"critical"}  # fmt: skip
    assert Finding.objects.get(key="stream:7:unwatched").last_run == later
    assert Finding.objects.get(key="stream:7:unwatched").times_seen == 2


def test_a_resolved_finding_found_again_is_a_new_one(admin):
    first = run("t-1")
    actions.record_findings(first, reports(2))
    resolved = Finding.objects.get(key="stream:0:unwatched")
    actions.resolve_finding(resolved.pk, actor=admin, note="已巡查")
    assert actions.record_findings(run("t-2"), reports(2)) == 1
    assert Finding.objects.filter(key="stream:0:unwatched").count() == 2


def test_a_bad_report_writes_nothing():
    bad = [*reports(3), actions.FindingReport(key="", severity="warning", title="no key")]
    with pytest.raises(actions.ModerationError):
        actions.record_findings(run("t-1"), bad)
    with pytest.raises(actions.ModerationError):
        actions.record_findings(run("t-2"), [actions.FindingReport(key="k", severity="apocalyptic", title="t")])
    assert not Finding.objects.exists()
