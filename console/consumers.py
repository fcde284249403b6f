"""The console's WebSocket (docs/console-protocol.md): authenticate, check roles, relay, call actions.

The consumer only validates frames and relays: reads go through moderation.queries and every
change through moderation.actions, on the console's long-lived database threads
(console/database_threads.py), so an action does not open a database connection of its own. The
role is checked again, freshly read, in the same call as each action. Refused frames get an error
frame with a code; nothing is written and the socket stays open.
"""

from __future__ import annotations

import json
import re
import time

from django.conf import settings

from channels.generic.websocket import AsyncWebsocketConsumer

from accounts.roles import has_role, refresh_roles
from console import events
from console.database_threads import DatabaseThreads
from moderation import actions, queries
from moderation.actions.patrol import MAX_SUSPEND_MINUTES
from moderation.models import ModerationAction, ReasonCode, Stream

MAX_FRAME_BYTES = 8 * 1024
_REQUEST_ID = re.compile(r"^[A-Za-z0-9_\-:.]{1,64}$")
_NOTE_MAX = 500

Kind = ModerationAction.Kind
# The action kinds a console may send, and the name of the action each calls in moderation.actions.
ACTION_FUNCTIONS = {
    Kind.MARK_PATROLLED: "mark_patrolled",
    Kind.WARN: "warn_publisher",
    Kind.BLOCK: "block_stream",
    Kind.SUSPEND: "suspend_publisher",
    Kind.CLOSE: "close_publisher",
    Kind.ESCALATE: "escalate_stream",
}


_threads = DatabaseThreads("console", lambda: settings.LIVEWARD_CONSOLE_THREADS)


def shutdown() -> None:
    """Close the console threads' database connections (tests, before the database goes)."""
    _threads.shutdown()


