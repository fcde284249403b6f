"""Twenty consoles block one stream at the same moment: one action, one drop at the node, one charge, twenty acks.

The consoles are real WebSocket consumers (through the full ASGI stack), the stream comes live through
the gate from the SRS stand-in, and the drop goes to that stand-in over HTTP, which counts the kicks.
"""

from __future__ import annotations

import asyncio

from django import db

import pytest
from asgiref.sync import sync_to_async

from console import consumers
from moderation.models import CreditEvent, ModerationAction, Publisher, Stream
from tests.console.test_consumer import communicator, receive, session_cookie
from tests.media import wait_until
from tests.srs_standin import srs_live_fixture  # noqa: F401 (the srs_live fixture)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
CONSOLES = 20


@pytest.fixture
def many_console_threads(settings):
    """Give the consumers as many database threads as there are consoles, so every block runs at once."""
    consumers.shutdown()
    settings.LIVEWARD_CONSOLE_THREADS = CONSOLES
    yield
    consumers.shutdown()


async def connected(cookie: bytes):
    ws = await communicator(cookie)
    assert (await ws.connect(timeout=10))[0]
    assert (await receive(ws))["type"] == "hello"
    assert (await receive(ws))["type"] == "snapshot"
    return ws


async def answer_to(ws, request_id: str) -> dict:
    """The ack or error frame answering this request (deltas may come first)."""
    for _ in range(50):
        frame = await receive(ws)
        if frame["type"] in {"ack", "error"} and frame.get("request_id") == request_id:
            return frame
    raise AssertionError(f"no answer to {request_id}")


async def test_twenty_consoles_blocking_one_stream_take_one_measure(
    srs_live, stream_key, patroller, admin, editor_in_chief, many_console_threads
):
    standin, _node = srs_live
    client_id, stream, score_before, cookies = await sync_to_async(go_live_and_log_in)(
        standin, stream_key, [patroller, admin, editor_in_chief]
    )
    # Ten tabs of one patroller sending one click (the same request id), and ten other consoles.
    senders = [("patroller", "click-1")] * 10
    senders += [(("patroller", "admin", "editor")[index % 3], f"other-{index}") for index in range(10)]
    sockets = [await connected(cookies[username]) for username, _request_id in senders]

    frames = [
        {"type": "action", "kind": "block", "stream": stream.pk, "reason": "pornography", "request_id": request_id}
        for _username, request_id in senders
    ]
    await asyncio.gather(*(ws.send_json_to(frame) for ws, frame in zip(sockets, frames, strict=True)))
    answers = await asyncio.gather(
        *(answer_to(ws, request_id) for ws, (_username, request_id) in zip(sockets, senders, strict=True))
    )

    assert [answer["type"] for answer in answers] == ["ack"] * CONSOLES, answers
    assert len({answer["action"]["id"] for answer in answers}) == 1
    assert sum(not answer["replayed"] for answer in answers) == 1
    kicks = [request for request in standin.api_requests if request.startswith("DELETE")]
    assert kicks == [f"DELETE /api/v1/clients/{client_id}"]
    measures, charges, score_after = await sync_to_async(final_state)(stream)
    assert measures == 1
    assert charges == 1
    assert score_before - score_after == 15
    for ws in sockets:
        await ws.disconnect()


def go_live_and_log_in(standin, stream_key, users) -> tuple[str, Stream, int, dict[str, bytes]]:
    """Publish the key on the stand-in; return its client id, its stream, the score, the users' session cookies."""
    try:
        client_id = standin.publish(stream_key.issued_key)
        stream = Stream.objects.live().get(key=stream_key)
        score = Publisher.objects.get(pk=stream.publisher_id).credit_score
        return client_id, stream, score, {user.username: session_cookie(user.username) for user in users}
    finally:
        db.connections.close_all()  # the test database must be free to drop at the end of the run


def final_state(stream: Stream) -> tuple[int, int, int]:
    """Blocks recorded, credit charges made and the publisher's score, once the stream has ended."""
    try:
        wait_until(lambda: not Stream.objects.live().filter(key_id=stream.key_id).exists(), message="the stream to end")
        return (
            ModerationAction.objects.filter(kind=ModerationAction.Kind.BLOCK).count(),
            CreditEvent.objects.filter(kind=CreditEvent.Kind.ACTION).count(),
            Publisher.objects.get(pk=stream.publisher_id).credit_score,
        )
    finally:
        db.connections.close_all()  # the test database must be free to drop at the end of the run
