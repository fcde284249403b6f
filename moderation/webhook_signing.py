"""Signed webhooks to the platform's backend: the body, the signature, one HTTP POST.

Framework-free (the stdlib, and moderation/outbound_http.py for the POST), so the platform's
engineers can copy ``verify`` as it is; see docs/webhooks.md. The signature is ``sha256=<hex>``,
the HMAC-SHA256 with the shared secret of ``f"{timestamp}.{body}"``, where the timestamp is the
``X-Liveward-Timestamp`` header (unix seconds) and the body is the exact bytes sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from moderation import outbound_http

EVENT_HEADER = "X-Liveward-Event"
DELIVERY_HEADER = "X-Liveward-Delivery"
TIMESTAMP_HEADER = "X-Liveward-Timestamp"
SIGNATURE_HEADER = "X-Liveward-Signature"
SIGNATURE_PREFIX = "sha256="
USER_AGENT = "Liveward-Webhook/1"

# Only the status matters; of a refusal, this much is read for the error message, no more.
_MAX_RESPONSE_BYTES = 4096
_MAX_ERROR_LENGTH = 300


def canonical_json(value: object) -> bytes:
    """Encode as canonical JSON: sorted keys, no spaces, UTF-8 without escaping non-ASCII."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def build_body(*, delivery_id: int | str, event: str, created_at: str, data: Mapping) -> bytes:
    """Return the request body of one delivery: its id, event, creation time (ISO 8601) and data."""
    return canonical_json({"id": delivery_id, "event": event, "created_at": created_at, "data": data})


def _as_bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def sign(secret: str | bytes, timestamp: int | str, body: bytes | str) -> str:
    """Return the ``X-Liveward-Signature`` value for this timestamp and body."""
    message = str(int(timestamp)).encode("ascii") + b"." + _as_bytes(body)
    digest = hmac.new(_as_bytes(secret), message, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def signed_headers(
    secret: str | bytes, *, event: str, delivery_id: int | str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """Return the headers of one signed request (signature, event, delivery id, timestamp, type)."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: event,
        DELIVERY_HEADER: str(delivery_id),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


def verify(
    secret: str | bytes | Iterable[str | bytes],
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    tolerance: int = 300,
    now: float | None = None,
) -> bool:
    """Tell whether a request is signed with the secret (or one of them) and recent enough.

    ``headers`` may be any mapping (a dict, Django's ``request.headers``, ``http.server``'s
    message); names are matched case-insensitively. A timestamp more than ``tolerance`` seconds
    away from ``now`` is refused, so a captured request cannot be replayed later. Several secrets
    may be given while one is being rotated.
    """
    lowered = {str(name).lower(): value for name, value in headers.items()}
    signature = lowered.get(SIGNATURE_HEADER.lower()) or ""
    timestamp = lowered.get(TIMESTAMP_HEADER.lower()) or ""
    if not signature.startswith(SIGNATURE_PREFIX) or not timestamp.isdigit():
        return False
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > tolerance:
        return False
    secrets = [secret] if isinstance(secret, str | bytes) else list(secret)
    matched = False
    for candidate in secrets:
        # Compare against every secret, so timing does not reveal which one matched.
        matched |= hmac.compare_digest(sign(candidate, timestamp, body), signature)
    return matched


@dataclass(frozen=True)
class PostResult:
    """What one POST came to: ``ok`` for a 2xx answer, else the HTTP status or the network error."""

    ok: bool
    status: int | None = None
    error: str = ""


def post(url: str, body: bytes, headers: Mapping[str, str], *, timeout: float) -> PostResult:
    """POST the body to the URL and report the outcome; never raises for network or HTTP errors.

    Redirects are not followed: a signed notification goes only where it was configured to go.
    """
    try:
        with outbound_http.exchange("POST", url, timeout=timeout, headers=headers, body=body) as reply:
            if 200 <= reply.status < 300:
                # Accepted: what follows the status line does not matter.
                return PostResult(ok=True, status=reply.status)
            excerpt = reply.read_excerpt(max_bytes=_MAX_RESPONSE_BYTES)[:200]
    except outbound_http.BadURL:
        return PostResult(ok=False, error=f"not an http(s) URL: {url[:100]}")
    except outbound_http.NoAnswer:
        return PostResult(ok=False, error=f"timed out after {timeout:g} s")
    except outbound_http.OutboundHTTPError as exc:
        cause = exc.__cause__
        if isinstance(cause, ConnectionRefusedError):
            return PostResult(ok=False, error="connection refused")
        return PostResult(ok=False, error=_short(f"{type(cause).__name__}: {cause}"))
    detail = excerpt.decode("utf-8", "replace").strip()
    return PostResult(ok=False, status=reply.status, error=_short(f"HTTP {reply.status} {detail}".strip()))


def _short(message: str) -> str:
    return message if len(message) <= _MAX_ERROR_LENGTH else message[: _MAX_ERROR_LENGTH - 1] + "…"
