"""Viewer measures from the pages: the muted-viewer list, the stream page's measures, the hold queue's frames."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from moderation import actions
from moderation.gate import rules
from moderation.models import Comment, Stream, ViewerMute
from tests.console.test_hold_queue_ws import connect
from tests.console.test_news_ws import is_type, receive_until


def live(node, key) -> Stream:
    outcome = rules.decide_publish(
        rules.PublishRequest(node=node, key_name=key.issued_key, app="live", client_id="m-1")
    )
    return Stream.objects.get(pk=outcome.stream_id)


@pytest.mark.django_db
def test_a_patroller_mutes_from_the_list_page_and_lifts_it(client, patroller, nginx_node, stream_key):
    stream = live(nginx_node, stream_key)
    client.force_login(patroller)
    response = client.post(
        "/comments/mutes/", {"viewer_id": "v-7", "stream": stream.pk, "minutes": 30, "reason": "fraud", "note": ""}
    )
    assert response.status_code == 302
    page = client.get("/comments/mutes/").content.decode()
    assert "v-7" in page
    mute = ViewerMute.objects.get()
    assert client.post(f"/comments/mutes/{mute.pk}/lift", {"note": ""}).status_code == 302
    mute.refresh_from_db()
    assert mute.lifted_at is None  # no reason, no lift
    client.post(f"/comments/mutes/{mute.pk}/lift", {"note": "误封"})
    mute.refresh_from_db()
    assert (
        mute.lifted_at is not None and f'data-mute="{mute.pk}"' not in client.get("/comments/mutes/").content.decode()
    )


@pytest.mark.django_db
def test_an_unknown_stream_is_a_form_error(client, patroller):
    client.force_login(patroller)
    response = client.post("/comments/mutes/", {"viewer_id": "v-7", "stream": 99999, "minutes": 30, "reason": "fraud"})
    assert response.status_code == 200 and not ViewerMute.objects.exists()


@pytest.mark.django_db
def test_the_stream_page_mutes_and_deletes_recent_comments(client, patroller, nginx_node, stream_key):
    stream = live(nginx_node, stream_key)
    actions.receive_comment(
        stream, external_id="s-1", viewer_id="v-8", text="广告", viewer_phone_verified=True, actor=None
    )
    client.force_login(patroller)
    assert "viewer-measures" in client.get(f"/streams/{stream.pk}/").content.decode()
    client.post(
        f"/streams/{stream.pk}/viewer-measure",
        {"viewer_id": "v-8", "minutes": 60, "reason": "fraud", "measure": "delete"},
    )
    assert Comment.objects.get().status == Comment.Status.REMOVED
    client.post(
        f"/streams/{stream.pk}/viewer-measure",
        {"viewer_id": "v-8", "minutes": 60, "reason": "fraud", "measure": "mute"},
    )
    assert ViewerMute.objects.get().stream == stream


@pytest.mark.django_db
def test_an_inspector_takes_no_measure(client, inspector):
    client.force_login(inspector)
    assert client.get("/comments/mutes/").status_code == 403


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_the_hold_queue_mutes_a_viewer_by_frame(nginx_node, stream_key, patroller):
    stream = await sync_to_async(live)(nginx_node, stream_key)
    ws = await connect("patroller")
    await ws.send_json_to(
        {
            "type": "viewer.mute",
            "request_id": "m-1",
            "viewer": "v-9",
            "stream": stream.pk,
            "minutes": 10,
            "reason": "fraud",
        }
    )
    muted = await receive_until(ws, is_type("viewer.muted"))
    assert muted["mute"]["viewer"] == "v-9" and muted["request_id"] == "m-1"
    await ws.send_json_to(
        {"type": "viewer.mute", "request_id": "m-2", "viewer": "v-9", "minutes": 0, "reason": "fraud"}
    )
    assert (await receive_until(ws, is_type("error")))["code"] == "bad_field"
    comment = await sync_to_async(actions.receive_comment)(
        stream, external_id="w-1", viewer_id="v-9", text="又来了", viewer_phone_verified=True, actor=None
    )
    assert comment.status == Comment.Status.BLOCKED
    await ws.disconnect()


@pytest.mark.django_db
def test_a_patroller_switches_a_room_to_hold_all_and_back(client, patroller, nginx_node, stream_key, settings):
    settings.LIVEWARD_COMMENT_PRESSURE_PER_MINUTE = 3
    stream = live(nginx_node, stream_key)
    for index in range(4):
        actions.receive_comment(
            stream, external_id=f"p-{index}", viewer_id="v", text="好", viewer_phone_verified=index != 0, actor=None
        )
    client.force_login(patroller)
    page = client.get(f"/streams/{stream.pk}/").content.decode()
    assert "Room under pressure" in page or "直播间评论压力大" in page
    assert "0.25" in page  # the blocked share: one unverified viewer of four
    client.post(f"/streams/{stream.pk}/comment-slow-mode", {"hold_all": "1"})
    held = actions.receive_comment(
        stream, external_id="p-9", viewer_id="v", text="好", viewer_phone_verified=True, actor=None
    )
    assert (held.status, held.hold_reason) == (Comment.Status.HELD, "slow_mode")
    client.post(f"/streams/{stream.pk}/comment-slow-mode", {"hold_all": "0"})
    again = actions.receive_comment(
        stream, external_id="p-10", viewer_id="v", text="好", viewer_phone_verified=True, actor=None
    )
    assert again.status == Comment.Status.PUBLISHED


@pytest.mark.django_db
def test_a_news_reviewer_may_not_switch_slow_mode(client, news_reviewer, nginx_node, stream_key):
    stream = live(nginx_node, stream_key)
    client.force_login(news_reviewer)
    assert client.post(f"/streams/{stream.pk}/comment-slow-mode", {"hold_all": "1"}).status_code == 403
    stream.refresh_from_db()
    assert stream.comments_hold_all is False
