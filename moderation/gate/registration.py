"""The registration check as production serves it: ahead of Django, on the gate's threads.

The platform asks on every sign-up, so the answer must come in milliseconds; like the gate's
callbacks (moderation/gate/asgi.py) it skips the session, CSRF, locale and message middleware and
DRF's request wrapping, and runs on long-lived threads that keep their database connections. The
rules are DRF's for this endpoint: a platform backend token (``Authorization: Token <key>``), a
JSON object body, the same answer as the DRF view (both call
``moderation.blacklist_matching.registration_check``). A token is looked up once and remembered for
TOKEN_CACHE_SECONDS; a deleted token or a changed role takes effect within that time.
"""

from __future__ import annotations

import json
import time

from moderation import permissions, text_input
from moderation.blacklist_matching import registration_check
from moderation.gate.protocols import GateReply

PATH = "/api/v1/registration-check"
TOKEN_CACHE_SECONDS = 5.0
_tokens: dict[str, float] = {}
_JSON = "application/json"


def _reply(status: int, body: dict) -> GateReply:
    return GateReply(status, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(), _JSON)


def _error(status: int, code: str, message: str) -> GateReply:
    return _reply(status, {"error": {"code": code, "message": message}})


def _platform_token(header: str) -> str | None:
    """Return the error code for the Authorization header, or None when it is a platform token."""
    scheme, _, key = header.partition(" ")
    key = key.strip()
    if scheme.lower() != "token" or not key or len(key) > 64:
        return "not_authenticated"
    cached = _tokens.get(key)
    if cached is not None and cached > time.monotonic():
        return None
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        _tokens.pop(key, None)
        return "authentication_failed"
    if not permissions.may(token.user, "api.platform"):
        return "permission_denied"
    _tokens[key] = time.monotonic() + TOKEN_CACHE_SECONDS
    return None


def forget_cached_tokens() -> None:
    """Drop the token cache (tests, and after a token is deleted in this process)."""
    _tokens.clear()


def answer(authorization: str, body: bytes | None) -> GateReply:
    """Answer one registration check: 200 allowed/refused, 400 bad input, 401/403 bad token."""
    problem = _platform_token(authorization)
    if problem == "permission_denied":
        return _error(403, problem, "You do not have permission to perform this action.")
    if problem is not None:
        return _error(401, problem, "Authentication credentials were not provided or are invalid.")
    if body is None:
        return _error(413, "too_large", "The request body is too large.")
    try:
        # Depth only, as the DRF view's parser: the identity fields refuse what they cannot normalise.
        data = text_input.load_json(body or b"null", strings=False)
    except text_input.JSONRefused as exc:
        return _error(400, "parse_error", f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
    status, payload = registration_check(data)
    return _reply(status, payload)
