"""The console's WebSocket through the full ASGI stack: origin check, session auth, role, frames, events."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.test import Client

import pytest
from asgiref.sync import sync_to_async

from console.asgi import application
from console.consumers import MAX_FRAME_BYTES
from moderation import events
from moderation.models import hash_stream_key
from tests.conftest import NODE_SECRET, PASSWORD
from tests.console.communicator import WebsocketCommunicator
from tests.second_factor import pass_second_factor

# transaction=True: the consumer reads the database from other threads, and events go out on commit.
# serialized_rollback: the flush after each test would drop the role groups the migration made.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

GOOD_ORIGIN = b"http://127.0.0.1:8000"
TIMEOUT = 5


def pong(frame: dict):
    """The id a pong answers (its `feed` says whether deltas flow: tests/console/test_redis_restart.py)."""
    assert frame["type"] == "pong" and isinstance(frame["feed"], bool), frame
    return frame["id"]


def session_cookie(username: str) -> bytes:
    """Log in through the login page (password, then the second factor) and return the session cookie."""
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    pass_second_factor(client, username)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def communicator(cookie: bytes | None = None, origin: bytes = GOOD_ORIGIN) -> WebsocketCommunicator:
    headers = [(b"origin", origin), (b"host", b"127.0.0.1:8000")]
    if cookie is not None:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, "/ws/console/", headers=headers)


async def receive(ws: WebsocketCommunicator) -> dict:
    return json.loads(await ws.receive_from(timeout=TIMEOUT))


@pytest.fixture
async def console_socket(patroller):
    """A patroller's connected console, past its hello."""
    ws = await communicator(await sync_to_async(session_cookie)("patroller"))
    connected, _code = await ws.connect(timeout=TIMEOUT)
    assert connected
    hello = await receive(ws)
    assert hello["type"] == "hello"
    assert (await receive(ws))["type"] == "snapshot"
    yield ws
    await ws.disconnect()


async def assert_still_open(ws: WebsocketCommunicator, ping_id: str = "after") -> None:
    await ws.send_json_to({"type": "ping", "id": ping_id})
    assert pong(await receive(ws)) == ping_id


# --- who may connect --------------------------------------------------------------------------


async def test_anonymous_is_refused_with_log_in_again(db):
    ws = await communicator()
    connected, code = await ws.connect(timeout=TIMEOUT)
    assert not connected
    assert code == 4401  # no login (expired or logged out): the console asks to log in again


async def test_an_expired_login_is_refused_with_log_in_again(patroller):
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    cookie = await sync_to_async(session_cookie)("patroller")
    await Session.objects.all().aupdate(expire_date=timezone.now())
    ws = await communicator(cookie)
    connected, code = await ws.connect(timeout=TIMEOUT)
    assert not connected
    assert code == 4401


async def test_an_open_console_is_closed_when_its_login_expires(patroller):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    cookie = await sync_to_async(session_cookie)("patroller")
    await Session.objects.all().aupdate(expire_date=timezone.now() + timedelta(seconds=1))
    ws = await communicator(cookie)
    connected, _code = await ws.connect(timeout=TIMEOUT)
    assert connected
    frames = []
    while True:
        output = await ws.receive_output(timeout=TIMEOUT)
        if output["type"] == "websocket.close":
            break
        frames.append(json.loads(output["text"])["type"])
    assert output["code"] == 4401
    assert frames[:2] == ["hello", "snapshot"]


async def test_a_user_without_a_role_is_refused(outsider):
    ws = await communicator(await sync_to_async(session_cookie)("outsider"))
    connected, code = await ws.connect(timeout=TIMEOUT)
    assert not connected
    assert code == 4403


async def test_a_foreign_origin_is_refused_even_with_a_session(patroller):
    cookie = await sync_to_async(session_cookie)("patroller")
    ws = await communicator(cookie, origin=b"http://evil.example")
    connected, _code = await ws.connect(timeout=TIMEOUT)
    assert not connected


