"""The console's WebSocket (docs/console-protocol.md): authenticate, check roles, relay, call actions.

The consumer only validates frames and relays: reads go through moderation.queries and every
change through moderation.actions, on the console's long-lived database threads
(moderation/database_threads.py), so an action does not open a database connection of its own. The
role is checked again, freshly read, in the same call as each action. Refused frames get an error
frame with a code; nothing is written and the socket stays open. A block's drop at the media server
runs on the cut threads (moderation/cut_threads.py): the ack waits for the node's answer there,
holding no database thread, so a slow node delays only its own cut. While the database is
unavailable, frames get the error ``unavailable`` and the socket stays open.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from concurrent.futures import Future

from django import db
from django.conf import settings

from channels.generic.websocket import AsyncWebsocketConsumer

from accounts.actions import is_on_duty
from accounts.middleware import setup_step_without_request
from accounts.roles import refresh_roles
from accounts.staff_sessions import stored_session_seconds_left
from console import fanout
from moderation import actions, events, permissions, queries, text_input
from moderation.actions.news import NOTE_MAX as NEWS_NOTE_MAX
from moderation.actions.news import STAFF_DECISIONS
from moderation.actions.patrol import MAX_SUSPEND_MINUTES
from moderation.database_threads import DatabaseThreads
from moderation.models import Comment, ModerationAction, ReasonCode, Stream

logger = logging.getLogger(__name__)
MAX_FRAME_BYTES = 8 * 1024
_REQUEST_ID = re.compile(r"[A-Za-z0-9_\-:.]{1,64}")
_NOTE_MAX = 500
# Close codes (docs/console-protocol.md)
SESSION_EXPIRED = 4401  # no login: log in again
FORBIDDEN = 4403  # this account may not use the console

Kind = ModerationAction.Kind
# The action kinds a console may send, and the action each calls.
ACTION_FUNCTIONS = {
    Kind.MARK_PATROLLED: actions.mark_patrolled,
    Kind.WARN: actions.warn_publisher,
    Kind.BLOCK: actions.block_stream,
    Kind.SUSPEND: actions.suspend_publisher,
    Kind.CLOSE: actions.close_publisher,
    Kind.ESCALATE: actions.escalate_stream,
}


_threads = DatabaseThreads("console", lambda: settings.LIVEWARD_CONSOLE_THREADS)


def shutdown() -> None:
    """Close the console threads' database connections (tests, before the database goes)."""
    _threads.shutdown()


COMMENT_DECISIONS = {"release": True, "reject": False}
HOLD_QUEUE_WINDOW = 500  # held comments in a hold-queue snapshot, oldest first


