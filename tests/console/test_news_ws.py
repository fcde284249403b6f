"""News review over the console WebSocket: the queue live, decisions by frame, conflicts told, roles checked."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from moderation import actions
from moderation.gate import rules
from moderation.models import Comment, NewsApplication, Stream
from tests.console.test_consumer import communicator, receive, session_cookie
from tests.news_world import apply_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


async def connect(username: str):
    ws = await communicator(await sync_to_async(session_cookie)(username))
    connected, _code = await ws.connect(timeout=5)
    assert connected
    assert (await receive(ws))["type"] == "hello"
    assert (await receive(ws))["type"] == "snapshot"
    return ws


async def receive_until(ws, predicate, *, limit: int = 30) -> dict:
    """Skip queue deltas and other frames until one matches."""
    for _ in range(limit):
        frame = await receive(ws)
        if predicate(frame):
            return frame
    raise AssertionError("no matching frame")


def is_type(kind: str):
    return lambda frame: frame.get("type") == kind


async def test_the_editor_sees_a_new_application_live_and_approves_it(news_key, platform_licence, editor_in_chief):
    ws = await connect("editor")
    await ws.send_json_to({"type": "news.resync"})
    assert (await receive_until(ws, is_type("news.snapshot")))["applications"] == []

    application = await sync_to_async(apply_for)(news_key)
    event = await receive_until(ws, lambda f: f.get("type") == "event" and f["event"] == "news.application")
    row = event["payload"]
    assert (row["id"], row["status"], row["title"]) == (application.pk, "submitted", application.title)
    assert row["publisher"] == {"id": news_key.publisher_id, "name": "财经观察", "credit_level": "A"}

    await ws.send_json_to({"type": "news.decide", "request_id": "d-1", "application": application.pk,
                           "decision": "approve", "note": "同意播出"})  # fmt: skip
    decided = await receive_until(ws, is_type("news.decided"))
    assert decided["request_id"] == "d-1" and decided["application"]["status"] == "approved"

    await ws.send_json_to({"type": "news.decide", "request_id": "d-2", "application": application.pk,
                           "decision": "reject", "note": "晚了"})  # fmt: skip
    error = await receive_until(ws, is_type("error"))
    assert (error["code"], error["request_id"]) == ("conflict", "d-2")
    refreshed = await sync_to_async(NewsApplication.objects.get)(pk=application.pk)
    assert refreshed.status == NewsApplication.Status.APPROVED
    await ws.disconnect()


async def test_a_reviewer_may_recommend_but_not_approve(news_key, news_reviewer):
    application = await sync_to_async(apply_for)(news_key)
    ws = await connect("reviewer")
    await ws.send_json_to({"type": "news.decide", "request_id": "r-1", "application": application.pk,
                           "decision": "approve"})  # fmt: skip
    assert (await receive_until(ws, is_type("error")))["code"] == "forbidden"
    await ws.send_json_to({"type": "news.decide", "request_id": "r-2", "application": application.pk,
                           "decision": "recommend", "note": "建议通过"})  # fmt: skip
    assert (await receive_until(ws, is_type("news.decided")))["application"]["status"] == "recommended"
    await ws.send_json_to({"type": "news.decide", "request_id": "r-3", "application": 999999, "decision": "return"})
    assert (await receive_until(ws, is_type("error")))["code"] == "not_found"
    await ws.send_json_to({"type": "news.decide", "request_id": "r-4", "application": application.pk,
                           "decision": "publish"})  # fmt: skip
    assert (await receive_until(ws, is_type("error")))["code"] == "bad_field"
    await ws.disconnect()


async def test_a_patroller_gets_no_news_frames_and_may_not_decide(news_key, patroller):
    ws = await connect("patroller")
    await ws.send_json_to({"type": "news.resync"})
    assert (await receive_until(ws, is_type("error")))["code"] == "forbidden"
    application = await sync_to_async(apply_for)(news_key)
    await ws.send_json_to({"type": "news.decide", "request_id": "p-1", "application": application.pk,
                           "decision": "recommend"})  # fmt: skip
    assert (await receive_until(ws, is_type("error")))["code"] == "forbidden"
    # Queue deltas may come (the patroller watches the live queue); news events must not.
    frames = []
    while not await ws.receive_nothing(timeout=0.5):
        frames.append(await receive(ws))
    assert not [f for f in frames if f.get("type") == "event" and f["event"].startswith("news.")], frames
    await ws.disconnect()


async def test_held_comments_reach_reviewers_live_and_are_released_by_frame(
    nginx_node, news_key, platform_licence, editor_in_chief, news_reviewer
):
    def live_news_stream() -> Stream:
        application = apply_for(news_key)
        actions.decide_news_application(application, kind="approve", actor=editor_in_chief, note="ok")
        outcome = rules.decide_publish(
            rules.PublishRequest(node=nginx_node, key_name=news_key.issued_key, app="live", client_id="c")
        )
        assert outcome.allowed, outcome
        return Stream.objects.get(pk=outcome.stream_id)

    stream = await sync_to_async(live_news_stream)()
    ws = await connect("reviewer")
    comment = await sync_to_async(actions.receive_comment)(
        stream, external_id="c-77", viewer_id="v-1", text="这条新闻是真的吗？", viewer_phone_verified=True, actor=None
    )
    held = await receive_until(ws, lambda f: f.get("type") == "event" and f["event"] == "comment.held")
    assert held["payload"]["id"] == comment.pk and held["payload"]["text"] == "这条新闻是真的吗？"
    await ws.send_json_to({"type": "comment.decide", "request_id": "c-1", "comment": comment.pk, "decision": "release"})
    decided = await receive_until(ws, is_type("comment.decided"))
    assert decided["comment"]["status"] == "released"
    assert (await sync_to_async(Comment.objects.get)(pk=comment.pk)).status == Comment.Status.RELEASED
    await ws.disconnect()


async def test_compliance_admins_are_alerted_live_to_licences_expiring(admin, news_publisher):
    from moderation.tasks.news import audit_news
    from tests.news_world import days

    ws = await connect("admin")

    def expiring_licence():
        actions.record_platform_licence(
            "P-30", scopes=["platform"], valid_from=days(-9), valid_until=days(12), actor=admin
        )
        return audit_news.apply().get()

    assert (await sync_to_async(expiring_licence)())["alerted"] == 1
    alert = await receive_until(ws, lambda f: f.get("type") == "event" and f["event"] == "licence.expiring")
    assert alert["payload"]["number"] == "P-30" and alert["payload"]["days_left"] == 12
    await ws.disconnect()
