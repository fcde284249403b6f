"""Events sent to consoles. The only module that calls ``group_send``.

Actions register these with ``transaction.on_commit`` so a rolled-back change sends nothing.

Sending never makes the caller wait: events go onto a queue that one background thread per
process drains, in order. For queue deltas that thread builds the stream's card (one query for
everything queued meanwhile), numbers the deltas from a platform-wide Redis counter, and hands
them to the channel layer. The gate and the block path therefore answer without waiting on the
database read or Redis. A console that sees a gap in the numbers resyncs (docs/console-protocol.md).
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import os
import queue
import threading
import time

from django import db
from django.core.cache import cache

from channels.layers import get_channel_layer

from moderation import queries

logger = logging.getLogger(__name__)

# Groups
QUEUE_GROUP = "queue"  # every console watching the live queue
NEWS_GROUP = "news"  # news reviewers and the editor-in-chief: applications, held comments
COMPLIANCE_GROUP = "compliance"  # compliance admins: licence alerts

# Other events (``event`` frames; docs/console-protocol.md)
NEWS_APPLICATION = "news.application"  # an application was submitted or changed status
COMMENT_HELD = "comment.held"  # a comment waits for review
COMMENT_DECIDED = "comment.decided"  # a held comment was released or rejected
LICENCE_EXPIRING = "licence.expiring"  # a news licence expires within the alert window
LICENCE_EXPIRED = "licence.expired"  # a news licence expired: approvals relying on it lapsed

# Delta events (docs/console-protocol.md)
STREAM_OPENED = "stream.opened"
STREAM_UPDATED = "stream.updated"
STREAM_PATROLLED = "stream.patrolled"
STREAM_BLOCKED = "stream.blocked"
STREAM_CUT_CONFIRMED = "stream.cut_confirmed"
STREAM_ESCALATED = "stream.escalated"
STREAM_ENDED = "stream.ended"
PUBLISHER_SUSPENDED = "publisher.suspended"
PUBLISHER_CLOSED = "publisher.closed"
PUBLISHER_CREDIT_CHANGED = "publisher.credit_changed"

SEQ_CACHE_KEY = "console:delta-seq"
_QUEUE_LIMIT = 100_000
_IDLE_SECONDS = 1.0
_BATCH_WINDOW_SECONDS = 0.025  # the sender drops its database connection after this long without work
_CLOSE = object()


class _Sender:
    """One daemon thread with its own event loop, forwarding queued events to the channel layer."""

    def __init__(self) -> None:
        self.queue: queue.Queue = queue.Queue(maxsize=_QUEUE_LIMIT)
        self.pid = os.getpid()
        self.thread = threading.Thread(target=self._run, name="console-events", daemon=True)
        self.thread.start()

    def put(self, item) -> None:
        try:
            self.queue.put_nowait(item)
        except queue.Full:
            logger.error("console event queue full; dropped %s", item[1] if isinstance(item, tuple) else item)

    def _run(self) -> None:
        # A plain blocking get on this thread (no executor threads, which would hold up exit),
        # then everything queued meanwhile is sent in order on this thread's own event loop.
        loop = asyncio.new_event_loop()
        layer = get_channel_layer()
        while True:
            try:
                first = self.queue.get(timeout=_IDLE_SECONDS)
            except queue.Empty:
                _close_database()
                continue
            # Gather what else arrives within a short window: one card query and one counter
            # increment serve the whole batch (consoles repaint at most a few times a second anyway).
            batch = [first]
            window_ends = time.monotonic() + _BATCH_WINDOW_SECONDS
            while len(batch) < 500:
                remaining = window_ends - time.monotonic()
                try:
                    batch.append(self.queue.get(timeout=remaining) if remaining > 0 else self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                messages = _resolve(batch)
                loop.run_until_complete(_send(layer, messages))
            except Exception:  # the changes are committed already; consoles resync on reconnect
                logger.exception("could not send %s console events", len(batch))
                _close_database()
            finally:
                for _item in batch:
                    self.queue.task_done()


def _close_database() -> None:
    db.connections.close_all()


def _resolve(batch: list) -> list[tuple[str, dict]]:
    """Turn queued items into channel-layer messages: cards for deltas, numbered in order."""
    deltas = [item for item in batch if item is not _CLOSE and item[0] == "delta"]
    cards: dict[int, dict] = {}
    first_seq = 0
    if deltas:
        try:
            wanted = {stream_id for _kind, _event, stream_id, card in deltas if card is None}
            cards = queries.cards_for_streams(wanted) if wanted else {}
        except Exception:
            logger.exception("could not build cards for console deltas")
            _close_database()
        first_seq = _next_seq(len(deltas))
    messages: list[tuple[str, dict]] = []
    seq = first_seq
    for item in batch:
        if item is _CLOSE:
            _close_database()
            continue
        if item[0] == "delta":
            _kind, event, stream_id, given = item
            card = given or cards.get(stream_id) or {"id": stream_id}
            # Serialised once here, not once per console: a delta goes to hundreds of sockets.
            frame = {"type": "delta", "seq": seq, "event": event, "stream": card}
            text = json.dumps(frame, ensure_ascii=False)
            messages.append((QUEUE_GROUP, {"type": "console.delta", "seq": seq, "event": event, "text": text}))
            seq += 1
        else:
            _kind, group, message = item
            messages.append((group, message))
    return messages


def _next_seq(count: int) -> int:
    """Reserve ``count`` consecutive sequence numbers; return the first."""
    try:
        last = cache.incr(SEQ_CACHE_KEY, count)
    except ValueError:
        cache.add(SEQ_CACHE_KEY, 0, timeout=None)
        last = cache.incr(SEQ_CACHE_KEY, count)
    return last - count + 1


def current_seq() -> int:
    """The number of the last delta sent, platform-wide."""
    return int(cache.get(SEQ_CACHE_KEY, 0))


async def _send(layer, messages: list[tuple[str, dict]]) -> None:
    for group, message in messages:
        try:
            if layer is not None:
                await layer.group_send(group, message)
        except Exception:
            logger.exception("could not send a console event to %s", group)


_sender: _Sender | None = None
_sender_lock = threading.Lock()


def _get_sender() -> _Sender:
    global _sender
    with _sender_lock:
        # A forked child (a Celery prefork worker) needs a thread of its own.
        if _sender is None or _sender.pid != os.getpid():
            _sender = _Sender()
        return _sender


def queue_delta(event: str, stream_id: int, card: dict | None = None) -> None:
    """Queue a delta about one stream for every console; returns at once.

    Without ``card`` the sender builds the stream's full card; with one (a few fields) it sends
    that as is, with no database read.
    """
    _get_sender().put(("delta", event, stream_id, card))


def send_to_group(group: str, event_type: str, payload: dict) -> None:
    """Queue any other event for a group; returns at once."""
    _get_sender().put(("group", group, {"type": "console.event", "event": event_type, "payload": payload}))


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


def release_database(timeout: float = 5.0) -> None:
    """Flush, then make the sender close its database connection (before a test database goes)."""
    sender = _sender
    if sender is None or sender.pid != os.getpid():
        return
    sender.put(_CLOSE)
    flush(timeout)


atexit.register(flush, 2.0)


# --- what actions call ------------------------------------------------------------------------


def stream_opened(stream_id: int) -> None:
    queue_delta(STREAM_OPENED, stream_id)


def stream_ended(stream_id: int, reason: str = "") -> None:
    # An ended stream leaves the queue: consoles need its id, state and why, not a fresh card.
    queue_delta(STREAM_ENDED, stream_id, {"id": stream_id, "state": "ended", "end_reason": reason or None})


def streams_claimed(stream_ids: list[int]) -> None:
    """Tell consoles who watches these streams now (claimed or released: the cards say)."""
    for stream_id in stream_ids:
        queue_delta(STREAM_UPDATED, stream_id)


def stream_updated(stream_id: int) -> None:
    """Tell consoles that a stream's card changed (snapshot, review flag …); the card is read when sent."""
    queue_delta(STREAM_UPDATED, stream_id)


def news_application_changed(application_id: int) -> None:
    """Tell news consoles that an application arrived or changed status (its row, read now)."""
    for row in queries.news_application_rows([application_id]):
        send_to_group(NEWS_GROUP, NEWS_APPLICATION, row)


def comment_held(row: dict) -> None:
    send_to_group(NEWS_GROUP, COMMENT_HELD, row)


def comment_decided(row: dict) -> None:
    send_to_group(NEWS_GROUP, COMMENT_DECIDED, row)


def licence_alert(event: str, payload: dict) -> None:
    """Tell compliance consoles about a licence expiring or expired."""
    send_to_group(COMPLIANCE_GROUP, event, payload)


def publisher_credit_changed(stream_ids: list[int]) -> None:
    """Tell consoles that these live streams' publisher changed credit level (card and priority)."""
    for stream_id in stream_ids:
        queue_delta(PUBLISHER_CREDIT_CHANGED, stream_id)
