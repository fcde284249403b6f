"""The gate for news (Art. 5, 7): both licences in force and in scope, an approved window covering now."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import pytest

from moderation import actions, credit_policy, emergency_scope
from moderation import licences as news_licences
from moderation.gate import rules
from moderation.models import GateDecision, LicenceScope, ModerationAction, NewsApplication, Stream
from tests.moderation.test_gate import allowed_decision_budget, statements
from tests.news_world import apply_for, approve, days

pytestmark = pytest.mark.django_db
Reason = GateDecision.Reason


def publish(node, key, client_id="n1"):
    return rules.decide_publish(
        rules.PublishRequest(node=node, key_name=key.issued_key, app="live", client_id=client_id)
    )


def update(node, key, client_id="n1"):
    return rules.decide_update(
        rules.PublishRequest(node=node, key_name=key.issued_key, app="live", client_id=client_id)
    )


def test_inside_an_approved_window_a_news_key_goes_live(nginx_node, news_key, approved_now):
    outcome = publish(nginx_node, news_key)
    assert outcome.allowed, outcome
    assert Stream.objects.live().get().key == news_key


def test_without_a_platform_licence_news_is_refused_naming_it(nginx_node, news_key, news_publisher):
    outcome = publish(nginx_node, news_key)
    assert (outcome.allowed, outcome.reason, outcome.detail) == (
        False,
        Reason.PLATFORM_LICENCE_INVALID,
        "no platform licence",
    )


def test_an_expired_platform_licence_counts_as_none(nginx_node, news_key, approved_now, admin,
                                                    django_capture_on_commit_callbacks):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        actions.withdraw_platform_licence(approved_now.platform_licence, actor=admin, note="注销")
        actions.record_platform_licence(
            "京网新许字-OLD", scopes=[LicenceScope.PLATFORM], valid_from=days(-800), valid_until=days(-1), actor=admin
        )
    outcome = publish(nginx_node, news_key)
    assert outcome.reason == Reason.PLATFORM_LICENCE_INVALID
    assert outcome.detail == f"platform licence 京网新许字-OLD expired {days(-1).isoformat()}"


def test_a_platform_licence_without_the_platform_scope_counts_as_none(nginx_node, news_key, news_publisher, admin):
    actions.record_platform_licence(
        "京网新许字-0002", scopes=[LicenceScope.GATHERING], valid_from=days(-1), valid_until=days(30), actor=admin
    )
    outcome = publish(nginx_node, news_key)
    assert outcome.reason == Reason.PLATFORM_LICENCE_INVALID and "lacks scope platform" in outcome.detail


def test_an_unverified_publisher_licence_counts_as_none(nginx_node, news, platform_licence, agreement):
    from tests.conftest import make_publisher

    publisher = make_publisher("acct-news-2", "新闻小编")
    actions.submit_publisher_licence(
        publisher, number="X-1", scopes=["gathering"], valid_from=days(-1), valid_until=days(10), actor=None
    )
    key = actions.issue_stream_key(publisher, category=news)
    outcome = publish(nginx_node, key)
    assert (outcome.reason, outcome.detail) == (
        Reason.PUBLISHER_LICENCE_INVALID,
        "publisher licence X-1 is not verified",
    )


def test_a_news_key_without_an_approved_application_is_refused(nginx_node, news_key, platform_licence):
    application = apply_for(news_key)  # submitted, not decided
    outcome = publish(nginx_node, news_key)
    assert (outcome.reason, outcome.detail) == (Reason.NEWS_NOT_APPROVED, "no approved application for this key")
    assert application.status == NewsApplication.Status.SUBMITTED
    assert not Stream.objects.exists()


def test_before_the_approved_window_the_detail_names_it(nginx_node, news_key, platform_licence, editor_in_chief):
    application = approve(apply_for(news_key, start_in=timedelta(hours=2)), editor_in_chief)
    outcome = publish(nginx_node, news_key)
    assert outcome.reason == Reason.NEWS_NOT_APPROVED
    assert outcome.detail.startswith(f"application {application.pk}: approved window ")
    assert outcome.detail.endswith("has not started")
    decision = GateDecision.objects.latest("id")
    assert (decision.allowed, decision.reason, decision.detail) == (False, Reason.NEWS_NOT_APPROVED, outcome.detail)


def test_a_reposted_application_needs_the_reposting_scope(nginx_node, news, platform_licence, agreement, admin,
                                                         editor_in_chief):  # fmt: skip
    from tests.conftest import make_publisher

    publisher = make_publisher("acct-news-3", "转载小站")
    licence = actions.submit_publisher_licence(
        publisher, number="G-7", scopes=["gathering"], valid_from=days(-1), valid_until=days(100), actor=None
    )
    actions.verify_publisher_licence(licence, actor=admin, verified=True)
    key = actions.issue_stream_key(publisher, category=news)
    application = apply_for(key, origin="reposted", sources=[("新华社", "https://www.news.cn/a.html")])
    with pytest.raises(actions.ModerationError) as refused:
        approve(application, editor_in_chief)
    assert refused.value.code == "licence_invalid" and "lacks scope reposting" in str(refused.value)
    application.refresh_from_db()
    assert application.status == NewsApplication.Status.SUBMITTED


def test_a_stream_past_its_window_is_cut_on_update(nginx_node, news_key, approved_now):
    assert publish(nginx_node, news_key).allowed
    assert update(nginx_node, news_key).allowed
    NewsApplication.objects.filter(pk=approved_now.pk).update(window_end=timezone.now() - timedelta(seconds=1))
    outcome = update(nginx_node, news_key)
    assert (outcome.allowed, outcome.reason) == (False, Reason.NEWS_NOT_APPROVED)
    assert "has ended" in outcome.detail
    stream = Stream.objects.get()
    assert stream.end_reason == Stream.EndReason.GATE_DENIED


def test_non_news_keys_keep_the_two_statement_budget(nginx_node, stream_key, news_key, approved_now):
    rules.authenticate_node("edge-1", "node-secret-for-tests", nginx_node.kind)
    publish(nginx_node, news_key, "warm")  # the first decision on a connection prepares its statements
    credit_policy.current_policy()  # the process's cached copy, loaded once (moderation/credit_policy.py)
    emergency_scope.in_force()  # likewise the emergencies in force (moderation/emergency_scope.py)
    with CaptureQueriesContext(connection) as queries:
        assert publish(nginx_node, stream_key, "budget").allowed
    assert len(statements(queries)) == allowed_decision_budget(), statements(queries)


def test_the_platform_licence_is_cached_and_forgotten_when_it_changes(nginx_node, news_key, approved_now, admin,
                                                                     django_capture_on_commit_callbacks):  # fmt: skip
    publish(nginx_node, news_key, "warm")
    with CaptureQueriesContext(connection) as queries:
        assert publish(nginx_node, news_key, "c2").allowed
    assert not any("platformlicence" in q["sql"].lower() for q in queries), "the platform licence was read again"
    with django_capture_on_commit_callbacks(execute=True):
        actions.withdraw_platform_licence(approved_now.platform_licence, actor=admin, note="吊销")
    assert news_licences.platform_licences() == []
    assert publish(nginx_node, news_key, "c3").reason == Reason.PLATFORM_LICENCE_INVALID


def test_revoking_an_approval_cuts_the_live_stream_the_way_a_block_does(nginx_node, news_key, approved_now,
                                                                       editor_in_chief):  # fmt: skip
    publish(nginx_node, news_key)
    stream = Stream.objects.live().get()
    actions.decide_news_application(approved_now, kind="revoke", actor=editor_in_chief, note="内容有误")
    action = ModerationAction.objects.get(kind=ModerationAction.Kind.NEWS_CUT)
    assert (action.stream, action.actor, action.reason) == (stream, editor_in_chief, "unlicensed_news")
    # The test node does not answer: the cut stays pending and Celery retries, like a block's.
    assert action.media_status == ModerationAction.MediaStatus.PENDING
    assert action.evidence.filter(kind="metadata").exists()
    assert publish(nginx_node, news_key, "again").reason == Reason.NEWS_NOT_APPROVED
