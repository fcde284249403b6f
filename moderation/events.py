"""Events sent to consoles; the only module that calls ``group_send``. Actions register these with
``transaction.on_commit`` so a rolled-back change sends nothing.

Sending never makes the caller wait: events go onto a queue that one background thread per
process drains, in order. For queue deltas that thread builds the stream's card (one query for
everything queued meanwhile), numbers the deltas from a platform-wide sequence in Redis, and hands
them to the channel layer. The gate and the block path therefore answer without waiting on the
database read or Redis.

The sequence has an epoch: a random id created with the counter, in one Redis hash, by one script,
so a Redis that lost its keys (a restart without persistence, a failover) starts a new epoch
instead of numbers the consoles have seen. A console that sees a gap in the numbers or a new epoch
resyncs. When Redis does not answer, the sender drops what it cannot send (the callers never wait)
and keeps trying Redis; once it answers, it tells the consoles that missed events to resync
(``resync_needed``). docs/console-protocol.md has the frames.
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
from collections.abc import Callable

from django import db

import redis
from channels.layers import get_channel_layer

from moderation import delta_sequence, queries
from moderation.delta_sequence import Position, position  # noqa: F401 - the consumer reads events.position()

logger = logging.getLogger(__name__)

# Groups
QUEUE_GROUP = "queue"  # every console watching the live queue
NEWS_GROUP = "news"  # news reviewers and the editor-in-chief: applications, held comments
COMPLIANCE_GROUP = "compliance"  # compliance admins: licence alerts
AUDIT_GROUP = "audits"  # staff on duty (and compliance admins): audits' findings as alerts
COMMENTS_GROUP = "comments"  # whoever may decide some held comment: the hold queue
REPORTS_GROUP = "reports"  # who handles public reports: the report queue

# Other events (``event`` frames; docs/console-protocol.md)
NEWS_APPLICATION = "news.application"  # an application was submitted or changed status
COMMENT_HELD = "comment.held"  # a comment waits for review
COMMENT_DECIDED = "comment.decided"  # a held comment was released or rejected
COMMENTS_HELD = "comments.held"  # comments of one ingest batch wait for review (the hold queue)
COMMENTS_DECIDED = "comments.decided"  # held comments were released, rejected or removed (the hold queue)
LICENCE_EXPIRING = "licence.expiring"  # a news licence expires within the alert window
LICENCE_EXPIRED = "licence.expired"  # a news licence expired: approvals relying on it lapsed
AUDIT_FINDING = "audit.finding"  # an audit found something, or a finding was acknowledged or resolved
# Reports (reports group); surges and emergencies (queue group): actions/reports.py, emergencies.py.
REPORT_FILED, REPORT_CHANGED, REPORT_OVERDUE = "report.filed", "report.changed", "report.overdue"
REPORT_SURGE, EMERGENCY_CHANGED, EMERGENCY_PROGRESS = "report.surge", "emergency.changed", "emergency.progress"

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

RESYNC_NEEDED = "resync_needed"  # a frame: events to these consoles were lost, fetch a snapshot

_SEND_TIMEOUT_SECONDS = 2.0
_PROBE_SECONDS = 1.0  # while Redis fails, the sender tries it again this often, dropping events between
_SETTLE_SECONDS = 3.0  # channels_redis subscribes again within about a second of Redis coming back

_QUEUE_LIMIT = 100_000
_IDLE_SECONDS = 1.0
_BATCH_WINDOW_SECONDS = 0.025  # the sender drops its database connection after this long without work
_CLOSE = object()


class _Sender:
    """One daemon thread with its own event loop, forwarding queued events to the channel layer.

    When Redis fails, the sender drops what it cannot send (the callers never wait) and tries Redis
    again every ``_PROBE_SECONDS``. Once Redis answers, and whenever the sequence's epoch changed
    under it, it waits ``_SETTLE_SECONDS`` (the consoles' processes take a moment to subscribe
    again to a restarted Redis) and tells the consoles that may have missed events to resync.
    """

    def __init__(self) -> None:
        self.queue: queue.Queue = queue.Queue(maxsize=_QUEUE_LIMIT)
        self.pid = os.getpid()
        self.failing = False  # Redis did not answer the last try
        self.next_probe = 0.0
        self.lost: set[str] = set()  # groups whose consoles may have missed events
        self.resync_at: float | None = None  # when to tell them
        self.epoch: str | None = None  # the sequence's epoch this sender last saw
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
            batch = self._gather()
            try:
                if self.failing and not self._probe():
                    self._drop(batch)
                    continue
                if batch:
                    self._deliver(batch, loop, layer)
                if self.resync_at is not None and time.monotonic() >= self.resync_at:
                    self._ask_for_resync(loop, layer)
            except Exception as exc:  # the changes are committed already; the consoles will resync
                self._drop(batch, exc)
            finally:
                for _item in batch:
                    self.queue.task_done()

    def _gather(self) -> list:
        """Wait for events; return them with what else arrives within a short window ([] when idle)."""
        try:
            first = self.queue.get(timeout=_IDLE_SECONDS)
        except queue.Empty:
            _close_database()
            return []
        # One card query and one sequence reservation serve the whole batch (consoles repaint at
        # most a few times a second anyway).
        batch = [first]
        window_ends = time.monotonic() + _BATCH_WINDOW_SECONDS
        while len(batch) < 500:
            remaining = window_ends - time.monotonic()
            try:
                batch.append(self.queue.get(timeout=remaining) if remaining > 0 else self.queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _deliver(self, batch: list, loop: asyncio.AbstractEventLoop, layer) -> None:
        messages, epoch, complete = _resolve(batch)
        if epoch is not None:
            if self.epoch is not None and epoch != self.epoch:
                self._schedule_resync({QUEUE_GROUP})  # Redis lost the sequence, and messages with it
            self.epoch = epoch
        if not complete:
            self._schedule_resync({QUEUE_GROUP})  # some cards went out as bare ids
        failed = loop.run_until_complete(_send(layer, messages))
        if failed:
            self._fail(failed)

    def _drop(self, batch: list, exc: Exception | None = None) -> None:
        """Forget events that cannot be sent now, remembering whose consoles missed them."""
        groups = set()
        for item in batch:
            if item is _CLOSE:
                _close_database()
            elif item[0] == "delta":
                groups.add(QUEUE_GROUP)
            else:
                groups.add(item[1])
        if groups or exc is not None:
            self._fail(groups, exc)

    def _fail(self, groups: set[str], exc: Exception | None = None) -> None:
        if not self.failing:
            logger.error("console events could not be sent; consoles resync once Redis answers", exc_info=exc)
        self.failing = True
        self.next_probe = time.monotonic() + _PROBE_SECONDS
        self.lost |= groups
        self.resync_at = None

    def _probe(self) -> bool:
        """Try Redis again if it is time; return whether it answered."""
        if time.monotonic() < self.next_probe:
            return False
        self.next_probe = time.monotonic() + _PROBE_SECONDS
        try:
            self.epoch = delta_sequence.reserve(0).epoch
        except Exception:
            return False
        logger.warning("Redis answers again; consoles that missed events are told to resync")
        self.failing = False
        self._schedule_resync(set())
        return True

    def _schedule_resync(self, groups: set[str]) -> None:
        self.lost |= groups
        if self.resync_at is None:
            self.resync_at = time.monotonic() + _SETTLE_SECONDS

    def _ask_for_resync(self, loop: asyncio.AbstractEventLoop, layer) -> None:
        """Send ``resync_needed`` to the groups that may have missed events."""
        if not self.lost:
            self.resync_at = None
            return
        try:
            # Numbered like a delta: a console that misses this frame still sees a gap at the next one.
            at = delta_sequence.reserve(1)
        except Exception as exc:
            self._fail(set(), exc)
            return
        self.epoch = at.epoch
        text = json.dumps({"type": RESYNC_NEEDED, "epoch": at.epoch, "seq": at.seq})
        # The consumer relays the text as it relays a delta's.
        messages = [(group, {"type": "console.delta", "text": text}) for group in sorted(self.lost)]
        failed = loop.run_until_complete(_send(layer, messages))
        if failed:
            self._fail(failed)
            return
        self.lost.clear()
        self.resync_at = None


def _close_database() -> None:
    db.connections.close_all()


def _resolve(batch: list) -> tuple[list[tuple[str, dict]], str | None, bool]:
    """Turn queued items into channel-layer messages: cards for deltas, numbered in order.

    Also return the epoch of their numbers (None without deltas) and whether every card could be
    built. Raises redis' errors when the sequence cannot be reserved.
    """
    deltas = [item for item in batch if item is not _CLOSE and item[0] == "delta"]
    cards: dict[int, dict] = {}
    complete = True
    at = Position("", 0)
    if deltas:
        try:
            wanted = {stream_id for _kind, _event, stream_id, card in deltas if card is None}
            cards = queries.cards_for_streams(wanted) if wanted else {}
        except Exception:
            logger.exception("could not build cards for console deltas")
            _close_database()
            complete = False
        last = delta_sequence.reserve(len(deltas))
        at = Position(last.epoch, last.seq - len(deltas) + 1)
    rows = _read_rows(batch)
    messages: list[tuple[str, dict]] = []
    seq = at.seq
    for item in batch:
        if item is _CLOSE:
            _close_database()
            continue
        if item[0] == "delta":
            _kind, event, stream_id, given = item
            card = given or cards.get(stream_id) or {"id": stream_id}
            # Serialised once here, not once per console: a delta goes to hundreds of sockets.
            frame = {"type": "delta", "epoch": at.epoch, "seq": seq, "event": event, "stream": card}
            text = json.dumps(frame, ensure_ascii=False)
            messages.append((QUEUE_GROUP, {"type": "console.delta", "seq": seq, "event": event, "text": text}))
            seq += 1
        elif item[0] == "row":
            _kind, group, event, row_id, reader = item
            row = rows.get((reader, row_id))
            if row is not None:
                messages.append((group, {"type": "console.event", "event": event, "payload": row}))
        else:
            _kind, group, message = item
            messages.append((group, message))
    return messages, (at.epoch if deltas else None), complete


def _read_rows(batch: list) -> dict[tuple, dict]:
    """Read the rows of the batch's ``send_row`` events: one call of each reader for all its ids."""
    wanted: dict[Callable, list[int]] = {}
    for item in batch:
        if item is not _CLOSE and item[0] == "row":
            wanted.setdefault(item[4], []).append(item[3])
    found: dict[tuple, dict] = {}
    for reader, ids in wanted.items():
        try:
            found.update(((reader, row["id"]), row) for row in reader(sorted(set(ids))))
        except Exception:
            logger.exception("could not read rows for console events")
            _close_database()
    return found