class FrameError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ConsoleConsumer(AsyncWebsocketConsumer):
    """One per console tab."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if not await _threads.run(has_role, user):
            await self.close(code=4403)
            return
        self.user = user
        await self.channel_layer.group_add(events.QUEUE_GROUP, self.channel_name)
        await self.accept()
        hello = await _threads.run(self._hello)
        await self.send_json(hello)
        await self.send_snapshot({})

    def _hello(self) -> dict:
        return {
            "type": "hello",
            "user": self.user.get_username(),
            "roles": sorted(self.user.role_names),
            "live": queries.live_stream_count(),
            "seq": events.current_seq(),
        }

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(events.QUEUE_GROUP, self.channel_name)

    # --- inbound --------------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        received = time.perf_counter()
        if bytes_data is not None or text_data is None:
            await self.send_error("binary_not_supported", "send JSON text frames")
            return
        # Characters first (cheap), then bytes: a CJK character is three bytes in UTF-8.
        if len(text_data) > MAX_FRAME_BYTES or len(text_data.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
            await self.send_error("frame_too_large", f"frames are limited to {MAX_FRAME_BYTES} bytes")
            return
        try:
            message = json.loads(text_data)
        except ValueError:
            await self.send_error("bad_json", "the frame is not JSON")
            return
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self.send_error("bad_message", "a message is a JSON object with a string 'type'")
            return
        kind = message["type"]
        try:
            if kind == "ping":
                await self.send_json({"type": "pong", "id": message.get("id")})
            elif kind == "resync":
                await self.send_snapshot(message)
            elif kind == "action":
                await self.handle_action(message, received)
            elif kind == "claim":
                await self.handle_claim(message)
            else:
                await self.send_error("unknown_type", f"unknown message type {kind[:40]!r}")
        except FrameError as exc:
            request_id = message.get("request_id") if isinstance(message.get("request_id"), str) else None
            await self.send_error(exc.code, str(exc), request_id=request_id)

    async def send_snapshot(self, message: dict) -> None:
        offset = _int_field(message, "offset", default=0, minimum=0, maximum=1_000_000)
        limit = _int_field(message, "limit", default=100, minimum=1, maximum=queries.QUEUE_WINDOW_MAX)
        category = message.get("category") or None
        if category is not None and (not isinstance(category, str) or len(category) > 32):
            raise FrameError("bad_field", "category must be a category slug")
        tier = _int_field(message, "tier", default=0, minimum=0, maximum=9) or None
        snapshot = await _threads.run(self._snapshot, offset, limit, category, tier)
        await self.send_json(snapshot)

    def _snapshot(self, offset: int, limit: int, category: str | None, tier: int | None) -> dict:
        seq = events.current_seq()  # read first: a delta after this number is newer than the window
        total, cards = queries.queue_window(offset=offset, limit=limit, category=category, tier=tier)
        return {
            "type": "snapshot",
            "seq": seq,
            "total": total,
            "offset": offset,
            "streams": cards,
            "filters": {"category": category, "tier": tier},
        }

    async def handle_action(self, message: dict, received: float) -> None:
        request_id = message.get("request_id")
        if not isinstance(request_id, str) or not _REQUEST_ID.match(request_id):
            raise FrameError("missing_field", "request_id: 1–64 letters, digits, - _ : .")
        kind = message.get("kind")
        if kind not in ACTION_FUNCTIONS:
            raise FrameError("bad_field", "kind must be one of " + ", ".join(ACTION_FUNCTIONS))
        stream_id = message.get("stream")
        if not isinstance(stream_id, int) or isinstance(stream_id, bool) or stream_id < 1:
            raise FrameError("missing_field", "stream must be a stream id")
        reason = message.get("reason", ReasonCode.PATROLLED if kind == Kind.MARK_PATROLLED else None)
        if reason not in ReasonCode.values:
            raise FrameError("bad_field", "reason must be one of the reason codes")
        note = message.get("note", "")
        if not isinstance(note, str) or len(note) > _NOTE_MAX:
            raise FrameError("bad_field", f"note must be text of at most {_NOTE_MAX} characters")
        extra = {}
        if kind == Kind.SUSPEND:
            extra["minutes"] = _int_field(message, "minutes", default=None, minimum=1, maximum=MAX_SUSPEND_MINUTES)
        ack = await _threads.run(self._act, kind, stream_id, request_id, reason, note, extra, received)
        await self.send_json(ack)

    async def handle_claim(self, message: dict) -> None:
        limit = _int_field(message, "limit", default=20, minimum=1, maximum=queries.QUEUE_WINDOW_MAX)
        claimed = await _threads.run(self._claim, limit)
        await self.send_json({"type": "claimed", "streams": claimed})

    def _claim(self, limit: int) -> list[int]:
        try:
            return actions.claim_streams(self.user, limit=limit)
        except actions.ModerationError as exc:
            raise FrameError(exc.code, str(exc)) from None

    def _act(self, kind, stream_id, request_id, reason, note, extra, received) -> dict:
        # Roles and the active flag are read afresh: a role taken away mid-shift stops the next action.
        refresh_roles(self.user)
        if not has_role(self.user, *actions.ACTION_ROLES[kind]):
            raise FrameError("forbidden", "your role may not do this")
        stream = Stream(pk=stream_id)  # the action locks and reads it; an unknown id raises not_found
        function = getattr(actions, ACTION_FUNCTIONS[kind])
        arguments = {"actor": self.user, "note": note, "request_id": request_id, **extra}
        if kind != Kind.MARK_PATROLLED:
            arguments["reason"] = reason
        try:
            action = function(stream, **arguments)
        except actions.ModerationError as exc:
            raise FrameError(exc.code, str(exc)) from None
        stamps = getattr(action, "stamps", {}) or {}
        timings = {name: round((at - received) * 1000, 2) for name, at in stamps.items()}
        return {
            "type": "ack",
            "request_id": request_id,
            "replayed": bool(getattr(action, "replayed", False)),
            "action": {"id": action.pk, "kind": action.kind, "media_status": action.media_status},
            "timings": timings,
        }

    # --- outbound -------------------------------------------------------------------------------

    async def console_delta(self, event: dict) -> None:
        await self.send(text_data=event["text"])  # the frame, serialised once by console.events

    async def console_event(self, event: dict) -> None:
        await self.send_json({"type": "event", "event": event["event"], "payload": event["payload"]})

    async def send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content, ensure_ascii=False))

    async def send_error(self, code: str, message: str, *, request_id: str | None = None) -> None:
        frame = {"type": "error", "code": code, "message": message}
        if request_id is not None:
            frame["request_id"] = request_id[:64]
        await self.send_json(frame)


def _int_field(message: dict, name: str, *, default, minimum: int, maximum: int):
    value = message.get(name, default)
    if value is None and default is None:
        raise FrameError("missing_field", f"{name} is required")
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        raise FrameError("bad_field", f"{name} must be an integer between {minimum} and {maximum}")
    return value
