"""The audits page: schedules edited without a deploy, runs on demand, findings handled; alerts live."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django_celery_beat.models import PeriodicTask

from accounts.actions import check_in
from accounts.models import StaffActionLog
from moderation import actions
from moderation.models import AuditRun, Finding
from moderation.tasks.audits import run_audit
from tests.news_world import days


def expiring_licence(admin):
    actions.record_platform_licence(
        "P-SOON", scopes=["platform"], valid_from=days(-9), valid_until=days(5), actor=admin
    )


@pytest.mark.django_db
def test_the_audits_page_shows_schedules_runs_and_findings(client, admin, inspector, outsider):
    actions.ensure_audit_schedules()
    expiring_licence(admin)
    run_audit.apply(args=["news_licences"]).get()
    client.force_login(inspector)
    body = client.get("/audits/").content.decode()
    assert "P-SOON" in body and "* * * * *" in body and "*/5 * * * *" in body
    assert "/audits/news_licences/run" not in body  # an inspector may not run one
    run = AuditRun.objects.get()
    assert client.get(f"/audits/runs/{run.pk}/?format=json").json()["outcome"] == "findings"
    assert "P-SOON" in client.get(f"/audits/runs/{run.pk}/").content.decode()
    client.force_login(outsider)
    assert client.get("/audits/").status_code in (302, 403)


@pytest.mark.django_db
def test_a_compliance_admin_edits_a_schedule_and_beat_reads_it_from_the_database(client, admin, patroller):
    actions.ensure_audit_schedules()
    client.force_login(admin)
    response = client.post("/audits/blacklist_sweep/schedule", {"crontab": "0 */2 * * 1-5", "enabled": "on"})
    assert response.status_code == 302
    task = PeriodicTask.objects.get(name="audit:blacklist_sweep")
    crontab = task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week, task.enabled) == ("0", "*/2", "1-5", True)
    assert StaffActionLog.objects.filter(verb="audit.schedule", actor=admin).exists()
    client.post("/audits/blacklist_sweep/schedule", {"crontab": "0 3 * * *"})
    assert not PeriodicTask.objects.get(name="audit:blacklist_sweep").enabled  # unticked: paused
    client.force_login(patroller)
    assert client.post("/audits/blacklist_sweep/schedule", {"crontab": "* * * * *"}).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    "crontab", ["every minute", "* * * *", "61 * * * *", "* 25 * * *", "*/0 * * * *", "* * * * * *"]
)
def test_a_schedule_that_is_not_a_valid_crontab_is_a_form_error_and_changes_nothing(client, admin, crontab):
    actions.ensure_audit_schedules()
    before = PeriodicTask.objects.get(name="audit:news_licences").crontab_id
    client.force_login(admin)
    response = client.post("/audits/news_licences/schedule", {"crontab": crontab, "enabled": "on"})
    assert response.status_code == 400
    assert PeriodicTask.objects.get(name="audit:news_licences").crontab_id == before
    assert not StaffActionLog.objects.filter(verb="audit.schedule").exists()


@pytest.mark.django_db
def test_an_unknown_audit_is_a_404(client, admin):
    client.force_login(admin)
    assert client.get("/audits/nope/schedule").status_code == 404
    assert client.post("/audits/nope/run").status_code == 404
    assert not AuditRun.objects.exists()


@pytest.mark.django_db
def test_run_now_queues_a_run_for_the_worker(client, admin, patroller):
    client.force_login(patroller)
    assert client.post("/audits/news_licences/run").status_code == 403
    client.force_login(admin)
    response = client.post("/audits/news_licences/run")
    run = AuditRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/audits/runs/{run.pk}/"
    assert run.outcome == AuditRun.Outcome.QUEUED and run.requested_by == admin


@pytest.mark.django_db
def test_findings_are_acknowledged_and_resolved_from_the_page(client, admin, patroller, inspector):
    expiring_licence(admin)
    run_audit.apply(args=["news_licences"]).get()
    finding = Finding.objects.get()
    client.force_login(inspector)
    assert client.post(f"/audits/findings/{finding.pk}/acknowledge").status_code == 403
    client.force_login(patroller)
    answer = client.post(f"/audits/findings/{finding.pk}/acknowledge", headers={"X-Requested-With": "fetch"})
    assert answer.json()["status"] == "acknowledged" and answer.json()["acknowledged_by"] == "巡查员小王"
    again = client.post(f"/audits/findings/{finding.pk}/acknowledge", headers={"X-Requested-With": "fetch"})
    assert again.status_code == 409
    client.post(f"/audits/findings/{finding.pk}/resolve", {"note": "已通知续期"})
    finding.refresh_from_db()
    assert finding.status == "resolved" and finding.resolved_by == patroller
    assert client.post(f"/audits/findings/{finding.pk}/resolve", {"note": "bad\x00"}).status_code == 400
    assert client.post("/audits/findings/999999/resolve", headers={"X-Requested-With": "fetch"}).status_code == 404


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_new_findings_reach_the_consoles_of_the_staff_on_duty(admin, patroller):
    from tests.console.test_news_ws import connect, receive_until

    await sync_to_async(check_in)(patroller)
    on_duty = await connect("patroller")
    off_duty = await connect("admin")  # a compliance admin, but not checked in
    await sync_to_async(expiring_licence)(admin)
    await sync_to_async(lambda: run_audit.apply(args=["news_licences"]).get())()
    alert = await receive_until(on_duty, lambda f: f.get("type") == "event" and f["event"] == "audit.finding")
    assert alert["payload"]["severity"] == "critical" and "P-SOON" in alert["payload"]["title"]
    finding_id = alert["payload"]["id"]
    await sync_to_async(actions.acknowledge_finding)(finding_id, actor=patroller)
    changed = await receive_until(on_duty, lambda f: f.get("type") == "event" and f["event"] == "audit.finding")
    assert changed["payload"]["status"] == "acknowledged" and changed["payload"]["acknowledged_by"] == "巡查员小王"
    # The admin's console was never in the audit group: only the licence alert of the compliance group.
    frame = await receive_until(off_duty, lambda f: f.get("type") == "event")
    assert frame["event"] == "licence.expiring"
    assert await off_duty.receive_nothing(timeout=0.5)
    # A console connecting later gets the unresolved findings in its hello.
    from tests.console.test_consumer import communicator, receive, session_cookie

    later = await communicator(await sync_to_async(session_cookie)("patroller"))
    await later.connect(timeout=5)
    hello = await receive(later)
    assert [alert["id"] for alert in hello["alerts"]] == [finding_id]
    for ws in (on_duty, off_duty, later):
        await ws.disconnect()
