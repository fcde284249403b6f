"""Review before publication: who decides what, in which order; two editors at once; the audit on beat."""

from __future__ import annotations

import threading
from datetime import timedelta

from django.db import connection
from django.utils import timezone

import pytest

from accounts.actions import create_staff_user, ensure_role_groups
from accounts.models import StaffActionLog
from accounts.roles import Role
from moderation import actions
from moderation.gate import rules
from moderation.models import ModerationAction, NewsApplication, NewsDecision, PublisherLicence, Stream
from moderation.tasks.news import audit_news
from tests.conftest import PASSWORD
from tests.news_world import apply_for, approve, days

Status = NewsApplication.Status


def go_live(node, key, client_id="n1") -> Stream:
    outcome = rules.decide_publish(
        rules.PublishRequest(node=node, key_name=key.issued_key, app="live", client_id=client_id)
    )
    assert outcome.allowed, outcome
    return Stream.objects.get(pk=outcome.stream_id)


@pytest.mark.django_db
def test_reviewer_recommends_and_the_editor_approves_with_a_note(news_key, platform_licence, news_reviewer,
                                                                 editor_in_chief):  # fmt: skip
    application = apply_for(news_key)
    actions.decide_news_application(application, kind="recommend", actor=news_reviewer, note="来源可靠")
    approved = approve(application, editor_in_chief)
    assert approved.status == Status.APPROVED
    assert approved.platform_licence == platform_licence and approved.publisher_licence == news_key.publisher.licence
    steps = [(d.kind, d.actor, d.note) for d in NewsDecision.objects.filter(application=application)]
    assert steps == [
        ("submit", None, ""),
        ("recommend", news_reviewer, "来源可靠"),
        ("approve", editor_in_chief, "同意"),
    ]
    assert StaffActionLog.objects.filter(verb="news_application.approve", actor=editor_in_chief).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["approve", "reject", "revoke"])
def test_only_the_editor_in_chief_approves_rejects_or_revokes(news_key, platform_licence, news_reviewer, patroller,
                                                              kind):  # fmt: skip
    application = apply_for(news_key)
    for user in (news_reviewer, patroller):
        with pytest.raises(actions.ModerationError) as refused:
            actions.decide_news_application(application, kind=kind, actor=user, note="x")
        assert refused.value.code == "forbidden"
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED and application.decisions.count() == 1


@pytest.mark.django_db
def test_a_patroller_cannot_recommend(news_key, patroller):
    with pytest.raises(actions.ModerationError) as refused:
        actions.decide_news_application(apply_for(news_key), kind="recommend", actor=patroller)
    assert refused.value.code == "forbidden"


@pytest.mark.django_db
def test_rejecting_needs_a_note_and_a_second_decision_is_a_conflict(news_key, platform_licence, editor_in_chief):
    application = apply_for(news_key)
    with pytest.raises(actions.ModerationError) as no_note:
        actions.decide_news_application(application, kind="reject", actor=editor_in_chief, note="  ")
    assert no_note.value.code == "missing_field"
    actions.decide_news_application(application, kind="reject", actor=editor_in_chief, note="选题不符")
    for kind in ("reject", "approve", "recommend"):
        with pytest.raises(actions.ModerationError) as again:
            actions.decide_news_application(application, kind=kind, actor=editor_in_chief, note="再来")
        assert again.value.code == "conflict"
    application.refresh_from_db()
    assert application.status == Status.REJECTED and application.decisions.count() == 2


@pytest.mark.django_db
def test_a_stale_copy_cannot_overwrite_a_decision(news_key, platform_licence, editor_in_chief, news_reviewer):
    application = apply_for(news_key)
    stale = NewsApplication.objects.get(pk=application.pk)
    approve(application, editor_in_chief)
    with pytest.raises(actions.ModerationError) as refused:
        actions.decide_news_application(stale, kind="return", actor=news_reviewer, note="补充材料")
    assert refused.value.code == "conflict" and "approved" in str(refused.value)