class FrameError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ConsoleConsumer(AsyncWebsocketConsumer):
    """One per console tab."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Broadcasts (console/fanout.py) wait in the outbox while the console handles a frame of
        # its own (its connect and first snapshot, a resync, an action), then go out in order.
        self._outbox: asyncio.Queue[str] = asyncio.Queue()
        self._between_frames = asyncio.Event()
        self._between_frames.set()
        self._writer: asyncio.Task | None = None

    async def dispatch(self, message: dict) -> None:
        self._between_frames.clear()
        try:
            await super().dispatch(message)
        finally:
            self._between_frames.set()

    def push_broadcast(self, text: str) -> None:
        """Queue a broadcast frame's text for this console's socket (called by its process's relay)."""
        self._outbox.put_nowait(text)

    async def _write_broadcasts(self) -> None:
        while True:
            text = await self._outbox.get()
            await self._between_frames.wait()  # returns at once when no frame is being handled
            try:
                await self.send(text_data=text)
            except Exception:  # the socket is closing: its disconnect stops this task
                logger.debug("console broadcast not written: the socket is closing", exc_info=True)
                return

    async def connect(self) -> None:
        user = self.scope.get("user")
        try:
            allowed = await _threads.run(permissions.may, user, "console.view")
        except db.Error:
            logger.warning("console connection refused: the database is unavailable", exc_info=True)
            await self.close(code=4503)
            return
        if not allowed:
            # 4401: no login (it expired, or the user logged out): the page asks to log in again.
            # 4403: logged in, but this account may not use the console.
            await self.close(code=SESSION_EXPIRED if not getattr(user, "is_authenticated", False) else FORBIDDEN)
            return
        try:
            login_complete = await _threads.run(_login_complete, user, self.scope.get("session"))
        except db.Error:
            logger.warning("console connection refused: the database is unavailable", exc_info=True)
            await self.close(code=4503)
            return
        if not login_complete:  # second factor not passed, or the session ended idle: log in (again)
            await self.close(code=SESSION_EXPIRED)
            return
        self.user = user
        self.groups_joined = await _threads.run(self._groups)
        # Subscribed before the snapshot's position is read: nothing numbered after it is missed.
        for group in self.groups_joined:
            if group in fanout.BROADCAST_GROUPS:
                await fanout.join(group, self)
            else:
                await self.channel_layer.group_add(group, self.channel_name)
        self._writer = asyncio.get_running_loop().create_task(self._write_broadcasts())
        await self.accept()
        hello = await _threads.run(self._hello)
        await self.send_json(hello)
        await self.send_snapshot({})
        self._expiry = await self._close_when_the_login_expires()

    async def _close_when_the_login_expires(self) -> asyncio.TimerHandle | None:
        """Close with 4401 when the session ends, as a new socket would be refused then.

        It ends by its age (SESSION_COOKIE_AGE: one shift) or after LIVEWARD_IDLE_MINUTES without
        activity; when the time comes the stored session is read again (another tab's activity
        counts) and the socket closes only if it has really ended.
        """
        session = self.scope.get("session")
        if session is None:
            return None
        try:
            seconds = await _threads.run(stored_session_seconds_left, session.session_key)
        except db.Error:  # the database went away just now: look again in a minute
            logger.warning("could not read the session's expiry; looking again in a minute", exc_info=True)
            seconds = 60.0
        if seconds <= 0:
            await self.close(code=SESSION_EXPIRED)
            return None
        loop = asyncio.get_running_loop()
        return loop.call_later(seconds, lambda: loop.create_task(self._check_the_login()))

    async def _check_the_login(self) -> None:
        self._expiry = await self._close_when_the_login_expires()

    def _groups(self) -> list[str]:
        groups = [events.QUEUE_GROUP, events.staff_group(self.user.pk)]
        if permissions.may(self.user, "news.review"):
            groups.append(events.NEWS_GROUP)
        if permissions.may(self.user, "compliance.alerts"):
            groups.append(events.COMPLIANCE_GROUP)
        # Audits' findings go to the staff on duty as alerts (checked at connect: each page opens a socket).
        if permissions.may(self.user, "audit.alerts") and is_on_duty(self.user):
            groups.append(events.AUDIT_GROUP)
        if permissions.may(self.user, "comments.queue"):
            groups.append(events.COMMENTS_GROUP)
        if permissions.may(self.user, "report.read"):
            groups.append(events.REPORTS_GROUP)
        return groups

    def _hello(self) -> dict:
        position = events.position()
        return {
            "type": "hello",
            "user": self.user.get_username(),
            "roles": sorted(self.user.role_names),
            "live": queries.live_stream_count(),
            "epoch": position.epoch,
            "seq": position.seq,
            **({"alerts": queries.open_finding_alerts()} if events.AUDIT_GROUP in self.groups_joined else {}),
        }

    async def disconnect(self, code: int) -> None:
        expiry = getattr(self, "_expiry", None)
        if expiry is not None:
            expiry.cancel()
        if self._writer is not None:
            self._writer.cancel()
        for group in getattr(self, "groups_joined", []):
            if group in fanout.BROADCAST_GROUPS:
                fanout.leave(group, self)
            else:
                await self.channel_layer.group_discard(group, self.channel_name)

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
            # At most text_input.MAX_JSON_DEPTH levels, and no control characters or lone surrogates in any string.
            message = text_input.load_json(text_data)
        except text_input.JSONRefused as exc:
            await self.send_error(exc.code, "the frame is not JSON" if exc.code == "bad_json" else str(exc))
            return
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self.send_error("bad_message", "a message is a JSON object with a string 'type'")
            return
        kind = message["type"]
        handler = MESSAGE_HANDLERS.get(kind)
        if handler is None:
            await self.send_error("unknown_type", f"unknown message type {kind[:40]!r}")
            return
        request_id = message.get("request_id") if isinstance(message.get("request_id"), str) else None
        # The table's coarse gate (roles read at connect; the handler re-reads them for its exact check).
        if not permissions.may_send(self.user, kind):
            await self.send_error("forbidden", f"your role may not send {kind}", request_id=request_id)
            return
        try:
            await handler(self, message, received)
        except FrameError as exc:
            await self.send_error(exc.code, str(exc), request_id=request_id)
        except db.Error:
            logger.warning("console frame %r failed in the database", kind[:40], exc_info=True)
            await self.send_error("unavailable", "the database is unavailable; try again", request_id=request_id)

    async def handle_ping(self, message: dict, received: float) -> None:
        await self.send_json({"type": "pong", "id": message.get("id"), "feed": events.feed_up()})

    async def handle_resync(self, message: dict, received: float) -> None:
        await self.send_snapshot(message)

    async def send_snapshot(self, message: dict) -> None:
        offset = _int_field(message, "offset", default=0, minimum=0, maximum=1_000_000)
        limit = _int_field(message, "limit", default=100, minimum=1, maximum=queries.QUEUE_WINDOW_MAX)
        category = message.get("category") or None
        if category is not None and (not isinstance(category, str) or len(category) > 32):
            raise FrameError("bad_field", "category must be a category slug")
        tier = _int_field(message, "tier", default=0, minimum=0, maximum=9) or None
        # One stream, live or ended (its page): a window of its card alone.
        stream = _int_field(message, "stream", default=0, minimum=0, maximum=2**63 - 1) or None
        snapshot = await _threads.run(self._snapshot, offset, limit, category, tier, stream)
        await self.send_json(snapshot)

    def _snapshot(self, offset: int, limit: int, category: str | None, tier: int | None, stream: int | None) -> dict:
        position = events.position()  # read first: a delta after this number is newer than the window
        filters: dict = {"category": category, "tier": tier}
        if stream is not None:
            cards = list(queries.cards_for_streams([stream]).values())
            total, offset, filters = len(cards), 0, {"stream": stream}
        else:
            total, cards = queries.queue_window(offset=offset, limit=limit, category=category, tier=tier)
        return {
            "type": "snapshot",
            "epoch": position.epoch,
            "seq": position.seq,
            "total": total,
            "offset": offset,
            "streams": cards,
            "filters": filters,
        }

    async def handle_action(self, message: dict, received: float) -> None:
        request_id = message.get("request_id")
        if not isinstance(request_id, str) or not _REQUEST_ID.fullmatch(request_id):
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
        action = await _threads.run(self._act, kind, stream_id, request_id, reason, note, extra)
        await _cut_answered(getattr(action, "cut", None))
        await self.send_json(_ack(action, request_id, received))

    async def handle_claim(self, message: dict, received: float) -> None:
        limit = _int_field(message, "limit", default=20, minimum=1, maximum=queries.QUEUE_WINDOW_MAX)
        claimed = await _threads.run(self._claim, limit)
        await self.send_json({"type": "claimed", "streams": claimed})

    def _claim(self, limit: int) -> list[int]:
        try:
            return actions.claim_streams(self.user, limit=limit)
        except actions.ModerationError as exc:
            raise FrameError(exc.code, str(exc)) from None

    def _act(self, kind, stream_id, request_id, reason, note, extra) -> ModerationAction:
        # Roles and the active flag are read afresh: a role taken away mid-shift stops the next action.
        refresh_roles(self.user)
        if not permissions.may(self.user, permissions.action_capability(kind)):
            raise FrameError("forbidden", "your role may not do this")
        stream = Stream(pk=stream_id)  # the action locks and reads it; an unknown id raises not_found
        function = ACTION_FUNCTIONS[kind]
        arguments = {"actor": self.user, "note": note, "request_id": request_id, **extra}
        if kind != Kind.MARK_PATROLLED:
            arguments["reason"] = reason
        try:
            return function(stream, **arguments)
        except actions.ModerationError as exc:
            raise FrameError(exc.code, str(exc)) from None

    # --- news (docs/console-protocol.md, "News review") -----------------------------------------

    async def _require_news_role(self) -> None:
        if events.NEWS_GROUP not in self.groups_joined:
            raise FrameError("forbidden", "news review is for news reviewers and the editor-in-chief")

    async def handle_news_resync(self, message: dict, received: float) -> None:
        await self._require_news_role()
        await self.send_json(await _threads.run(self._news_snapshot))

    def _news_snapshot(self) -> dict:
        applications = list(queries.news_applications_for_queue())
        held = list(queries.held_comments(reasons=[Comment.HoldReason.NEWS_PRE_REVIEW]))
        return {
            "type": "news.snapshot",
            "applications": [queries.news_application_row(application) for application in applications],
            "comments": [queries.comment_row(comment) for comment in held],
        }

    async def handle_news_decide(self, message: dict, received: float) -> None:
        await self._require_news_role()
        request_id = _request_id(message)
        application_id = _id_field(message, "application")
        decision = message.get("decision")
        if decision not in STAFF_DECISIONS:
            raise FrameError("bad_field", "decision must be one of " + ", ".join(STAFF_DECISIONS))
        note = _note(message, NEWS_NOTE_MAX)
        row = await _threads.run(self._decide_news, application_id, decision, note)
        await self.send_json({"type": "news.decided", "request_id": request_id, "application": row})

    def _decide_news(self, application_id: int, decision: str, note: str) -> dict:
        refresh_roles(self.user)  # as for patrol actions: a role taken away mid-session counts
        if not permissions.may(self.user, permissions.news_decision_capability(decision)):
            raise FrameError("forbidden", "your role may not do this")
        application = queries.news_application_by_id(application_id)
        if application is None:
            raise FrameError("not_found", "no such application")
        try:
            actions.decide_news_application(application, kind=decision, actor=self.user, note=note)
        except actions.ModerationError as exc:
            raise FrameError(exc.code, str(exc)) from None
        return queries.news_application_rows([application_id])[0]

    async def handle_comment_decide(self, message: dict, received: float) -> None:
        await self._require_news_role()
        request_id = _request_id(message)
        comment_id = _id_field(message, "comment")
        decision = message.get("decision")
        if decision not in COMMENT_DECISIONS:
            raise FrameError("bad_field", "decision must be release or reject")
        note = _note(message, 300)
        row = await _threads.run(self._decide_comment, comment_id, COMMENT_DECISIONS[decision], note)
        await self.send_json({"type": "comment.decided", "request_id": request_id, "comment": row})

    def _decide_comment(self, comment_id: int, release: bool, note: str) -> dict:
        refresh_roles(self.user)
        if not permissions.may(self.user, "news.review"):
            raise FrameError("forbidden", "news review is for news reviewers and the editor-in-chief")
        comment = queries.comment_by_id(comment_id)
        if comment is None:
            raise FrameError("not_found", "no such comment")
        try:
            decided = actions.decide_held_comment(comment, release=release, actor=self.user, note=note)
        except actions.ModerationError as exc:
            raise FrameError(exc.code, str(exc)) from None
        return queries.comment_row(decided)

    # --- the hold queue (docs/console-protocol.md, "Held comments"): the actions check the fields -----

    async def handle_comments(self, message: dict, received: float) -> None:
        if events.COMMENTS_GROUP not in self.groups_joined:
            raise FrameError("forbidden", "the hold queue is not for your role")
        request_id = None if message["type"] == "comments.resync" else _request_id(message)
        note = _note(message, 300)
        answer = await _threads.run(self._comments_frame, message, note)
        await self.send_json(answer if request_id is None else {**answer, "request_id": request_id})

    def _comments_frame(self, message: dict, note: str) -> dict:
        refresh_roles(self.user)
        kind, stream_id = message["type"], message.get("stream")
        if stream_id is not None and (not isinstance(stream_id, int) or isinstance(stream_id, bool) or stream_id < 1):
            raise FrameError("bad_field", "stream must be a stream id")
        stream = Stream(pk=stream_id) if stream_id else None
        fields = {"actor": self.user, "note": note}
        try:
            if kind == "comments.resync":
                held = queries.held_comments(limit=HOLD_QUEUE_WINDOW)
                rows, may_decide = [queries.comment_row(c) for c in held], permissions.decidable_hold_reasons(self.user)
                return {"type": "comments.snapshot", "comments": rows, "may_decide": may_decide}
            if kind == "comments.decide":
                if message.get("decision") not in COMMENT_DECISIONS:
                    raise FrameError("bad_field", "decision must be release or reject")
                release, ids = COMMENT_DECISIONS[message["decision"]], message.get("comments") or ()
                decided = actions.decide_held_comments(release=release, comment_ids=ids, stream=stream, **fields)
                return {"type": "comments.decided", "comments": [queries.comment_row(c) for c in decided]}
            fields.update(stream=stream, reason=message.get("reason"), minutes=message.get("minutes", 60))
            if kind == "viewer.delete_comments":
                removed = actions.delete_recent_comments(message.get("viewer"), **fields)
                return {"type": "viewer.comments_deleted", "comments": [comment.pk for comment in removed]}
            mute = actions.mute_viewer(message.get("viewer"), **fields)
        except actions.ModerationError as exc:
            raise FrameError(exc.code, str(exc)) from None
        until = mute.until.isoformat()
        return {
            "type": "viewer.muted",
            "mute": {"id": mute.pk, "viewer": mute.viewer_id, "stream": mute.stream_id, "until": until},
        }

    # --- outbound -------------------------------------------------------------------------------

    # Group messages on the channel layer: the per-console groups only (staff.<id>); the broadcast
    # groups come through console/fanout.py's relay and the outbox.
    async def console_delta(self, event: dict) -> None:
        await self.send(text_data=event["text"])  # the frame, serialised once by moderation.events

    async def staff_sockets_end(self, event: dict) -> None:
        """The user's access was revoked (accounts/staff_sessions.py): close as an ended login."""
        await self.close(code=SESSION_EXPIRED)

    async def console_event(self, event: dict) -> None:
        await self.send_json({"type": "event", "event": event["event"], "payload": event["payload"]})

    async def send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content, ensure_ascii=False))

    async def send_error(self, code: str, message: str, *, request_id: str | None = None) -> None:
        frame = {"type": "error", "code": code, "message": message}
        if request_id is not None:
            frame["request_id"] = request_id[:64]
        await self.send_json(frame)


