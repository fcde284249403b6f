"""Machine clients' API tokens: the key format, its stored form, and the DRF authentication.

A key is ``lw`` + 10 hex digits (its prefix, stored in clear to find the row) + ``_`` + 43 random
URL-safe characters; the row keeps only the SHA-256 of the whole key, compared in constant time.
A key is random and long, so a fast hash is enough: nobody guesses it from the digest. Keys from
before hashing (DRF's 40 hex digits) were moved by migration; their first 12 characters are their
prefix.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.models import ApiToken

KEYWORD = "Token"
PREFIX_LENGTH = 12
MAX_KEY_LENGTH = 64
# Last use is written at most this often per token and process: not a write per request.
LAST_USE_RESOLUTION = timedelta(minutes=1)
_last_use_written: dict[int, float] = {}


def new_key() -> tuple[str, str]:
    """Return a fresh key and its prefix."""
    prefix = "lw" + secrets.token_hex(5)
    return f"{prefix}_{secrets.token_urlsafe(32)}", prefix


def key_digest(key: str) -> str:
    """Return the stored form of a key: its SHA-256, hex."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def prefix_of(key: str) -> str:
    """Return the part of a key that finds its row."""
    return key[:PREFIX_LENGTH]


class TokenRefused(Exception):
    """The key authenticates nobody; ``code`` says why (``authentication_failed``, ``token_expired``)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def token_for_key(key: str) -> ApiToken:
    """Return the usable token of this key, with its client, in one query; TokenRefused if there is none."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii():
        raise TokenRefused("authentication_failed")
    token = ApiToken.objects.select_related("client").filter(prefix=prefix_of(key)).first()
    # Hash and compare even without a row, so the answer's timing does not tell a prefix exists.
    expected = token.digest if token is not None else "0" * 64
    if not hmac.compare_digest(expected, key_digest(key)) or token is None:
        raise TokenRefused("authentication_failed")
    if not token.client.is_active or token.revoked_at is not None:
        raise TokenRefused("authentication_failed")
    if not token.is_usable():
        raise TokenRefused("token_expired")
    return token


def note_use(token: ApiToken) -> None:
    """Record that the token was used (at most once a minute per process and token)."""
    now = time.monotonic()
    if now - _last_use_written.get(token.pk, float("-inf")) < LAST_USE_RESOLUTION.total_seconds():
        return
    _last_use_written[token.pk] = now
    moment = timezone.now()
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=moment)
    token.last_used_at = moment


def forget_last_use() -> None:
    """Forget when last use was written (tests)."""
    _last_use_written.clear()


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Token <key>``: the machine client of a usable token; ``request.auth`` is the token."""

    messages = {
        "authentication_failed": _("Invalid token."),
        "token_expired": _("This token has expired; use the client's current token."),
    }

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header."), code="authentication_failed")
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(self.messages["authentication_failed"]) from None
        try:
            token = token_for_key(key)
        except TokenRefused as refused:
            raise exceptions.AuthenticationFailed(self.messages[refused.code], code=refused.code) from None
        note_use(token)
        return token.client, token

    def authenticate_header(self, request) -> str:
        return KEYWORD


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """How the API's schema (drf-spectacular) describes the machine clients' token header."""

    target_class = ApiTokenAuthentication
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": f"`{KEYWORD} <key>`: a machine client's key, shown once when it was issued.",
        }