async def _send(layer, messages: list[tuple[str, dict]]) -> set[str]:
    """Hand messages to the channel layer in order; return the groups of those that were not sent.

    After the first failure the rest of the batch is not tried: Redis is likely down, and each try
    could wait for the timeout.
    """
    if layer is None:
        return set()
    for index, (group, message) in enumerate(messages):
        try:
            await _group_send(layer, group, message)
        except Exception as exc:
            logger.warning("could not send a console event to %s: %r", group, exc)
            return {later for later, _message in messages[index:]}
    return set()


async def _group_send(layer, group: str, message: dict) -> None:
    try:
        async with asyncio.timeout(_SEND_TIMEOUT_SECONDS):
            await layer.group_send(group, message)
    except redis.ConnectionError:
        # The layer's pooled connection died with a Redis restart (and redis' asyncio client does
        # not retry); the second try opens a fresh one.
        async with asyncio.timeout(_SEND_TIMEOUT_SECONDS):
            await layer.group_send(group, message)


_sender: _Sender | None = None
_sender_lock = threading.Lock()


def _get_sender() -> _Sender:
    global _sender
    with _sender_lock:
        # A forked child (a Celery prefork worker) needs a thread of its own.
        if _sender is None or _sender.pid != os.getpid():
            _sender = _Sender()
        return _sender