async def test_a_forged_session_cookie_is_refused(db):
    ws = await communicator(b"sessionid=not-a-real-session")
    connected, _code = await ws.connect(timeout=TIMEOUT)
    assert not connected


async def test_a_patroller_connects_and_gets_hello_with_the_live_count(patroller):
    ws = await communicator(await sync_to_async(session_cookie)("patroller"))
    connected, _code = await ws.connect(timeout=TIMEOUT)
    assert connected
    hello = await receive(ws)
    assert (hello["type"], hello["user"], hello["live"], hello["roles"]) == ("hello", "patroller", 0, ["patroller"])
    assert isinstance(hello["seq"], int)
    snapshot = await receive(ws)
    assert (snapshot["type"], snapshot["total"], snapshot["streams"]) == ("snapshot", 0, [])
    await ws.disconnect()


async def test_hello_counts_the_live_streams(patroller, nginx_node, stream_key):
    await sync_to_async(open_through_the_gate)(stream_key.issued_key)
    ws = await communicator(await sync_to_async(session_cookie)("patroller"))
    assert (await ws.connect(timeout=TIMEOUT))[0]
    assert (await receive(ws))["live"] == 1
    await ws.disconnect()


# --- frames -----------------------------------------------------------------------------------


async def test_ping_gets_pong_with_the_same_id(console_socket):
    await console_socket.send_json_to({"type": "ping", "id": 17})
    assert pong(await receive(console_socket)) == 17
    await console_socket.send_json_to({"type": "ping", "id": "abc"})
    assert pong(await receive(console_socket)) == "abc"


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json {", "bad_json"),
        ("[1, 2, 3]", "bad_message"),
        ('"ping"', "bad_message"),
        ('{"id": 1}', "bad_message"),
        ('{"type": 42}', "bad_message"),
        ('{"type": "block_everything"}', "unknown_type"),
        ('{"type": "ping", "pad": "' + "x" * MAX_FRAME_BYTES + '"}', "frame_too_large"),
        ('{"type": "ping", "pad": "' + "巡" * (MAX_FRAME_BYTES // 3 + 1) + '"}', "frame_too_large"),
    ],
    ids=["not-json", "array", "string", "no-type", "type-not-string", "unknown-type", "oversize", "oversize-utf8"],
)
async def test_a_bad_text_frame_gets_an_error_and_the_socket_stays_open(console_socket, frame, code):
    await console_socket.send_to(text_data=frame)
    reply = await receive(console_socket)
    assert reply["type"] == "error" and reply["code"] == code
    assert isinstance(reply["message"], str)
    await assert_still_open(console_socket)


async def test_a_binary_frame_gets_an_error_and_the_socket_stays_open(console_socket):
    await console_socket.send_to(bytes_data=b'{"type": "ping"}')
    reply = await receive(console_socket)
    assert reply == {"type": "error", "code": "binary_not_supported", "message": reply["message"]}
    await assert_still_open(console_socket)


async def test_a_frame_of_exactly_the_limit_is_accepted(console_socket):
    frame = '{"type": "ping", "id": 1, "pad": ""}'
    frame = frame.replace('""', '"' + "x" * (MAX_FRAME_BYTES - len(frame)) + '"')
    assert len(frame.encode()) == MAX_FRAME_BYTES
    await console_socket.send_to(text_data=frame)
    assert pong(await receive(console_socket)) == 1


# --- deltas -----------------------------------------------------------------------------------


async def next_delta(ws: WebsocketCommunicator) -> dict:
    frame = await receive(ws)
    assert frame["type"] == "delta", frame
    return frame


async def test_a_delta_reaches_every_connected_console_in_sequence(console_socket, admin):
    other = await communicator(await sync_to_async(session_cookie)("admin"))
    assert (await other.connect(timeout=TIMEOUT))[0]
    await receive(other)  # hello
    await receive(other)  # snapshot
    await sync_to_async(events.stream_ended)(7)
    await sync_to_async(events.stream_ended)(8)
    first, second = await next_delta(console_socket), await next_delta(console_socket)
    assert (first["event"], first["stream"]["id"]) == ("stream.ended", 7)
    assert second["seq"] == first["seq"] + 1
    assert (await next_delta(other))["seq"] == first["seq"]
    await other.disconnect()


async def test_a_process_holds_one_subscription_per_broadcast_group_whatever_its_consoles(console_socket, admin):
    """The queue's broadcasts reach the process once, on one channel, and are fanned out in memory."""
    from channels.layers import get_channel_layer

    from console import fanout

    other = await communicator(await sync_to_async(session_cookie)("admin"))
    assert (await other.connect(timeout=TIMEOUT))[0]
    await receive(other)  # hello
    await receive(other)  # snapshot
    layer = get_channel_layer()
    subscribed = layer.groups[layer._get_group_channel_name(events.QUEUE_GROUP)]
    assert len(subscribed) == 1 and next(iter(subscribed)).startswith(f"{layer.prefix}fanout.")
    assert fanout.members(events.QUEUE_GROUP) == 2
    await sync_to_async(events.stream_ended)(9)
    assert (await next_delta(console_socket))["stream"]["id"] == (await next_delta(other))["stream"]["id"] == 9
    await other.disconnect()
    assert fanout.members(events.QUEUE_GROUP) == 1


def open_through_the_gate(key: str) -> int:
    """Publish as nginx-rtmp does and return the id of the stream the gate opened."""
    from moderation.models import Stream

    form = {"app": "live", "name": key, "addr": "203.0.113.9", "clientid": "31", "call": "publish", "type": "live"}
    response = Client().post(
        f"/gate/nginx-rtmp/edge-1/{NODE_SECRET}/on_publish",
        urlencode(form),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200, response.content
    return Stream.objects.live().get(key__key_hash=hash_stream_key(key)).pk


async def test_a_stream_opened_at_the_gate_arrives_as_a_card(console_socket, nginx_node, stream_key):
    stream_id = await sync_to_async(open_through_the_gate)(stream_key.issued_key)
    delta = await next_delta(console_socket)
    assert delta["event"] == "stream.opened"
    card = delta["stream"]
    assert (card["id"], card["title"], card["state"]) == (stream_id, "深夜食堂直播", "live")
    assert card["publisher"]["name"] == "美食小当家" and card["category"]["slug"] == "entertainment"


async def test_a_disconnected_console_leaves_the_group(patroller):
    ws = await communicator(await sync_to_async(session_cookie)("patroller"))
    assert (await ws.connect(timeout=TIMEOUT))[0]
    await receive(ws)
    await ws.disconnect()
    await sync_to_async(events.stream_opened)(1)  # nobody listens; must not raise


@pytest.mark.parametrize("persona", ["patroller", "news_reviewer", "editor_in_chief", "admin", "inspector"])
async def test_each_message_type_passes_the_tables_gate_for_exactly_its_holders(request, persona):
    """The permission walk's consumer cells: every message type × every role, against MESSAGE_CAPABILITIES."""
    from moderation import permissions

    user = await sync_to_async(request.getfixturevalue)(persona)
    ws = await communicator(await sync_to_async(session_cookie)(user.username))
    assert (await ws.connect(timeout=TIMEOUT))[0]
    wrong = []
    for number, message_type in enumerate(permissions.MESSAGE_CAPABILITIES):
        await ws.send_to(text_data=json.dumps({"type": message_type, "request_id": f"walk-{number}"}))
        await ws.send_to(text_data=json.dumps({"type": "ping", "id": f"after-{number}"}))
        frames = []
        while True:  # everything the message caused, up to the pong that follows it
            frame = await receive(ws)
            if frame.get("type") == "pong" and frame.get("id") == f"after-{number}":
                break
            frames.append(frame)
        gated = any(f.get("message") == f"your role may not send {message_type}" for f in frames)
        holder = await sync_to_async(permissions.may_send)(user, message_type)
        if gated == holder:
            wrong.append(f"{message_type}: {'refused' if holder else 'let through'}")
    await ws.disconnect()
    assert wrong == []
