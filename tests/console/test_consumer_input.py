"""Odd frames on the console's WebSocket: an error frame, nothing written, and the socket stays open.

A frame nested 1,000 deep raised RecursionError past the consumer (it caught only ValueError) and a
note with NUL reached the database (a 500 inside the socket on PostgreSQL): both closed the socket.
"""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async

from moderation.models import ModerationAction
from tests.console.test_consumer import assert_still_open, console_socket, receive  # noqa: F401
from tests.console.test_queue_ws import action_frame, connect, live_stream, until  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def pong(frame: dict):
    """The id a pong answers (its `feed` says whether deltas flow: tests/console/test_redis_restart.py)."""
    assert frame["type"] == "pong" and isinstance(frame["feed"], bool), frame
    return frame["id"]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [33, 1000, 4000])
async def test_a_deeply_nested_frame_gets_an_error_and_the_socket_stays_open(console_socket, depth):  # noqa: F811
    await console_socket.send_to(text_data='{"type": "ping", "id": ' + nested(depth - 1) + "}")
    reply = await receive(console_socket)
    assert reply["type"] == "error" and reply["code"] == "too_deep" and "32 levels" in reply["message"]
    await assert_still_open(console_socket)


async def test_a_frame_nested_32_levels_is_taken(console_socket):  # noqa: F811
    await console_socket.send_to(text_data='{"type": "ping", "id": ' + nested(31) + "}")
    assert pong(await receive(console_socket)) == json.loads(nested(31))


@pytest.mark.parametrize(
    ("frame", "says"),
    [
        ('{"type": "ping", "id": "a\\u0000b"}', "id contains the control character U+0000"),
        ('{"type": "resync", "category": "news\\u001b"}', "category contains the control character U+001B"),
        ('{"type": "ping", "id": "\\ud800"}', "id contains a lone surrogate (U+D800)"),
        ('{"type": "ping", "id": "\ud800"}', "id contains a lone surrogate (U+D800)"),  # a raw one in the text
        ('{"type\\u0000": "ping"}', "a key in the document contains the control character U+0000"),
    ],
)
async def test_control_characters_and_lone_surrogates_in_a_frame_are_refused(console_socket, frame, says):  # noqa: F811
    await console_socket.send_to(text_data=frame)
    reply = await receive(console_socket)
    assert (reply["type"], reply["code"], reply["message"]) == ("error", "bad_text", says)
    await assert_still_open(console_socket)


@pytest.mark.parametrize("note", ["违规\x00内容", "违规\x07", "\x1b[2J清屏"])
async def test_an_action_whose_note_holds_a_control_character_writes_nothing(patroller, live_stream, note):  # noqa: F811
    ws, _snapshot = await connect("patroller")
    await ws.send_json_to(action_frame(live_stream.pk, "block", "req-note-1", reason="fraud", note=note))
    error = await until(ws, "error")
    assert error["code"] == "bad_text" and error["message"].startswith("note contains the control character")
    assert not await sync_to_async(ModerationAction.objects.exists)()
    await assert_still_open(ws)
    await ws.disconnect()


async def test_a_multi_line_note_is_taken(patroller, live_stream):  # noqa: F811
    ws, _snapshot = await connect("patroller")
    note = "第一行\n第二行\t补充"
    await ws.send_json_to(action_frame(live_stream.pk, "warn", "req-note-2", reason="rumour", note=note))
    ack = await until(ws, "ack")
    action = await sync_to_async(ModerationAction.objects.get)(pk=ack["action"]["id"])
    assert action.note == note
    await ws.disconnect()


async def test_a_request_id_with_a_trailing_newline_is_refused(patroller, live_stream):  # noqa: F811
    ws, _snapshot = await connect("patroller")
    await ws.send_json_to(action_frame(live_stream.pk, "warn", "req-3\n", reason="rumour"))
    assert (await until(ws, "error"))["code"] == "missing_field"
    assert not await sync_to_async(ModerationAction.objects.exists)()
    await ws.disconnect()
