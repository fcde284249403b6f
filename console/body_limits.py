"""Limits on request bodies, enforced in ASGI before Django reads them.

Django's ASGI handler reads a whole request body (into memory, then a temporary file) before any
middleware or view runs, so without these a client could make the server read 100 MB before it
hears 401, or hold a request open by sending its body one byte at a time.

- ``BodyDeadline`` (outermost, the gate's callbacks too): a request's body must arrive within
  LIVEWARD_BODY_TIMEOUT seconds of its headers; otherwise the client gets 408 and the app is told
  the client went away.
- ``AnonymousBodyLimit`` (in front of Django only; the gate front has its own limit): a body larger
  than LIVEWARD_ANONYMOUS_MAX_BODY is refused with 413 unless the request carries a valid staff
  session or API token, which may send up to LIVEWARD_MAX_BODY (the snapshot API's 2 MB images).
  A declared Content-Length over the limit is refused at once, without reading a byte of the body;
  a chunked body is counted as it arrives and cut off. The public report form (``/report/``) may
  carry LIVEWARD_REPORT_MAX_BODY without credentials: its images. Credentials are checked only for a body
  over the anonymous limit, so ordinary requests cost no query; a check that fails refuses.

Both answer with ``Connection: close``: the rest of a refused body is never read.
"""

from __future__ import annotations

import asyncio
import json
import logging
from importlib import import_module

from django import db
from django.conf import settings

from asgiref.sync import sync_to_async

from moderation.gate import limits

logger = logging.getLogger(__name__)
# The public report form (console/views/public_reports.py): anonymous, with up to three images.
PUBLIC_REPORT_PATH = "/report/"


class _Exchange:
    """One request's way back to the client, so a guard can answer for the app and cut it off."""

    def __init__(self, send) -> None:
        self._send = send
        self.response_started = False
        self.answered = False

    async def send(self, message) -> None:
        if self.answered:
            return  # the guard has answered; the app's own answer comes too late
        if message["type"] == "http.response.start":
            self.response_started = True
        await self._send(message)

    async def refuse(self, status: int, code: str, message: str) -> dict:
        """Answer ``status`` unless an answer has begun; return what the app sees: a client gone."""
        if not self.response_started and not self.answered:
            self.answered = True
            body = json.dumps({"error": {"code": code, "message": message}}).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ]
            await self._send({"type": "http.response.start", "status": status, "headers": headers})
            await self._send({"type": "http.response.body", "body": body})
        return {"type": "http.disconnect"}


class BodyDeadline:
    """Give each request's body LIVEWARD_BODY_TIMEOUT seconds to arrive, from its headers."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        timeout = settings.LIVEWARD_BODY_TIMEOUT
        deadline = asyncio.get_running_loop().time() + timeout
        exchange = _Exchange(send)
        body_done = False

        async def receive_in_time():
            nonlocal body_done
            if body_done:  # what comes after the body (a disconnect) may take as long as it takes
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                body_done = True
                logger.info("request body not received within %s s: %s %s", timeout, scope["method"], scope["path"])
                return await exchange.refuse(
                    408, "body_timeout", f"The request body did not arrive within {timeout:g} seconds."
                )
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        await self.app(scope, receive_in_time, exchange.send)


class AnonymousBodyLimit:
    """Refuse bodies over LIVEWARD_ANONYMOUS_MAX_BODY from requests without valid credentials."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        anonymous_limit = settings.LIVEWARD_ANONYMOUS_MAX_BODY
        if scope.get("path") == PUBLIC_REPORT_PATH:  # the public report form carries images
            anonymous_limit = settings.LIVEWARD_REPORT_MAX_BODY
        declared = None
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                declared = value
        exchange = _Exchange(send)
        limit = anonymous_limit
        checked = False

        async def raise_limit_if_authenticated() -> None:
            nonlocal limit, checked
            checked = True
            if await credentials_are_valid(scope):
                limit = settings.LIVEWARD_MAX_BODY

        if limits.body_too_large(content_length=declared, limit=limit):
            await raise_limit_if_authenticated()
            if limits.body_too_large(content_length=declared, limit=limit):
                await exchange.refuse(*_too_large(limit, anonymous=limit == anonymous_limit))
                return

        received = 0

        async def receive_within_limit():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if limits.body_too_large(received=received, limit=limit) and not checked:
                    await raise_limit_if_authenticated()
                if limits.body_too_large(received=received, limit=limit):
                    return await exchange.refuse(*_too_large(limit, anonymous=limit == anonymous_limit))
            return message

        await self.app(scope, receive_within_limit, exchange.send)


def _too_large(limit: int, *, anonymous: bool) -> tuple[int, str, str]:
    who = "without a staff session or API token " if anonymous else ""
    return 413, "too_large", f"A request {who}may carry a body of at most {limit} bytes."


async def credentials_are_valid(scope) -> bool:
    """Tell whether the request carries a valid API token or a logged-in staff session."""
    authorization = cookie = ""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            authorization = value.decode("latin-1")
        elif name == b"cookie":
            cookie = value.decode("latin-1")
    if not authorization and not cookie:
        return False
    try:
        return await sync_to_async(_check_credentials, thread_sensitive=False)(authorization, cookie)
    except Exception:
        logger.exception("could not check a request's credentials; treating it as anonymous")
        return False


def _check_credentials(authorization: str, cookie: str) -> bool:
    from django.contrib.auth import get_user
    from django.http.cookie import parse_cookie

    from accounts import api_tokens

    try:
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() == "token" and key.strip():
            try:
                api_tokens.token_for_key(key.strip())
            except api_tokens.TokenRefused:
                return False
            return True
        session_key = parse_cookie(cookie).get(settings.SESSION_COOKIE_NAME)
        if not session_key:
            return False
        store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
        return get_user(_SessionOnly(store)).is_authenticated
    finally:
        db.connections.close_all()  # a short-lived thread: keep no connection behind it


class _SessionOnly:
    """What ``django.contrib.auth.get_user`` reads of a request: its session."""

    def __init__(self, session) -> None:
        self.session = session
