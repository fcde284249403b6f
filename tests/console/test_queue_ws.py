"""The patrol queue over the WebSocket: snapshot windows, actions, idempotency, roles, bad frames."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

import pytest
from asgiref.sync import sync_to_async

from accounts.actions import set_staff_role
from accounts.models import StaffActionLog
from accounts.roles import Role
from moderation import actions
from moderation.gate import rules
from moderation.models import Evidence, GateDecision, ModerationAction, Publisher, Stream, StreamKey
from tests.conftest import make_publisher
from tests.console.test_consumer import communicator, open_through_the_gate, receive, session_cookie

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
TIMEOUT = 5


async def connect(username: str):
    ws = await communicator(await sync_to_async(session_cookie)(username))
    connected, _code = await ws.connect(timeout=TIMEOUT)
    assert connected
    hello = await receive(ws)
    snapshot = await receive(ws)
    assert (hello["type"], snapshot["type"]) == ("hello", "snapshot")
    return ws, snapshot


async def until(ws, frame_type: str) -> dict:
    """Skip deltas until a frame of this type arrives."""
    for _ in range(20):
        frame = await receive(ws)
        if frame["type"] == frame_type:
            return frame
    raise AssertionError(f"no {frame_type} frame")


async def until_delta(ws, event: str) -> dict:
    """Skip other frames and deltas (e.g. the fixture's stream.opened) until this event's delta."""
    for _ in range(20):
        frame = await until(ws, "delta")
        if frame["event"] == event:
            return frame
    raise AssertionError(f"no {event} delta")


def action_frame(stream_id: int, kind: str, request_id: str, **extra) -> dict:
    return {"type": "action", "request_id": request_id, "kind": kind, "stream": stream_id, **extra}


@pytest.fixture
def live_stream(nginx_node, stream_key):
    return Stream.objects.get(pk=open_through_the_gate(stream_key.issued_key))


# --- snapshot windows -------------------------------------------------------------------------


async def test_snapshot_orders_by_priority_and_pages(
    patroller, nginx_node, agreement, entertainment, news, news_key, platform_licence, editor_in_chief
):
    def world():
        from tests.news_world import apply_for, approve

        for index, category in enumerate([entertainment, news, entertainment]):
            if category.is_news:  # a licensed news publisher with an approval covering now
                key = news_key
                approve(apply_for(key), editor_in_chief)
            else:
                publisher = make_publisher(f"w-{index}", f"主播{index}")
                key = actions.issue_stream_key(publisher, category=category, default_title=f"直播{index}")
            open_through_the_gate(key.issued_key) if index == 0 else gate_publish(key.issued_key, f"c{index}")

    await sync_to_async(world)()
    ws, snapshot = await connect("patroller")
    assert snapshot["total"] == 3
    assert snapshot["streams"][0]["category"]["slug"] == "news"  # tier 1 first
    await ws.send_json_to({"type": "resync", "offset": 1, "limit": 1})
    window = await until(ws, "snapshot")
    assert (window["total"], window["offset"], len(window["streams"])) == (3, 1, 1)
    await ws.send_json_to({"type": "resync", "category": "news"})
    filtered = await until(ws, "snapshot")
    assert filtered["total"] == 1 and filtered["filters"]["category"] == "news"
    await ws.disconnect()


def gate_publish(key: str, client_id: str) -> None:
    from urllib.parse import urlencode

    from django.test import Client

    from tests.conftest import NODE_SECRET
    from tests.moderation.test_gate import publish_form

    response = Client().post(
        f"/gate/nginx-rtmp/edge-1/{NODE_SECRET}/on_publish",
        urlencode(publish_form(key, client_id)),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "resync", "limit": 0},
        {"type": "resync", "limit": 5000},
        {"type": "resync", "offset": "x"},
        {"type": "resync", "category": ["news"]},
    ],
)
async def test_bad_resync_is_refused(patroller, frame):
    ws, _snapshot = await connect("patroller")
    await ws.send_json_to(frame)
    assert (await receive(ws))["code"] == "bad_field"
    await ws.disconnect()


# --- actions ----------------------------------------------------------------------------------


async def test_mark_patrolled_acks_and_every_console_sees_it(patroller, admin, live_stream):
    ws, _ = await connect("patroller")
    other, _ = await connect("admin")
    await ws.send_json_to(action_frame(live_stream.pk, "mark_patrolled", "req-1"))
    ack = await until(ws, "ack")
    assert ack["request_id"] == "req-1" and ack["action"]["kind"] == "mark_patrolled"
    assert ack["timings"]["stored"] >= 0
    delta = await until_delta(other, "stream.patrolled")
    assert delta["stream"]["last_patrolled_by"] == "巡查员小王"
    stream = await sync_to_async(Stream.objects.get)(pk=live_stream.pk)
    assert stream.last_patrolled_by_id == patroller.pk
    await ws.disconnect()
    await other.disconnect()


async def test_block_denies_the_key_keeps_evidence_and_shows_cut_pending(patroller, live_stream):
    # The test node's control port is closed: the drop fails, so the cut stays pending and is retried.
    ws, _ = await connect("patroller")
    await ws.send_json_to(action_frame(live_stream.pk, "block", "blk-1", reason="pornography", note="露点"))
    ack = await until(ws, "ack")
    assert ack["action"]["media_status"] == "pending" and "media_confirmed" not in ack["timings"]

    def check():
        action = ModerationAction.objects.get(request_id="blk-1")
        assert (action.kind, action.reason, action.note, action.actor_id) == (
            "block",
            "pornography",
            "露点",
            patroller.pk,
        )
        assert action.media_attempts == 1 and action.media_last_error
        key = StreamKey.objects.get(pk=live_stream.key_id)
        assert key.denied_until > timezone.now() + timedelta(minutes=9)
        evidence = Evidence.objects.get(action=action, kind="metadata")
        assert len(evidence.sha256) == 64 and evidence.content["title"] == live_stream.title
        assert StaffActionLog.objects.filter(verb="stream.block", target_id=str(live_stream.pk)).exists()
        # The key cannot come back while the cut is pending.
        request = rules.PublishRequest(
            node=live_stream.node, key_name=live_stream.published_name, app="live", client_id="99"
        )
        assert rules.decide_publish(request).reason == GateDecision.Reason.KEY_COOLING_OFF

    await sync_to_async(check)()
    delta = await until_delta(ws, "stream.blocked")
    assert delta["stream"]["state"] == "cut_pending"
    await ws.disconnect()


async def test_the_same_request_id_twice_does_one_action(patroller, live_stream):
    ws, _ = await connect("patroller")
    frame = action_frame(live_stream.pk, "block", "same-id", reason="fraud")
    await ws.send_json_to(frame)
    first = await until(ws, "ack")
    await ws.send_json_to(frame)
    second = await until(ws, "ack")
    assert second["replayed"] and second["action"]["id"] == first["action"]["id"]
    assert await sync_to_async(ModerationAction.objects.filter(kind="block").count)() == 1
    await ws.disconnect()


async def test_someone_elses_request_id_is_refused(patroller, admin, live_stream):
    ws, _ = await connect("patroller")
    await ws.send_json_to(action_frame(live_stream.pk, "mark_patrolled", "mine"))
    await until(ws, "ack")
    other, _ = await connect("admin")
    await other.send_json_to(action_frame(live_stream.pk, "mark_patrolled", "mine"))
    error = await until(other, "error")
    assert error["code"] == "request_id_taken" and error["request_id"] == "mine"
    await ws.disconnect()
    await other.disconnect()


@pytest.mark.parametrize(
    ("persona", "kind"),
    [
        ("inspector", "block"),
        ("inspector", "mark_patrolled"),
        ("news_reviewer", "block"),
        ("patroller", "close"),
        ("editor_in_chief", "suspend"),
    ],
)
async def test_actions_beyond_the_role_are_refused(
    persona, kind, live_stream, inspector, news_reviewer, patroller, editor_in_chief
):
    user = {"inspector": inspector, "news_reviewer": news_reviewer, "patroller": patroller}.get(
        persona, editor_in_chief
    )
    ws, _ = await connect(user.username)
    await ws.send_json_to(action_frame(live_stream.pk, kind, "r-1", reason="fraud", minutes=60))
    assert (await until(ws, "error"))["code"] == "forbidden"
    assert not await sync_to_async(ModerationAction.objects.exists)()
    await ws.send_json_to({"type": "ping", "id": 1})
    assert (await until(ws, "pong"))["id"] == 1
    await ws.disconnect()


async def test_a_role_taken_away_mid_session_stops_the_next_action(patroller, admin, live_stream):
    ws, _ = await connect("patroller")
    await sync_to_async(set_staff_role)(patroller, role=Role.INSPECTOR, actor=admin)
    await ws.send_json_to(action_frame(live_stream.pk, "block", "after-demotion", reason="fraud"))
    assert (await until(ws, "error"))["code"] == "forbidden"
    assert not await sync_to_async(ModerationAction.objects.exists)()
    await ws.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "action", "kind": "block", "stream": 1, "reason": "fraud"}, "missing_field"),
        ({"type": "action", "request_id": "a b", "kind": "block", "stream": 1, "reason": "fraud"}, "missing_field"),
        ({"type": "action", "request_id": "x", "kind": "nuke", "stream": 1, "reason": "fraud"}, "bad_field"),
        ({"type": "action", "request_id": "x", "kind": "block", "stream": "1", "reason": "fraud"}, "missing_field"),
        ({"type": "action", "request_id": "x", "kind": "block", "stream": 1, "reason": "ugly"}, "bad_field"),
        ({"type": "action", "request_id": "x", "kind": "block", "stream": 1}, "bad_field"),
        (
            {"type": "action", "request_id": "x", "kind": "block", "stream": 1, "reason": "fraud", "note": 5},
            "bad_field",
        ),
        ({"type": "action", "request_id": "x", "kind": "suspend", "stream": 1, "reason": "fraud"}, "missing_field"),
        (
            {"type": "action", "request_id": "x", "kind": "suspend", "stream": 1, "reason": "fraud", "minutes": 0},
            "bad_field",
        ),
        ({"type": "action", "request_id": "x", "kind": "block", "stream": 999999, "reason": "fraud"}, "not_found"),
    ],
)
async def test_malformed_actions_get_an_error_and_write_nothing(patroller, live_stream, frame, code):
    ws, _ = await connect("patroller")
    await ws.send_json_to(frame)
    assert (await until(ws, "error"))["code"] == code
    assert not await sync_to_async(ModerationAction.objects.exists)()
    await ws.disconnect()


async def test_an_action_on_an_ended_stream_is_refused(patroller, live_stream, nginx_node, stream_key):
    await sync_to_async(actions.end_stream_session)(
        node=nginx_node, client_id=live_stream.client_id, key_name=stream_key.issued_key
    )
    ws, _ = await connect("patroller")
    await ws.send_json_to(action_frame(live_stream.pk, "block", "late", reason="fraud"))
    assert (await until(ws, "error"))["code"] == "stream_ended"
    assert not await sync_to_async(ModerationAction.objects.exists)()
    await ws.disconnect()


async def test_suspend_denies_the_publisher_at_the_gate(patroller, live_stream):
    ws, _ = await connect("patroller")
    await ws.send_json_to(action_frame(live_stream.pk, "suspend", "s-1", reason="rumour", minutes=120))
    ack = await until(ws, "ack")
    assert ack["action"]["kind"] == "suspend"

    def check():
        publisher = Publisher.objects.get(pk=live_stream.publisher_id)
        assert publisher.status == Publisher.Status.SUSPENDED
        assert publisher.suspended_until > timezone.now() + timedelta(minutes=119)
        request = rules.PublishRequest(
            node=live_stream.node, key_name=live_stream.published_name, app="live", client_id="98"
        )
        assert rules.decide_publish(request).reason == GateDecision.Reason.PUBLISHER_SUSPENDED

    await sync_to_async(check)()
    await ws.disconnect()


async def test_close_by_a_compliance_admin_closes_the_account(admin, live_stream):
    ws, _ = await connect("admin")
    await ws.send_json_to(action_frame(live_stream.pk, "close", "c-1", reason="fraud"))
    await until(ws, "ack")
    publisher = await sync_to_async(Publisher.objects.get)(pk=live_stream.publisher_id)
    assert publisher.status == Publisher.Status.CLOSED and publisher.closed_at is not None
    await ws.disconnect()


async def test_claim_spreads_streams_to_the_patroller_on_duty(patroller, live_stream):
    from accounts.actions import check_in

    ws, _ = await connect("patroller")
    await ws.send_json_to({"type": "claim", "limit": 5})
    assert (await until(ws, "error"))["code"] == "not_on_duty"
    await sync_to_async(check_in)(patroller)
    await ws.send_json_to({"type": "claim", "limit": 5})
    assert (await until(ws, "claimed"))["streams"] == [live_stream.pk]
    delta = await until_delta(ws, "stream.updated")
    assert delta["stream"]["claimed_by"] == "巡查员小王"
    await ws.disconnect()
