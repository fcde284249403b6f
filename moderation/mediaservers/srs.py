"""The SRS adapter: HTTP API v1, ``GET /api/v1/streams`` to list, ``GET`` then ``DELETE /api/v1/clients/{cid}`` to kick.

SRS answers errors as HTTP 200 with a non-zero ``code`` in the JSON body, so every answer's code is
read. SRS 3 sent ids as numbers, SRS 4 and later send strings; both are accepted.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from moderation.mediaservers import transport
from moderation.mediaservers.interface import (
    DropResult,
    LiveSession,
    MediaServerAdapter,
    MediaServerBadAnswer,
    MediaServerError,
)
from moderation.models import Stream

# SRS pages /api/v1/streams (default 10 per page); ask for large pages and follow them.
PAGE_SIZE = 1000
MAX_PAGES = 100
# ERROR_RTMP_CLIENT_NOT_FOUND: the client left between listing and kicking.
CLIENT_NOT_FOUND = 2049


class SrsApiError(MediaServerError):
    """SRS answered with a non-zero error code."""

    def __init__(self, message: str, *, node: str = "", code: int) -> None:
        super().__init__(message, node=node)
        self.code = code


class SrsAdapter(MediaServerAdapter):
    """Drive an SRS node through its HTTP API."""

    def drop(self, stream: Stream) -> DropResult:
        """Kick the stream's own client once SRS confirms it still publishes this app and key; 0 if gone.

        The client id is the one SRS sent in on_publish. ``GET /api/v1/clients/{id}`` answers the
        client with ``publish`` and ``url`` (``/app/stream``, after the vhost for another vhost); a
        client that left, or an id that now names another connection (SRS 3 counts ids from 1 again
        after a restart), is not kicked.
        """
        path = f"api/v1/clients/{quote(stream.client_id, safe='')}"
        document = self._call("GET", path, allow={CLIENT_NOT_FOUND})
        if document["code"] == CLIENT_NOT_FOUND or not self._publishes(document.get("client"), stream):
            return DropResult(dropped=0)
        document = self._call("DELETE", path, allow={CLIENT_NOT_FOUND})
        return DropResult(dropped=0 if document["code"] == CLIENT_NOT_FOUND else 1)

    def _publishes(self, client: object, stream: Stream) -> bool:
        if not isinstance(client, dict):
            raise MediaServerBadAnswer("client answer has no client", node=self.node.name)
        url = client.get("url")
        if client.get("publish") is not True or not isinstance(url, str):
            return False
        return url.endswith(f"/{stream.app}/{stream.published_name}")

    def live_streams(self) -> list[LiveSession]:
        """List the streams SRS reports with an active publisher."""
        sessions = []
        for entry in self._stream_entries():
            client_id = _publisher_id(entry, node=self.node.name)
            if client_id is None:
                continue
            app, name = entry.get("app"), entry.get("name")
            if not (isinstance(app, str) and app and isinstance(name, str) and name):
                raise MediaServerBadAnswer("a stream without app or name", node=self.node.name)
            sessions.append(
                LiveSession(
                    app=app,
                    name=name,
                    client_id=client_id,
                    bytes_in=_integer(entry.get("recv_bytes")),
                    bytes_out=_integer(entry.get("send_bytes")),
                    viewers=_viewers(entry),
                )
            )
        return sessions

    def _stream_entries(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        for page in range(MAX_PAGES):
            document = self._call("GET", f"api/v1/streams?start={page * PAGE_SIZE}&count={PAGE_SIZE}")
            streams = document.get("streams")
            if not isinstance(streams, list) or not all(isinstance(entry, dict) for entry in streams):
                raise MediaServerBadAnswer("streams answer has no list of streams", node=self.node.name)
            entries.extend(streams)
            if len(streams) < PAGE_SIZE:
                break
        return entries

    def _call(self, method: str, path: str, *, allow: frozenset[int] | set[int] = frozenset()) -> dict[str, Any]:
        answer = transport.request(method, self.node.control_url, path, node=self.node.name)
        try:
            document = json.loads(answer.body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise MediaServerBadAnswer(f"{method} {path}: answer is not JSON", node=self.node.name) from exc
        if not isinstance(document, dict):
            raise MediaServerBadAnswer(f"{method} {path}: answer is not a JSON object", node=self.node.name)
        code = document.get("code")
        if not isinstance(code, int) or isinstance(code, bool):
            raise MediaServerBadAnswer(f"{method} {path}: answer has no code", node=self.node.name)
        if code != 0 and code not in allow:
            raise SrsApiError(f"{method} {path}: SRS error code {code}", node=self.node.name, code=code)
        return document


def _publisher_id(entry: dict[str, Any], *, node: str) -> str | None:
    """Return the publishing client's id, or None if the stream has no active publisher."""
    publish = entry.get("publish")
    if not isinstance(publish, dict) or publish.get("active") is not True:
        return None
    client_id = publish.get("cid")
    if isinstance(client_id, int) and not isinstance(client_id, bool):
        return str(client_id)
    if isinstance(client_id, str) and client_id:
        return client_id
    raise MediaServerBadAnswer("an active stream without its publisher's cid", node=node)


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _viewers(entry: dict[str, Any]) -> int | None:
    clients = _integer(entry.get("clients"))
    return None if clients is None else max(clients - 1, 0)  # clients counts the publisher too