@pytest.mark.django_db
def test_a_rolled_back_decision_sends_nothing(news_key, platform_licence, editor_in_chief,
                                              django_capture_on_commit_callbacks):  # fmt: skip
    from django.db import transaction

    application = apply_for(news_key)
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        approve(application, editor_in_chief)
        raise RuntimeError("roll back")
    assert callbacks == []
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED


@pytest.mark.django_db(transaction=True)
def test_two_editors_deciding_at_once_one_wins_and_the_other_is_told(news_key, platform_licence, editor_in_chief):
    ensure_role_groups()
    second = create_staff_user("editor2", role=Role.EDITOR_IN_CHIEF, password=PASSWORD)
    application = apply_for(news_key)
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def decide(editor, kind):
        try:
            barrier.wait(timeout=5)
            actions.decide_news_application(application, kind=kind, actor=editor, note=kind)
            results[kind] = "ok"
        except actions.ModerationError as exc:
            results[kind] = exc.code
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(editor_in_chief, "approve")),
        threading.Thread(target=decide, args=(second, "reject")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(results.values()) == ["conflict", "ok"], results
    application.refresh_from_db()
    winner = next(kind for kind, result in results.items() if result == "ok")
    assert application.status == {"approve": Status.APPROVED, "reject": Status.REJECTED}[winner]
    assert application.decisions.count() == 2


# --- the audit --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_audit_alerts_once_on_licences_expiring_within_30_days(news_key, admin, platform_licence):
    soon = actions.submit_publisher_licence(
        news_key.publisher, number="SOON-1", scopes=["gathering"], valid_from=days(-300), valid_until=days(20),
        actor=None,
    )  # fmt: skip
    actions.verify_publisher_licence(soon, actor=admin, verified=True)
    actions.record_platform_licence(
        "P-SOON", scopes=["platform"], valid_from=days(-3), valid_until=days(29), actor=admin
    )
    actions.record_platform_licence(
        "P-LATER", scopes=["platform"], valid_from=days(-3), valid_until=days(31), actor=admin
    )
    assert audit_news.apply().get()["alerted"] == 2
    logged = StaffActionLog.objects.filter(verb="licence.expiring")
    assert sorted(entry.data["number"] for entry in logged) == ["P-SOON", "SOON-1"]
    assert audit_news.apply().get()["alerted"] == 0, "alerted twice"


@pytest.mark.django_db
def test_an_expired_licence_lapses_its_approvals_and_cuts_the_stream(nginx_node, news_key, approved_now):
    stream = go_live(nginx_node, news_key)
    PublisherLicence.objects.filter(pk=approved_now.publisher_licence_id).update(valid_until=days(-1))
    summary = audit_news.apply().get()
    assert summary["lapsed"] == 1 and summary["cut"] == 0  # the lapse cut it already
    approved_now.refresh_from_db()
    assert approved_now.status == Status.LAPSED
    action = ModerationAction.objects.get(kind=ModerationAction.Kind.NEWS_CUT, stream=stream)
    assert action.actor is None and "expired" in action.note
    assert audit_news.apply().get() == {"alerted": 0, "lapsed": 0, "cut": 0}, "not idempotent"


@pytest.mark.django_db
def test_the_audit_cuts_a_news_stream_live_without_a_covering_approval(nginx_node, news_key, approved_now):
    stream = go_live(nginx_node, news_key)
    NewsApplication.objects.filter(pk=approved_now.pk).update(window_end=timezone.now() - timedelta(seconds=1))
    assert audit_news.apply().get()["cut"] == 1
    action = ModerationAction.objects.get(kind=ModerationAction.Kind.NEWS_CUT)
    assert action.stream == stream and action.media_status == ModerationAction.MediaStatus.PENDING
    assert audit_news.apply().get()["cut"] == 0, "a second cut while one is pending"


def test_the_audit_is_on_the_beat_schedule_every_minute(db):
    from django_celery_beat.models import PeriodicTask

    actions.ensure_audit_schedules()
    task = PeriodicTask.objects.get(name="audit:news_licences")
    assert task.task == "moderation.tasks.audits.run_audit" and task.args == '["news_licences"]'
    assert (task.crontab.minute, task.crontab.hour, task.enabled) == ("*", "*", True)
