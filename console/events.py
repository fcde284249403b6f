"""Events sent to consoles. The only module that calls ``group_send``.

Actions register these with ``transaction.on_commit`` so a rolled-back change sends nothing.
Payloads carry ids and small JSON-safe data; consoles fetch the rest.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

# Groups
QUEUE_GROUP = "queue"  # every console watching the live queue

# Event types (the "type" field consoles see)
STREAM_OPENED = "stream.opened"
STREAM_ENDED = "stream.ended"
STREAM_UPDATED = "stream.updated"


def send_to_group(group: str, event_type: str, payload: dict) -> None:
    """Send one event to a group; a broken channel layer is logged, never raised into an action."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": "console.event", "event": event_type, "payload": payload})
    except Exception:  # the change is committed already; consoles resync on reconnect
        logger.exception("could not send %s to %s", event_type, group)


def stream_opened(stream_id: int) -> None:
    send_to_group(QUEUE_GROUP, STREAM_OPENED, {"stream": stream_id})


def stream_ended(stream_id: int, reason: str) -> None:
    send_to_group(QUEUE_GROUP, STREAM_ENDED, {"stream": stream_id, "reason": reason})