# Every inbound message type and the method that handles it (docs/console-protocol.md).
MESSAGE_HANDLERS = {
    "ping": ConsoleConsumer.handle_ping,
    "resync": ConsoleConsumer.handle_resync,
    "action": ConsoleConsumer.handle_action,
    "claim": ConsoleConsumer.handle_claim,
    "news.resync": ConsoleConsumer.handle_news_resync,
    "news.decide": ConsoleConsumer.handle_news_decide,
    "comment.decide": ConsoleConsumer.handle_comment_decide,
    "comments.resync": ConsoleConsumer.handle_comments,
    "comments.decide": ConsoleConsumer.handle_comments,
    "viewer.mute": ConsoleConsumer.handle_comments,
    "viewer.delete_comments": ConsoleConsumer.handle_comments,
}


def _login_complete(user, session) -> bool:
    """Tell whether the socket's session finished its login (second factor, password) and is not idle."""
    if session is None or setup_step_without_request(user, session):
        return False
    return stored_session_seconds_left(session.session_key) > 0


async def _cut_answered(cut: Future | None) -> None:
    """Wait, without a database thread, until the node answered the action's drop (or its time ran out)."""
    if cut is None:
        return
    waiting = asyncio.wrap_future(cut)
    # The drop gives up after the media-server timeout; past that (a cut waiting in its node's lane)
    # the ack says "pending" and the stream.cut_confirmed delta follows.
    await asyncio.wait({waiting}, timeout=settings.LIVEWARD_MEDIA_SERVER_TIMEOUT + 1)
    waiting.add_done_callback(lambda done: done.cancelled() or done.exception())  # logged by the cut threads


