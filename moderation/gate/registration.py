"""The registration check as production serves it: ahead of Django, on the gate's threads.

The platform asks on every sign-up, so the answer must come in milliseconds; like the gate's
callbacks (moderation/gate/asgi.py) it skips the session, CSRF, locale and message middleware and
DRF's request wrapping, and runs on long-lived threads that keep their database connections. The
rules are DRF's for this endpoint: a platform backend token with the ``registration_check`` scope
(``Authorization: Token <key>``, accounts.api_tokens), a
JSON object body, the same answer as the DRF view (both call
``moderation.blacklist_matching.registration_check``). A token is looked up once and remembered for
TOKEN_CACHE_SECONDS (never past a rotated token's overlap); a revoked token or a changed role takes
effect within that time.
"""

from __future__ import annotations

import json
import time

from django.utils import timezone

from accounts.roles import Scope
from moderation import permissions, text_input
from moderation.blacklist_matching import registration_check
from moderation.gate.protocols import GateReply

PATH = "/api/v1/registration-check"
TOKEN_CACHE_SECONDS = 5.0
_tokens: dict[tuple[str, str], float] = {}  # (key, scope) -> remembered until
_JSON = "application/json"


def _reply(status: int, body: dict) -> GateReply:
    return GateReply(status, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(), _JSON)


def _error(status: int, code: str, message: str) -> GateReply:
    return _reply(status, {"error": {"code": code, "message": message}})


def platform_token_problem(header: str, scope: str) -> str | None:
    """Return the error code for the Authorization header, or None when it is a platform token with SCOPE."""
    scheme, _, key = header.partition(" ")
    key = key.strip()
    if scheme.lower() != "token" or not key:
        return "not_authenticated"
    cached = _tokens.get((key, scope))
    if cached is not None and cached > time.monotonic():
        return None
    from accounts import api_tokens

    try:
        token = api_tokens.token_for_key(key)
    except api_tokens.TokenRefused as refused:
        _tokens.pop((key, scope), None)
        return refused.code
    if not permissions.may(token.client, "api.platform"):
        return "permission_denied"
    if not permissions.token_may(token, scope):
        return "scope_missing"
    api_tokens.note_use(token)
    remembered = TOKEN_CACHE_SECONDS
    if token.expires_at is not None:  # a rotated token: never remembered past its overlap
        remembered = min(remembered, (token.expires_at - timezone.now()).total_seconds())
    _tokens[(key, scope)] = time.monotonic() + remembered
    return None


def token_refusal(problem: str, scope: str) -> tuple[int, str, str]:
    """The status, code and message that answer PROBLEM (from platform_token_problem), as DRF words them."""
    if problem == "permission_denied":
        return 403, problem, "You do not have permission to perform this action."
    if problem == "scope_missing":
        return 403, problem, f"This token does not hold the scope '{scope}' this endpoint needs."
    return 401, problem, "Authentication credentials were not provided or are invalid."


def forget_cached_tokens() -> None:
    """Drop the token cache (tests, and after a token is deleted in this process)."""
    _tokens.clear()


def answer(authorization: str, body: bytes | None) -> GateReply:
    """Answer one registration check: 200 allowed/refused, 400 bad input, 401/403 bad token."""
    problem = platform_token_problem(authorization, Scope.REGISTRATION_CHECK)
    if problem is not None:
        return _error(*token_refusal(problem, Scope.REGISTRATION_CHECK))
    if body is None:
        return _error(413, "too_large", "The request body is too large.")
    try:
        # Depth only, as the DRF view's parser: the identity fields refuse what they cannot normalise.
        data = text_input.load_json(body or b"null", strings=False)
    except text_input.JSONRefused as exc:
        return _error(400, "parse_error", f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
    status, payload = registration_check(data)
    return _reply(status, payload)