_feed_lock = threading.Lock()
_feed = {"up": True, "checked_at": float("-inf"), "checking": False}
_FEED_CHECK_SECONDS = 1.0


def feed_up() -> bool:
    """Whether deltas reach the consoles from here (Redis answers a PING, the sender drops nothing).

    For the pong, so the indicator says "updates paused" while Redis is down. Never blocks: the answer
    is the last check's, at most about two seconds old (a check runs at most once a second).
    """
    with _feed_lock:
        start = not _feed["checking"] and time.monotonic() - _feed["checked_at"] >= _FEED_CHECK_SECONDS
        if start:
            _feed["checking"] = True
        up = _feed["up"]
    if start:
        threading.Thread(target=_check_feed, name="liveward-feed-check", daemon=True).start()
    return up


def _check_feed() -> None:
    try:
        up = delta_sequence.ping() and not (_sender is not None and _sender.failing)
    except Exception:  # whatever stops the PING (Redis' errors, a bad socket) means down
        up = False
    with _feed_lock:
        _feed.update(up=up, checked_at=time.monotonic(), checking=False)


def queue_delta(event: str, stream_id: int, card: dict | None = None) -> None:
    """Queue a delta about one stream for every console; returns at once.

    Without ``card`` the sender builds the stream's full card; with one (a few fields) it sends
    that as is, with no database read.
    """
    _get_sender().put(("delta", event, stream_id, card))


