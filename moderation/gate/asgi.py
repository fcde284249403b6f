"""Serve the gate callbacks (/gate/…) straight from ASGI, ahead of Django's middleware.

Every stream start on the platform waits on the gate, and a media server's callback needs none of
the session, authentication, CSRF, locale or message middleware that a staff page does; under ASGI
each of those costs a hop into a per-request thread. This app answers /gate/ itself, and the
platform's registration check (POST /api/v1/registration-check, moderation/registration.py),
which every sign-up waits on too; it passes every other request to Django unchanged.

Decisions run on a small pool of long-lived threads, so each keeps its database connection
between callbacks (Django's per-request ASGI threads cannot). A thread whose call failed drops its
connections, so the next call reconnects. Any failure answers 503, which every media server takes
as a deny: the gate fails closed. A decision the database does not let finish within the answer
budget is answered the same way, without waiting for it (moderation/gate/faults.py: the budget, the
decision left behind, and the grace for a running session's on_update).

A session's end (nginx-rtmp's on_publish_done, SRS's on_unpublish) is not a decision: there is
nothing to deny, and a node never sends it again, so answering it early would leave the stream's row
live for good. Ends run on a lane of their own, are never abandoned at the budget (their statements
keep the gate's timeouts, so a dead database still fails them within seconds), and a burst of them
(a node stopping with hundreds of sessions) neither waits behind nor delays the publish decisions.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re

from django.conf import settings

from moderation.database_threads import DatabaseThreads, drop_connections, drop_failed_connections
from moderation.gate import faults, limits, protocols, registration, report_filing

logger = logging.getLogger(__name__)

_NGINX_PATH = re.compile(r"^/gate/nginx-rtmp/(?P<node>[^/]{1,64})/(?P<secret>[^/]{1,200})/(?P<hook>[^/]{1,32})\Z")
_SRS_PATH = re.compile(r"^/gate/srs/(?P<node>[^/]{1,64})/(?P<secret>[^/]{1,200})/\Z")

_threads = DatabaseThreads("gate", lambda: settings.LIVEWARD_GATE_THREADS, on_connect=faults.bound_connection)
_end_threads = DatabaseThreads(
    "gate-ends", lambda: max(2, settings.LIVEWARD_GATE_THREADS // 4), on_connect=faults.bound_connection
)
# Reports filed by the platform app (moderation/gate/report_filing.py): threads of their own, so a
# flood of reports never waits in front of a stream's start.
_report_threads = DatabaseThreads("reports", lambda: settings.LIVEWARD_REPORT_THREADS)
_UNAVAILABLE = protocols.GateReply(503, b"denied: gate unavailable", "text/plain; charset=utf-8")


def shutdown() -> None:
    """Close every gate thread's database connections and stop the pools (tests, shutdown)."""
    _threads.shutdown()
    _end_threads.shutdown()
    _report_threads.shutdown()


def _decide(call: faults.GateCall, function, *args) -> protocols.GateReply:
    """Run one callback on a gate thread; never raise, never allow on error."""
    if call.abandoned:
        return _UNAVAILABLE  # it waited behind stalled decisions and was answered already
    faults.begin(call)
    try:
        reply = function(*args)
    except Exception as exc:
        if faults.is_database_unavailable(exc):
            faults.database_failed()
            logger.warning("gate callback failed, database unavailable (%s); answering 503 (deny)", exc)
        else:
            logger.exception("gate callback failed; answering 503 (deny)")
        reply = _UNAVAILABLE
    finally:
        faults.begin(None)
    if reply.status >= 500 or b"gate_error" in reply.body:
        drop_connections()  # a broken connection must not poison this thread's next call
    else:
        drop_failed_connections()  # e.g. an on_update kept on air through an outage
    return reply


async def _answer(function, *args, update: bool = False, session_end: bool = False) -> protocols.GateReply:
    """The decision's reply, or, when the database keeps it past the answer budget, the gate's own."""
    call = faults.GateCall()
    if session_end:
        return await _end_threads.run(_decide, call, function, *args)
    decision = asyncio.ensure_future(_threads.run(_decide, call, function, *args))
    done, _pending = await asyncio.wait({decision}, timeout=faults.answer_budget())
    if done or not call.abandon():
        return await decision
    faults.database_failed()
    if update and faults.update_grace_allows():
        logger.warning("gate on_update not decided within the budget; kept on air for the outage grace")
        return protocols.GateReply(200, b"allowed: database unavailable", "text/plain; charset=utf-8")
    logger.warning("gate callback not decided within the budget; answering 503 (deny)")
    return _UNAVAILABLE


