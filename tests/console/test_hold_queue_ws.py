"""The hold queue over the console WebSocket: held comments arrive live, decided by selection or by stream."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from moderation import actions
from moderation.gate import rules
from moderation.models import Comment, Stream, WebhookDelivery
from tests.console.test_consumer import communicator, receive, session_cookie
from tests.console.test_news_ws import is_type, receive_until

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


async def connect(username: str):
    ws = await communicator(await sync_to_async(session_cookie)(username))
    connected, _code = await ws.connect(timeout=5)
    assert connected
    assert (await receive(ws))["type"] == "hello"
    assert (await receive(ws))["type"] == "snapshot"
    return ws


def live_show(node, key) -> Stream:
    outcome = rules.decide_publish(
        rules.PublishRequest(node=node, key_name=key.issued_key, app="live", client_id="show-1")
    )
    return Stream.objects.get(pk=outcome.stream_id)


def push(stream, *texts) -> list[Comment]:
    items = [
        actions.IncomingComment(
            stream_id=stream.pk, external_id=f"c-{index}-{text}", viewer_id="v-1", text=text, viewer_phone_verified=True
        )
        for index, text in enumerate(texts)
    ]
    return [result.comment for result in actions.receive_comments(items, actor=None)]


@pytest.fixture
def hold_term(admin, settings):
    settings.LIVEWARD_TERMS_REFRESH_SECONDS = 0
    actions.add_term("赌博", category="gambling", action="hold", actor=admin)


async def test_a_patroller_sees_a_held_comment_arrive_and_releases_it(nginx_node, stream_key, patroller, hold_term):
    stream = await sync_to_async(live_show)(nginx_node, stream_key)
    ws = await connect("patroller")
    await ws.send_json_to({"type": "comments.resync"})
    snapshot = await receive_until(ws, is_type("comments.snapshot"))
    assert snapshot["comments"] == [] and "sensitive_term" in snapshot["may_decide"]
    assert "news_pre_review" not in snapshot["may_decide"]

    held, published = await sync_to_async(push)(stream, "一起 赌-博 吧", "主播好")
    frame = await receive_until(ws, lambda f: f.get("type") == "event" and f["event"] == "comments.held")
    (row,) = frame["payload"]["comments"]
    assert (row["id"], row["hold_reason"], row["stream"]) == (held.pk, "sensitive_term", stream.pk)
    assert row["highlights"] == [[3, 6]]  # 赌-博, across the separator
    assert published.status == Comment.Status.PUBLISHED

    await ws.send_json_to(
        {"type": "comments.decide", "request_id": "r-1", "comments": [held.pk], "decision": "release"}
    )
    decided = await receive_until(ws, is_type("comments.decided"))
    assert decided["request_id"] == "r-1" and decided["comments"][0]["status"] == "released"
    assert (await sync_to_async(Comment.objects.get)(pk=held.pk)).status == Comment.Status.RELEASED
    delivery = await sync_to_async(WebhookDelivery.objects.get)(event="comments.decided")
    assert delivery.payload["comments"][0]["comment"] == held.external_id
    await ws.disconnect()


async def test_all_of_a_streams_held_comments_are_rejected_at_once(nginx_node, stream_key, patroller, hold_term):
    stream = await sync_to_async(live_show)(nginx_node, stream_key)
    held = await sync_to_async(push)(stream, "赌博1", "赌博2", "赌博3")
    ws = await connect("patroller")
    await ws.send_json_to({"type": "comments.decide", "request_id": "r-2", "stream": stream.pk, "decision": "reject"})
    decided = await receive_until(ws, is_type("comments.decided"))
    assert sorted(row["id"] for row in decided["comments"]) == sorted(comment.pk for comment in held)
    statuses = await sync_to_async(lambda: set(Comment.objects.values_list("status", flat=True)))()
    assert statuses == {Comment.Status.REJECTED}
    await ws.disconnect()


async def test_a_news_hold_is_not_a_patrollers_to_decide(nginx_node, news_key, approved_now, patroller):
    def news_comment():
        outcome = rules.decide_publish(
            rules.PublishRequest(node=nginx_node, key_name=news_key.issued_key, app="live", client_id="news-1")
        )
        return push(Stream.objects.get(pk=outcome.stream_id), "新闻评论")[0]

    comment = await sync_to_async(news_comment)()
    ws = await connect("patroller")
    await ws.send_json_to(
        {"type": "comments.decide", "request_id": "r-3", "comments": [comment.pk], "decision": "release"}
    )
    error = await receive_until(ws, is_type("error"))
    assert (error["code"], error["request_id"]) == ("forbidden", "r-3")
    assert (await sync_to_async(Comment.objects.get)(pk=comment.pk)).status == Comment.Status.HELD
    await ws.disconnect()


async def test_bad_decide_frames_are_refused(patroller):
    ws = await connect("patroller")
    for frame in (
        {"type": "comments.decide", "request_id": "b-1", "decision": "release"},
        {"type": "comments.decide", "request_id": "b-2", "comments": [], "decision": "release"},
        {"type": "comments.decide", "request_id": "b-3", "comments": ["x"], "decision": "release"},
        {"type": "comments.decide", "request_id": "b-4", "comments": [1], "decision": "maybe"},
    ):
        await ws.send_json_to(frame)
        error = await receive_until(ws, is_type("error"))
        assert error["code"] in {"missing_field", "bad_field"}
    await ws.disconnect()
