"""Outbound HTTP: one request over http.client, bounded by a timeout for the whole exchange.

The media-server adapters (moderation/mediaservers/transport.py) and the platform webhooks
(moderation/webhook_signing.py) send through here and map its errors to their own: typed
MediaServer* errors for the adapters, a result object for the webhooks. Stdlib only and free of
settings: callers pass the timeout and how much of an answer they read.

Redirects are not followed: a request goes only where it was configured to go.
"""

from __future__ import annotations

import http.client
import ssl
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from urllib.parse import urlsplit

_CHUNK = 64 * 1024
_EXCERPT_CHUNK = 4096


class OutboundHTTPError(Exception):
    """No usable answer; the subclass says why and ``__cause__`` holds the underlying error, if any."""


class BadURL(OutboundHTTPError):
    """The URL is not one this module can send to (not http(s), no host, a bad port)."""


class NoAnswer(OutboundHTTPError):
    """No answer, or no complete answer, within the timeout."""


class Unreachable(OutboundHTTPError):
    """The connection failed: refused, reset, DNS, no route, TLS."""


class NotHTTP(OutboundHTTPError):
    """Something answered, but not in HTTP."""


class AnswerTooLarge(OutboundHTTPError):
    """The answer's body is larger than the caller reads."""


class Reply:
    """The status of an answer and, as the caller chooses, its body; read within the deadline."""

    def __init__(self, response: http.client.HTTPResponse, *, deadline: float, timeout: float) -> None:
        self._response = response
        self._deadline = deadline
        self._timeout = timeout
        self.status = response.status

    def read(self, *, max_bytes: int) -> bytes:
        """Read the whole body; raise AnswerTooLarge past ``max_bytes``, NoAnswer past the deadline."""
        chunks: list[bytes] = []
        size = 0
        try:
            while chunk := self._response.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise AnswerTooLarge(f"answer larger than {max_bytes} bytes")
                if time.monotonic() > self._deadline:
                    raise NoAnswer(f"answer not complete after {self._timeout:g}s")
                chunks.append(chunk)
        except (OSError, http.client.HTTPException) as exc:
            raise _classified(exc, timeout=self._timeout) from exc
        return b"".join(chunks)

    def read_excerpt(self, *, max_bytes: int) -> bytes:
        """Read what arrives of the body up to ``max_bytes`` before the deadline; never raise."""
        chunks: list[bytes] = []
        size = 0
        try:
            while size < max_bytes and time.monotonic() < self._deadline:
                chunk = self._response.read1(_EXCERPT_CHUNK)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except (OSError, http.client.HTTPException):
            pass  # an excerpt is for an error message; a slow or broken answer is not waited for
        return b"".join(chunks)


@contextmanager
def exchange(
    method: str,
    url: str,
    *,
    timeout: float,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
) -> Iterator[Reply]:
    """Send one request and yield its Reply; raise an OutboundHTTPError when no answer comes.

    The socket timeout bounds each read; the deadline (``timeout`` after connecting) bounds the
    whole answer. The connection is closed when the block ends.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise BadURL("is not an http(s) URL")
    try:
        port = parts.port
    except ValueError as exc:  # a port out of range in the URL
        raise BadURL("has a bad port") from exc
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if parts.scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
    deadline = time.monotonic() + timeout
    try:
        try:
            connection.request(method, target, body=body, headers=dict(headers or {}))
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            raise _classified(exc, timeout=timeout) from exc
        yield Reply(response, deadline=deadline, timeout=timeout)
    finally:
        connection.close()


def _classified(exc: OSError | http.client.HTTPException, *, timeout: float) -> OutboundHTTPError:
    if isinstance(exc, TimeoutError):
        return NoAnswer(f"no answer within {timeout:g}s")
    if isinstance(exc, ConnectionError):
        return Unreachable(f"{exc.__class__.__name__} ({exc})")
    if isinstance(exc, http.client.HTTPException):
        return NotHTTP(f"not an HTTP answer ({exc!r})")
    return Unreachable(str(exc))  # DNS failure, no route to host, TLS errors