async def _read_body(scope, receive) -> bytes | None:
    """Read the request body; None when it is larger than the gate accepts (the rest is not buffered)."""
    content_length = None
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            content_length = value
    if limits.body_too_large(content_length=content_length):
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b""
        chunk = message.get("body", b"")
        size += len(chunk)
        if limits.body_too_large(received=size):
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send(send, status: int, body: bytes, content_type: str, extra: list | None = None) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": body})


def _srs_action(body: bytes | None) -> object:
    """The ``action`` of an SRS hook's body, to pick its lane; the callback itself validates it."""
    try:
        payload = json.loads(body) if body else None
    except (ValueError, RecursionError):
        return None
    return payload.get("action") if isinstance(payload, dict) else None


class GateASGIApp:
    """Answer /gate/ callbacks; hand everything else to ``fallback`` (Django)."""

    def __init__(self, fallback) -> None:
        self.fallback = fallback

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path == registration.PATH:
            await self._registration_check(scope, receive, send)
            return
        if scope["type"] == "http" and path == report_filing.PATH and report_filing.takes(scope):
            await self._report(scope, receive, send)
            return
        if scope["type"] != "http" or not path.startswith("/gate/"):
            await self.fallback(scope, receive, send)
            return
        nginx = _NGINX_PATH.match(path)
        srs = None if nginx else _SRS_PATH.match(path)
        if nginx is None and srs is None:
            await self.fallback(scope, receive, send)  # Django answers its 404
            return
        if scope.get("method") != "POST":
            await _send(send, 405, b"POST only", "text/plain; charset=utf-8", [(b"allow", b"POST")])
            return
        body = await _read_body(scope, receive)
        client = scope.get("client") or ("", 0)
        addr = str(client[0] or "")
        if nginx:
            args = (protocols.nginx_callback, nginx["node"], nginx["secret"], nginx["hook"], body, addr)
        else:
            args = (protocols.srs_callback, srs["node"], srs["secret"], body, addr)
        if nginx:
            update, session_end = nginx["hook"] == "on_update", nginx["hook"] == "on_publish_done"
        else:
            update, session_end = False, _srs_action(body) == "on_unpublish"
        reply = await _answer(*args, update=update, session_end=session_end)
        await _send(send, reply.status, reply.body, reply.content_type)

    async def _registration_check(self, scope, receive, send) -> None:
        """Answer the platform's registration check on a gate thread (moderation/registration.py)."""
        if scope.get("method") != "POST":
            await _send(
                send, 405, b'{"error":{"code":"method_not_allowed"}}', "application/json", [(b"allow", b"POST")]
            )
            return
        authorization = ""
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                authorization = value.decode("latin-1")
        body = await _read_body(scope, receive)
        reply = await _answer(registration.answer, authorization, body)
        await _send(send, reply.status, reply.body, reply.content_type)

    async def _report(self, scope, receive, send) -> None:
        """File a report from the platform app on a report thread (moderation/gate/report_filing.py)."""
        headers = dict(scope.get("headers", []))
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        accept_language = headers.get(b"accept-language", b"").decode("latin-1")
        body = await _read_body(scope, receive)
        reply = await _report_threads.run(_file_report, authorization, accept_language, body)
        await _send(send, reply.status, reply.body, reply.content_type)


_REPORTS_UNAVAILABLE = protocols.GateReply(
    503,
    b'{"error":{"code":"unavailable","message":"reports cannot be taken right now; try again later"}}',
    "application/json",
)


def _file_report(authorization: str, accept_language: str, body: bytes | None) -> protocols.GateReply:
    """Run one filing on a report thread; an error answers 503 and drops the thread's connections."""
    try:
        return report_filing.answer(authorization, accept_language, body)
    except Exception:
        logger.exception("a report could not be filed; answering 503")
        drop_connections()
        return _REPORTS_UNAVAILABLE
