"""Broadcasts to a process's consoles: one channel-layer subscription per group, fanned out in memory.

A broadcast group (every console watching the queue, the news reviewers, …) reaches each ASGI
process once: the process's relay for that group is one channel of the layer, added to the group,
and hands each message it receives to every console of the process in that group. A console keeps
an outbox that one task of its own writes to its socket, in arrival order, never while the console
is handling a frame of its own (connect and its snapshot, a resync, an action): exactly as the
channel layer's messages waited for those before. What a broadcast costs beyond its socket writes
therefore does not grow with the consoles: no channel-layer message, decoding, dispatch or
database-connection check per console, and a console whose socket is slow holds up only itself.

Per-console groups (``staff.<id>``) stay on the channel layer: they carry a few messages a day.
docs/console-protocol.md ("Delivery") describes it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref

from channels.layers import get_channel_layer

from moderation import events

logger = logging.getLogger(__name__)

# The groups whose messages every member receives alike (events.py names them).
BROADCAST_GROUPS = frozenset(
    {
        events.QUEUE_GROUP,
        events.NEWS_GROUP,
        events.COMPLIANCE_GROUP,
        events.AUDIT_GROUP,
        events.COMMENTS_GROUP,
        events.REPORTS_GROUP,
    }
)
_RETRY_SECONDS = 1.0


def frame_text(message: dict) -> str | None:
    """The text a console sends for a group message: serialised once, for every console of the process."""
    if message.get("type") == "console.delta":
        return message["text"]  # serialised once already, by moderation.events
    if message.get("type") == "console.event":
        frame = {"type": "event", "event": message["event"], "payload": message["payload"]}
        return json.dumps(frame, ensure_ascii=False)
    return None


class _Relay:
    """One group's subscription in one process (one event loop), and the consoles it serves."""

    def __init__(self, group: str, layer) -> None:
        self.group = group
        self.layer = layer
        self.members: dict = {}  # consumer -> None: a set that keeps the order of joining
        self.lock = asyncio.Lock()
        self.task: asyncio.Task | None = None

    async def subscribe(self) -> None:
        """Add this process's channel to the group once; return when the layer has it."""
        async with self.lock:
            if self.task is not None and not self.task.done():
                return
            channel = await self.layer.new_channel("fanout.")
            await self.layer.group_add(self.group, channel)
            self.task = asyncio.get_running_loop().create_task(self._relay(channel), name=f"fanout-{self.group}")

    async def _relay(self, channel: str) -> None:
        while True:
            try:
                message = await self.layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis went away: channels_redis subscribes again when it answers
                logger.warning("console fan-out of %s: the channel layer failed; retrying", self.group, exc_info=True)
                await asyncio.sleep(_RETRY_SECONDS)
                continue
            text = frame_text(message)
            if text is None:
                logger.error("console fan-out of %s: unexpected message type %r", self.group, message.get("type"))
                continue
            for consumer in list(self.members):
                consumer.push_broadcast(text)


# Relays per event loop (a test's loop ends with the test) and channel layer.
_relays: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _relay_for(group: str) -> _Relay:
    layer = get_channel_layer()
    by_group = _relays.setdefault(asyncio.get_running_loop(), {})
    relay = by_group.get((id(layer), group))
    if relay is None:
        relay = by_group[(id(layer), group)] = _Relay(group, layer)
    return relay


async def join(group: str, consumer) -> None:
    """Deliver the group's broadcasts to ``consumer.push_broadcast`` from now on (after the subscription is up)."""
    relay = _relay_for(group)
    await relay.subscribe()
    relay.members[consumer] = None


def leave(group: str, consumer) -> None:
    """Stop delivering the group's broadcasts to the consumer (the process's subscription stays)."""
    by_group = _relays.get(asyncio.get_running_loop(), {})
    for (_layer, name), relay in by_group.items():
        if name == group:
            relay.members.pop(consumer, None)


def members(group: str) -> int:
    """How many consoles of this process (this event loop) receive the group's broadcasts (tests)."""
    by_group = _relays.get(asyncio.get_running_loop(), {})
    return sum(len(relay.members) for (_layer, name), relay in by_group.items() if name == group)
