"""The nginx-rtmp adapter: rtmp_control to drop a publisher, rtmp_stat to list live streams.

The node's control_url is the base of an HTTP server with ``location /control { rtmp_control all; }``
and ``location /stat { rtmp_stat all; }``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from urllib.parse import urlencode

from moderation.mediaservers import transport
from moderation.mediaservers.interface import (
    DropResult,
    LiveSession,
    MediaServerAdapter,
    MediaServerBadAnswer,
)
from moderation.models import Stream


class NginxRtmpAdapter(MediaServerAdapter):
    """Drive an nginx-rtmp node through its control and stat modules."""

    def drop(self, stream: Stream) -> DropResult:
        """Drop the stream's own session: its app, key and client id; the body nginx answers is the count.

        ``clientid`` is the connection number nginx-rtmp sent in on_publish; the control module drops
        only the publisher with that number, so another session of the key is left to its own cut.
        """
        query = urlencode({"app": stream.app, "name": stream.published_name, "clientid": stream.client_id})
        answer = transport.request("GET", self.node.control_url, f"control/drop/publisher?{query}", node=self.node.name)
        text = answer.body.decode("ascii", errors="replace").strip()
        if not text.isdigit():
            raise MediaServerBadAnswer(f"drop answered {text[:40]!r}, not a count", node=self.node.name)
        return DropResult(dropped=int(text))

    def live_streams(self) -> list[LiveSession]:
        """List the publishing sessions of every application from the stat page."""
        answer = transport.request("GET", self.node.control_url, "stat", node=self.node.name)
        return parse_stat(answer.body, node=self.node.name)


def parse_stat(body: bytes, *, node: str = "") -> list[LiveSession]:
    """Read the publishing sessions out of an rtmp_stat XML document."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise MediaServerBadAnswer(f"stat is not XML ({exc})", node=node) from exc
    if root.tag != "rtmp":
        raise MediaServerBadAnswer(f"stat root is <{root.tag}>, not <rtmp>", node=node)
    sessions = []
    for application in root.iterfind("server/application"):
        app = _text(application, "name")
        for stream in application.iterfind("live/stream"):
            name = _text(stream, "name")
            for client in stream.iterfind("client"):
                if client.find("publishing") is None:
                    continue
                client_id = _text(client, "id")
                if not (app and name and client_id):
                    raise MediaServerBadAnswer("stat lists a publisher without app, name or id", node=node)
                sessions.append(
                    LiveSession(
                        app=app,
                        name=name,
                        client_id=client_id,
                        addr=_text(client, "address"),
                        bytes_in=_number(stream, "bytes_in"),
                        bytes_out=_number(stream, "bytes_out"),
                        uptime_seconds=_seconds(client, "time"),
                        viewers=_viewers(stream),
                    )
                )
    return sessions


def _viewers(stream: ElementTree.Element) -> int:
    """The play side of a stream: its ``nclients`` less its publishers (the listed players if it has none)."""
    publishers = sum(1 for client in stream.iterfind("client") if client.find("publishing") is not None)
    total = _number(stream, "nclients")
    if total is None:
        return sum(1 for client in stream.iterfind("client") if client.find("publishing") is None)
    return max(total - publishers, 0)


def _text(element: ElementTree.Element, tag: str) -> str:
    return (element.findtext(tag) or "").strip()


def _number(element: ElementTree.Element, tag: str) -> int | None:
    text = _text(element, tag)
    return int(text) if text.isdigit() else None


def _seconds(element: ElementTree.Element, tag: str) -> float | None:
    milliseconds = _number(element, tag)
    return None if milliseconds is None else milliseconds / 1000
