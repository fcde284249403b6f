"""One HTTP request to a node's control port, with the console's timeout and error mapping."""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from moderation.mediaservers.interface import (
    MediaServerBadAnswer,
    MediaServerError,
    MediaServerHTTPError,
    MediaServerTimeout,
    MediaServerUnreachable,
)

# A stat page of a busy node is large, but never this large; more is a broken node.
MAX_BODY_BYTES = 16 * 1024 * 1024
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


def request(method: str, control_url: str, path: str, *, node: str) -> Answer:
    """Send ``method`` to ``path`` under ``control_url``; raise a MediaServerError unless 2xx."""
    timeout = float(settings.LIVEWARD_MEDIA_SERVER_TIMEOUT)
    base = urlsplit(control_url)
    if base.scheme not in {"http", "https"} or not base.hostname:
        raise MediaServerError(f"control URL {control_url!r} is not an http(s) URL", node=node)
    target = base.path.rstrip("/") + "/" + path.lstrip("/")
    connection_class = http.client.HTTPSConnection if base.scheme == "https" else http.client.HTTPConnection
    try:
        port = base.port
    except ValueError as exc:  # a port out of range in the URL
        raise MediaServerError(f"control URL {control_url!r} has a bad port", node=node) from exc
    connection = connection_class(base.hostname, port, timeout=timeout)
    # The socket timeout bounds each read; the deadline bounds the whole answer.
    deadline = time.monotonic() + timeout
    try:
        connection.request(method, target, headers={"Accept": "application/json, text/xml, text/plain"})
        response = connection.getresponse()
        chunks: list[bytes] = []
        size = 0
        while chunk := response.read(_CHUNK):
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise MediaServerBadAnswer(f"{method} {target}: answer larger than {MAX_BODY_BYTES} bytes", node=node)
            if time.monotonic() > deadline:
                raise MediaServerTimeout(f"{method} {target}: answer not complete after {timeout:g}s", node=node)
            chunks.append(chunk)
        status = response.status
    except TimeoutError as exc:
        raise MediaServerTimeout(f"{method} {target}: no answer within {timeout:g}s", node=node) from exc
    except ConnectionError as exc:
        raise MediaServerUnreachable(f"{method} {target}: {exc.__class__.__name__} ({exc})", node=node) from exc
    except http.client.HTTPException as exc:
        raise MediaServerBadAnswer(f"{method} {target}: not an HTTP answer ({exc!r})", node=node) from exc
    except OSError as exc:  # DNS failure, no route to host, TLS errors
        raise MediaServerUnreachable(f"{method} {target}: {exc}", node=node) from exc
    finally:
        connection.close()
    if not 200 <= status < 300:
        raise MediaServerHTTPError(f"{method} {target}: HTTP {status}", node=node, status=status)
    return Answer(status=status, body=b"".join(chunks))