def _ack(action: ModerationAction, request_id: str, received: float) -> dict:
    """The acknowledgement of an action: what the node said so far and the server's timings."""
    stamps = dict(getattr(action, "stamps", None) or {})  # one copy: a cut thread may still add to it
    return {
        "type": "ack",
        "request_id": request_id,
        "replayed": bool(getattr(action, "replayed", False)),
        "action": {"id": action.pk, "kind": action.kind, "media_status": action.media_status},
        "timings": {name: round((at - received) * 1000, 2) for name, at in stamps.items()},
    }


def _int_field(message: dict, name: str, *, default, minimum: int, maximum: int):
    value = message.get(name, default)
    if value is None and default is None:
        raise FrameError("missing_field", f"{name} is required")
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        raise FrameError("bad_field", f"{name} must be an integer between {minimum} and {maximum}")
    return value


def _request_id(message: dict) -> str:
    request_id = message.get("request_id")
    if not isinstance(request_id, str) or not _REQUEST_ID.fullmatch(request_id):
        raise FrameError("missing_field", "request_id: 1–64 letters, digits, - _ : .")
    return request_id


def _id_field(message: dict, name: str) -> int:
    value = message.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise FrameError("missing_field", f"{name} must be an id")
    return value


def _note(message: dict, limit: int) -> str:
    note = message.get("note", "")
    if not isinstance(note, str) or len(note) > limit:
        raise FrameError("bad_field", f"note must be text of at most {limit} characters")
    return note
