"""Events sent to consoles. The only module that calls ``group_send``.

Actions register these with ``transaction.on_commit`` so a rolled-back change sends nothing.
Payloads carry ids and small JSON-safe data; consoles fetch the rest.

Sending never makes the caller wait: events go onto a queue that one background thread per
process drains into the channel layer, in order. The gate and the block path therefore answer
without a round trip to Redis. A console that missed an event resyncs on reconnect.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import queue
import threading

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

# Groups
QUEUE_GROUP = "queue"  # every console watching the live queue

# Event types (the "type" field consoles see)
STREAM_OPENED = "stream.opened"
STREAM_ENDED = "stream.ended"
STREAM_UPDATED = "stream.updated"

_QUEUE_LIMIT = 100_000


class _Sender:
    """One daemon thread with its own event loop, forwarding queued events to the channel layer."""

    def __init__(self) -> None:
        self.queue: queue.Queue = queue.Queue(maxsize=_QUEUE_LIMIT)
        self.pid = os.getpid()
        self.thread = threading.Thread(target=self._run, name="console-events", daemon=True)
        self.thread.start()

    def put(self, group: str, message: dict) -> None:
        try:
            self.queue.put_nowait((group, message))
        except queue.Full:
            logger.error("console event queue full; dropped %s for %s", message.get("event"), group)

    def _run(self) -> None:
        # A plain blocking get on this thread (no executor threads, which would hold up exit),
        # then everything queued meanwhile is sent in order on this thread's own event loop.
        loop = asyncio.new_event_loop()
        layer = get_channel_layer()
        while True:
            batch = [self.queue.get()]
            while len(batch) < 500:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                loop.run_until_complete(self._send(layer, batch))
            finally:
                for _item in batch:
                    self.queue.task_done()

    @staticmethod
    async def _send(layer, batch: list[tuple[str, dict]]) -> None:
        for group, message in batch:
            try:
                if layer is not None:
                    await layer.group_send(group, message)
            except Exception:  # the change is committed already; consoles resync on reconnect
                logger.exception("could not send %s to %s", message.get("event"), group)


_sender: _Sender | None = None
_sender_lock = threading.Lock()


def _get_sender() -> _Sender:
    global _sender
    with _sender_lock:
        # A forked child (a Celery prefork worker) needs a thread of its own.
        if _sender is None or _sender.pid != os.getpid():
            _sender = _Sender()
        return _sender


def send_to_group(group: str, event_type: str, payload: dict) -> None:
    """Queue one event for a group; returns at once."""
    _get_sender().put(group, {"type": "console.event", "event": event_type, "payload": payload})


def flush(timeout: float = 5.0) -> bool:
    """Wait until every queued event has been handed to the channel layer (for exits and tests)."""
    sender = _sender
    if sender is None or sender.pid != os.getpid():
        return True
    done = threading.Event()

    def wait() -> None:
        sender.queue.join()
        done.set()

    threading.Thread(target=wait, daemon=True).start()
    return done.wait(timeout)


atexit.register(flush, 2.0)


def stream_opened(stream_id: int) -> None:
    send_to_group(QUEUE_GROUP, STREAM_OPENED, {"stream": stream_id})


def stream_ended(stream_id: int, reason: str) -> None:
    send_to_group(QUEUE_GROUP, STREAM_ENDED, {"stream": stream_id, "reason": reason})