def staff_group(user_id: int) -> str:
    """Name the group of one staff member's console sockets."""
    return f"staff.{user_id}"


def end_staff_sockets(user_id: int, **kwargs) -> None:
    """Close every console socket of one staff member (receiver of ``staff_access_revoked``)."""
    _get_sender().put(("group", staff_group(user_id), {"type": "staff.sockets_end"}))


def send_to_group(group: str, event_type: str, payload: dict) -> None:
    """Queue any other event for a group; returns at once."""
    _get_sender().put(("group", group, {"type": "console.event", "event": event_type, "payload": payload}))


def send_row(group: str, event_type: str, row_id: int, rows: Callable[[list[int]], list[dict]]) -> None:
    """Queue an event whose payload is a row read when it is sent; returns at once.

    ``rows`` reads the rows of a list of ids (each row with its ``id``): the sender calls it once for
    every event of the same kind queued meanwhile, so a burst (reports filed at 200 a second) costs
    one query, on the sender's thread, not one per request. An id whose row is gone sends nothing.
    """
    _get_sender().put(("row", group, event_type, row_id, rows))


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


def comments_held(rows: list[dict]) -> None:
    """Tell the hold queue about newly held comments (one frame per batch); news consoles, one by one."""
    for row in rows:
        if row["hold_reason"] == "news_pre_review":
            send_to_group(NEWS_GROUP, COMMENT_HELD, row)
    send_to_group(COMMENTS_GROUP, COMMENTS_HELD, {"comments": rows})


def comments_decided(rows: list[dict]) -> None:
    """Tell the hold queue and news consoles that held comments were decided."""
    for row in rows:
        if row["hold_reason"] == "news_pre_review":
            send_to_group(NEWS_GROUP, COMMENT_DECIDED, row)
    send_to_group(COMMENTS_GROUP, COMMENTS_DECIDED, {"comments": rows})


def licence_alert(event: str, payload: dict) -> None:
    """Tell compliance consoles about a licence expiring or expired."""
    send_to_group(COMPLIANCE_GROUP, event, payload)


def publisher_credit_changed(stream_ids: list[int]) -> None:
    """Tell consoles that these live streams' publisher changed credit level (card and priority)."""
    for stream_id in stream_ids:
        queue_delta(PUBLISHER_CREDIT_CHANGED, stream_id)


def audit_findings_changed(finding_ids: list[int]) -> None:
    """Tell on-duty consoles about many new findings at once (one read, an alert each)."""
    for alert in queries.finding_alerts(finding_ids):
        send_to_group(AUDIT_GROUP, AUDIT_FINDING, alert)


def audit_finding_changed(finding_id: int) -> None:
    """Tell on-duty consoles about a new finding, or that one was acknowledged or resolved (and by whom)."""
    alert = queries.finding_alert(finding_id)
    if alert is not None:
        send_to_group(AUDIT_GROUP, AUDIT_FINDING, alert)
