"""The console's WebSocket: authenticate, check the role, join groups, relay events.

Frames from the server are JSON objects with a "type": hello, event, pong, error.
"""

from __future__ import annotations

import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from accounts.roles import has_role
from console import events
from moderation import queries

MAX_FRAME_BYTES = 8 * 1024


class ConsoleConsumer(AsyncWebsocketConsumer):
    """One per console tab."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if not await database_sync_to_async(has_role)(user):
            await self.close(code=4403)
            return
        await self.channel_layer.group_add(events.QUEUE_GROUP, self.channel_name)
        await self.accept()
        live = await database_sync_to_async(queries.live_stream_count)()
        await self.send_json({"type": "hello", "user": user.get_username(), "live": live})

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(events.QUEUE_GROUP, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
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
        if message["type"] == "ping":
            await self.send_json({"type": "pong", "id": message.get("id")})
            return
        await self.send_error("unknown_type", f"unknown message type {message['type'][:40]!r}")

    async def console_event(self, event: dict) -> None:
        await self.send_json({"type": "event", "event": event["event"], "payload": event["payload"]})

    async def send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content, ensure_ascii=False))

    async def send_error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "code": code, "message": message})
