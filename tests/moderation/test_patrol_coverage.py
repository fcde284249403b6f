"""Patrol coverage and staffing audits (Art. 7): unwatched streams found, staffing measured against its threshold."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

import pytest
from celery import current_app

from accounts.actions import check_in, check_out
from moderation import actions
from moderation.models import AuditRun, Finding, ReasonCode
from moderation.tasks.audits import run_audit

pytestmark = pytest.mark.django_db


def live(stream_key, node, *, minutes_ago: float, client_id: str = "1"):
    return actions.open_stream(
        stream_key, published_name=stream_key.issued_key,
        node=node, app="live", client_id=client_id, addr="203.0.113.9", title="深夜食堂直播",
        at=timezone.now() - timedelta(minutes=minutes_ago),
    )  # fmt: skip


def findings(audit: str) -> list[Finding]:
    return list(Finding.objects.filter(audit=audit).order_by("id"))


def test_a_stream_unwatched_past_its_interval_is_a_finding_naming_the_staff_on_duty(stream_key, nginx_node, patroller):
    check_in(patroller)
    stream = live(stream_key, nginx_node, minutes_ago=15)  # entertainment: 600 s
    summary = run_audit.apply(args=["patrol_coverage"]).get()
    assert summary == {"live": 1, "overdue": 1, "covered": 0}
    (finding,) = findings("patrol_coverage")
    assert finding.stream == stream and finding.key == f"stream:{stream.pk}:unwatched"
    assert finding.severity == Finding.Severity.WARNING and finding.data["on_duty"] == ["巡查员小王"]
    assert "巡查员小王" in finding.title
    # Still unwatched on the next run: the same finding, seen again.
    run_audit.apply(args=["patrol_coverage"]).get()
    assert Finding.objects.get().times_seen == 2


def test_a_stream_unwatched_for_twice_its_interval_is_critical(stream_key, nginx_node):
    live(stream_key, nginx_node, minutes_ago=25)
    run_audit.apply(args=["patrol_coverage"]).get()
    assert Finding.objects.get().severity == Finding.Severity.CRITICAL


def test_streams_within_their_interval_are_quiet(stream_key, nginx_node):
    live(stream_key, nginx_node, minutes_ago=5)
    assert run_audit.apply(args=["patrol_coverage"]).get()["overdue"] == 0
    assert AuditRun.objects.get().outcome == AuditRun.Outcome.CLEAN


@pytest.mark.parametrize("watch", ["mark", "warning", "claim"])
def test_a_mark_an_action_or_an_open_claim_counts_as_watched(stream_key, nginx_node, patroller, watch):
    stream = live(stream_key, nginx_node, minutes_ago=30)
    check_in(patroller)
    if watch == "mark":
        actions.mark_patrolled(stream, actor=patroller)
    elif watch == "warning":
        actions.warn_publisher(stream, actor=patroller, reason=ReasonCode.INSULT_DEFAMATION, note="注意言辞")
    else:
        assert actions.claim_streams(patroller, limit=5) == [stream.pk]
    assert run_audit.apply(args=["patrol_coverage"]).get()["overdue"] == 0
    assert not Finding.objects.exists()


def test_nobody_on_duty_while_streams_are_live_is_critical(stream_key, nginx_node):
    live(stream_key, nginx_node, minutes_ago=1)
    summary = run_audit.apply(args=["staffing"]).get()
    assert summary["live_streams"] == 1 and summary["on_duty"] == 0
    (finding,) = findings("staffing")
    assert finding.key == "staffing:nobody-on-duty" and finding.severity == Finding.Severity.CRITICAL


def test_staffing_within_the_threshold_is_quiet_and_above_it_a_warning(stream_key, nginx_node, patroller, settings):
    check_in(patroller)
    live(stream_key, nginx_node, minutes_ago=1)
    summary = run_audit.apply(args=["staffing"]).get()
    assert summary["load_per_patroller"] == 1.0 and not Finding.objects.exists()
    settings.LIVEWARD_STAFFING_MAX_LOAD = 0.5
    run_audit.apply(args=["staffing"]).get()
    (finding,) = findings("staffing")
    assert finding.key == "staffing:over-threshold" and finding.data["names"] == ["巡查员小王"]


def test_no_live_stream_and_nobody_on_duty_is_quiet(db):
    run_audit.apply(args=["staffing"]).get()
    assert not Finding.objects.exists()


def test_the_last_shift_ending_while_streams_are_live_runs_the_staffing_audit_at_once(
    stream_key, nginx_node, patroller, django_capture_on_commit_callbacks
):
    live(stream_key, nginx_node, minutes_ago=1)
    check_in(patroller)
    previous = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            check_out(patroller, handover_note="交班")
    finally:
        current_app.conf.task_always_eager = previous
    run = AuditRun.objects.get(audit="staffing")
    assert run.is_finished and Finding.objects.get().key == "staffing:nobody-on-duty"


def test_staff_who_never_checked_in_are_not_on_duty(stream_key, nginx_node, patroller, admin):
    live(stream_key, nginx_node, minutes_ago=1)
    summary = run_audit.apply(args=["staffing"]).get()
    assert summary["on_duty"] == 0
    assert Finding.objects.get().key == "staffing:nobody-on-duty"
