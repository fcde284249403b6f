"""Signed webhooks to the platform's backend: the body, the signature, one HTTP POST.

Framework-free (the stdlib, and moderation/outbound_http.py for the POST), so the platform's
engineers can copy ``verify`` and ``ReplayGuard`` as they are; see docs/webhooks.md. The signature
header is ``X-Liveward-Signature: t=<unix seconds>,v1=<hex>``: ``v1`` is the HMAC-SHA256, keyed with
the shared secret, of ``f"{t}.{body}"`` (the body the exact bytes sent). While a secret is being
rotated the header carries one ``v1`` per secret. A verifier refuses a ``t`` more than five minutes
from its clock (stale) and a signature it has already accepted (replayed).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from moderation import outbound_http

EVENT_HEADER = "X-Liveward-Event"
DELIVERY_HEADER = "X-Liveward-Delivery"
SIGNATURE_HEADER = "X-Liveward-Signature"
SIGNATURE_SCHEME = "v1"
USER_AGENT = "Liveward-Webhook/2"
# A signature older (or further in the future) than this is refused; replays are remembered as long.
TOLERANCE_SECONDS = 300
# A header longer than this is not ours (one t, a few v1 of 64 hex digits each).
_MAX_SIGNATURE_HEADER = 1024

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


def _secrets(secret: str | bytes | Iterable[str | bytes]) -> list[str | bytes]:
    return [secret] if isinstance(secret, str | bytes) else list(secret)


def digest(secret: str | bytes, timestamp: int | str, body: bytes | str) -> str:
    """Return the ``v1`` value: hex HMAC-SHA256 of ``<timestamp>.<body>`` keyed with the secret."""
    message = str(int(timestamp)).encode("ascii") + b"." + _as_bytes(body)
    return hmac.new(_as_bytes(secret), message, hashlib.sha256).hexdigest()


def sign(secret: str | bytes | Iterable[str | bytes], timestamp: int | str, body: bytes | str) -> str:
    """Return the ``X-Liveward-Signature`` value (``t=…,v1=…``; one ``v1`` per secret while rotating)."""
    timestamp = int(timestamp)
    parts = [f"t={timestamp}"] + [f"{SIGNATURE_SCHEME}={digest(key, timestamp, body)}" for key in _secrets(secret)]
    return ",".join(parts)


def signed_headers(
    secret: str | bytes | Iterable[str | bytes],
    *,
    event: str,
    delivery_id: int | str,
    body: bytes,
    timestamp: int | None = None,
) -> dict[str, str]:
    """Return the headers of one signed request (signature, event, delivery id, type)."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: event,
        DELIVERY_HEADER: str(delivery_id),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


def parse_signature(value: str) -> tuple[int, list[str]] | None:
    """Split a signature header into its timestamp and its ``v1`` digests; None if it is malformed."""
    if not value or len(value) > _MAX_SIGNATURE_HEADER:
        return None
    timestamp, digests = None, []
    for part in value.split(","):
        name, _, item = part.strip().partition("=")
        if name == "t" and timestamp is None and item.isascii() and item.isdigit() and len(item) <= 12:
            timestamp = int(item)
        elif name == SIGNATURE_SCHEME and len(item) == 64:
            digests.append(item)
        # Other schemes are ignored, so a later scheme can be added beside v1.
    if timestamp is None or not digests:
        return None
    return timestamp, digests


class ReplayGuard:
    """Remember the signatures accepted within the tolerance, so each is accepted only once.

    One guard per receiving process (or replace it with a shared store, such as Redis ``SET NX EX``,
    when several processes receive). Thread-safe; forgets what is older than the tolerance.
    """

    def __init__(self, tolerance: int = TOLERANCE_SECONDS) -> None:
        self.tolerance = tolerance
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_time(self, signature: str, *, now: float | None = None) -> bool:
        """Record the signature; tell whether it was not seen before within the tolerance."""
        now = time.time() if now is None else now
        with self._lock:
            if len(self._seen) > 1000:
                self._seen = {seen: until for seen, until in self._seen.items() if until > now}
            until = self._seen.get(signature)
            if until is not None and until > now:
                return False
            self._seen[signature] = now + 2 * self.tolerance  # t may be up to tolerance ahead of now
            return True


def verify(
    secret: str | bytes | Iterable[str | bytes],
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
    replay_guard: ReplayGuard | None = None,
) -> bool:
    """Tell whether a request is signed with the secret (or one of them), fresh, and not a replay.

    ``headers`` may be any mapping (a dict, Django's ``request.headers``, ``http.server``'s
    message); names are matched case-insensitively. A ``t`` more than ``tolerance`` seconds away
    from ``now`` is refused (stale). With a ``replay_guard``, a signature already accepted is refused
    (replayed). Several secrets may be given while one is being rotated.
    """
    lowered = {str(name).lower(): value for name, value in headers.items()}
    parsed = parse_signature(lowered.get(SIGNATURE_HEADER.lower()) or "")
    if parsed is None:
        return False
    timestamp, digests = parsed
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    matched = None
    for candidate in _secrets(secret):
        expected = digest(candidate, timestamp, body)
        for presented in digests:
            # Compare against every secret and digest, so timing does not reveal which one matched.
            if hmac.compare_digest(expected, presented):
                matched = presented
    if matched is None:
        return False
    return replay_guard is None or replay_guard.first_time(f"{timestamp}.{matched}", now=now)


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
