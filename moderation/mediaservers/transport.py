"""One HTTP request to a node's control port, with the console's timeout and error mapping."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

from moderation import outbound_http
from moderation.mediaservers.interface import (
    MediaServerBadAnswer,
    MediaServerError,
    MediaServerHTTPError,
    MediaServerTimeout,
    MediaServerUnreachable,
)

# A stat page of a busy node is large, but never this large; more is a broken node.
MAX_BODY_BYTES = 16 * 1024 * 1024

# How each failure to get an answer reads to the rest of the console.
_ERRORS: dict[type[outbound_http.OutboundHTTPError], type[MediaServerError]] = {
    outbound_http.NoAnswer: MediaServerTimeout,
    outbound_http.Unreachable: MediaServerUnreachable,
    outbound_http.NotHTTP: MediaServerBadAnswer,
    outbound_http.AnswerTooLarge: MediaServerBadAnswer,
}


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


def request(method: str, control_url: str, path: str, *, node: str) -> Answer:
    """Send ``method`` to ``path`` under ``control_url``; raise a MediaServerError unless 2xx."""
    timeout = float(settings.LIVEWARD_MEDIA_SERVER_TIMEOUT)
    base = urlsplit(control_url)
    target = base.path.rstrip("/") + "/" + path.lstrip("/")
    url = urlunsplit((base.scheme, base.netloc, target, "", ""))
    try:
        with outbound_http.exchange(
            method, url, timeout=timeout, headers={"Accept": "application/json, text/xml, text/plain"}
        ) as reply:
            body = reply.read(max_bytes=MAX_BODY_BYTES)
    except outbound_http.BadURL as exc:
        raise MediaServerError(f"control URL {control_url!r} {exc}", node=node) from exc
    except outbound_http.OutboundHTTPError as exc:
        raise _ERRORS[type(exc)](f"{method} {target}: {exc}", node=node) from exc
    if not 200 <= reply.status < 300:
        raise MediaServerHTTPError(f"{method} {target}: HTTP {reply.status}", node=node, status=reply.status)
    return Answer(status=reply.status, body=body)


def get(url: str, *, node: str, max_bytes: int, what: str = "GET") -> bytes:
    """GET a whole URL at a node (not under its control URL: its HLS files); raise a MediaServerError unless 2xx."""
    timeout = float(settings.LIVEWARD_MEDIA_SERVER_TIMEOUT)
    try:
        with outbound_http.exchange("GET", url, timeout=timeout) as reply:
            body = reply.read(max_bytes=max_bytes)
    except outbound_http.BadURL as exc:
        raise MediaServerError(f"{what}: URL {exc}", node=node) from exc
    except outbound_http.OutboundHTTPError as exc:
        raise _ERRORS[type(exc)](f"{what}: {exc}", node=node) from exc
    if not 200 <= reply.status < 300:
        raise MediaServerHTTPError(f"{what}: HTTP {reply.status}", node=node, status=reply.status)
    return body
