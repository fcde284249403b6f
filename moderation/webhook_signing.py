"""Signed webhooks to the platform's backend: the body, the signature, one HTTP POST.

Framework-free (stdlib only), so the platform's engineers can copy ``verify`` as it is; see
docs/webhooks.md. The signature is ``sha256=<hex>``, the HMAC-SHA256 with the shared secret of
``f"{timestamp}.{body}"``, where the timestamp is the ``X-Liveward-Timestamp`` header (unix seconds)
and the body is the exact bytes sent.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import ssl
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

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
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return PostResult(ok=False, error=f"not an http(s) URL: {url[:100]}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if parts.scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    deadline = time.monotonic() + timeout
    try:
        connection.request("POST", path, body=body, headers=dict(headers))
        response = connection.getresponse()
        if 200 <= response.status < 300:
            # Accepted: what follows the status line does not matter.
            return PostResult(ok=True, status=response.status)
        excerpt = _read_some(response, deadline)
    except TimeoutError:
        return PostResult(ok=False, error=f"timed out after {timeout:g} s")
    except ConnectionRefusedError:
        return PostResult(ok=False, error="connection refused")
    except (OSError, http.client.HTTPException) as exc:
        return PostResult(ok=False, error=_short(f"{type(exc).__name__}: {exc}"))
    finally:
        connection.close()
    detail = excerpt.decode("utf-8", "replace").strip()
    return PostResult(ok=False, status=response.status, error=_short(f"HTTP {response.status} {detail}".strip()))


def _read_some(response: http.client.HTTPResponse, deadline: float) -> bytes:
    # A little of a refusal's answer, for the error message; a slow or broken one is not waited for.
    chunks: list[bytes] = []
    size = 0
    try:
        while size < _MAX_RESPONSE_BYTES and time.monotonic() < deadline:
            chunk = response.read1(4096)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except (OSError, http.client.HTTPException):
        pass
    return b"".join(chunks)[:200]


def _short(message: str) -> str:
    return message if len(message) <= _MAX_ERROR_LENGTH else message[: _MAX_ERROR_LENGTH - 1] + "…"
