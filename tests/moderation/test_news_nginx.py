"""The news gate on the real thing: nginx-rtmp calling the gate, ffmpeg publishing under a news key."""

from __future__ import annotations

from datetime import timedelta

import pytest

from moderation import actions, mediaservers
from moderation.models import GateDecision, ModerationAction, NewsApplication, PublisherLicence, Stream, hash_stream_key
from tests.media import nginx_rtmp_fixture, wait_until  # noqa: F401 (the nginx_rtmp fixture)
from tests.moderation.test_mediaservers_nginx import go_live
from tests.news_world import apply_for, approve

pytestmark = pytest.mark.media_server
Reason = GateDecision.Reason


def assert_refused(nginx_rtmp, key, reason: str) -> GateDecision:
    publish = nginx_rtmp.publish(key.issued_key)
    assert publish.wait(timeout=10) != 0, f"nginx let the news key in: {publish.stderr()!r}"
    assert not Stream.objects.filter(key=key).exists()
    decision = GateDecision.objects.filter(key_hash=hash_stream_key(key.issued_key)).latest("id")
    assert (decision.allowed, decision.reason, decision.node) == (False, reason, nginx_rtmp.node)
    assert mediaservers.adapter_for(nginx_rtmp.node).live_streams() == []
    return decision


def test_an_unapproved_news_key_is_refused(nginx_rtmp, news_key, platform_licence):
    apply_for(news_key)  # submitted only
    decision = assert_refused(nginx_rtmp, news_key, Reason.NEWS_NOT_APPROVED)
    assert decision.detail == "no approved application for this key"


def test_without_the_platform_licence_an_approved_key_is_refused(nginx_rtmp, news_key, platform_licence,
                                                                  editor_in_chief, admin):  # fmt: skip
    approve(apply_for(news_key), editor_in_chief)
    actions.withdraw_platform_licence(platform_licence, actor=admin, note="注销")
    assert_refused(nginx_rtmp, news_key, Reason.PLATFORM_LICENCE_INVALID)


def test_with_the_publisher_licence_expired_an_approved_key_is_refused(nginx_rtmp, news_key, platform_licence,
                                                                        editor_in_chief):  # fmt: skip
    from tests.news_world import days

    approve(apply_for(news_key), editor_in_chief)
    PublisherLicence.objects.filter(publisher=news_key.publisher).update(valid_until=days(-1))
    decision = assert_refused(nginx_rtmp, news_key, Reason.PUBLISHER_LICENCE_INVALID)
    assert decision.detail.startswith("publisher licence 京新许-A-0099 expired")


def test_outside_the_approved_window_the_key_is_refused(nginx_rtmp, news_key, platform_licence, editor_in_chief):
    application = approve(apply_for(news_key, start_in=timedelta(hours=3)), editor_in_chief)
    decision = assert_refused(nginx_rtmp, news_key, Reason.NEWS_NOT_APPROVED)
    assert decision.detail.startswith(f"application {application.pk}: approved window")


def test_inside_the_approved_window_the_key_goes_live(nginx_rtmp, news_key, platform_licence, editor_in_chief):
    approve(apply_for(news_key), editor_in_chief)
    publish, stream = go_live(nginx_rtmp, news_key)
    assert publish.running and stream.category.is_news


def test_a_revocation_cuts_the_running_publisher(nginx_rtmp, news_key, platform_licence, editor_in_chief):
    application = approve(apply_for(news_key), editor_in_chief)
    publish, stream = go_live(nginx_rtmp, news_key)

    actions.decide_news_application(application, kind="revoke", actor=editor_in_chief, note="撤销：信源存疑")

    assert publish.wait(timeout=10) != 0, "the revocation did not cut ffmpeg"
    action = ModerationAction.objects.get(kind=ModerationAction.Kind.NEWS_CUT, stream=stream)
    assert action.media_status in (ModerationAction.MediaStatus.CONFIRMED, ModerationAction.MediaStatus.GONE)
    wait_until(lambda: not Stream.objects.live().filter(key=news_key).exists(), message="the stream to close")
    stream.refresh_from_db()
    assert stream.end_reason == Stream.EndReason.CUT
    assert_again = nginx_rtmp.publish(news_key.issued_key)
    assert assert_again.wait(timeout=10) != 0, "the revoked key was let back in"


def test_a_stream_running_past_its_window_is_cut_by_on_update(nginx_rtmp, news_key, platform_licence,
                                                               editor_in_chief):  # fmt: skip
    application = approve(apply_for(news_key), editor_in_chief)
    publish, stream = go_live(nginx_rtmp, news_key)
    from django.utils import timezone

    NewsApplication.objects.filter(pk=application.pk).update(window_end=timezone.now())
    assert publish.wait(timeout=15) != 0, "nginx's on_update did not end the stream past its window"
    denial = wait_until(
        lambda: GateDecision.objects.filter(stream=stream, hook="update", allowed=False).first(),
        message="the update denial",
    )
    assert denial.reason == Reason.NEWS_NOT_APPROVED and "has ended" in denial.detail
