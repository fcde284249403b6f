"""Media-server adapters: the only code that knows the nodes' control and play URLs and APIs.

``adapter_for(node).drop(stream)`` cuts a publisher off; ``adapter_for(node).live_streams()`` lists
what the node has live; ``adapter_for(node).play_url(stream)`` says where to pull a stream from;
``watching.mirror_for(stream)`` relays its HLS or HTTP-FLV to the stream page's player.
Every failure to get a usable answer raises a MediaServerError subclass.
"""

from __future__ import annotations

from moderation.mediaservers.interface import (
    DropResult,
    LiveSession,
    MediaServerAdapter,
    MediaServerBadAnswer,
    MediaServerError,
    MediaServerHTTPError,
    MediaServerTimeout,
    MediaServerUnreachable,
)
from moderation.mediaservers.nginx_rtmp import NginxRtmpAdapter
from moderation.mediaservers.srs import SrsAdapter, SrsApiError
from moderation.models import MediaServer

ADAPTERS: dict[str, type[MediaServerAdapter]] = {
    MediaServer.Kind.NGINX_RTMP: NginxRtmpAdapter,
    MediaServer.Kind.SRS: SrsAdapter,
}


def adapter_for(node: MediaServer) -> MediaServerAdapter:
    """Return the adapter that speaks this node's kind of server."""
    try:
        adapter_class = ADAPTERS[node.kind]
    except KeyError:
        raise MediaServerError(f"no adapter for media-server kind {node.kind!r}", node=node.name) from None
    return adapter_class(node)


__all__ = [
    "DropResult",
    "LiveSession",
    "MediaServerAdapter",
    "MediaServerBadAnswer",
    "MediaServerError",
    "MediaServerHTTPError",
    "MediaServerTimeout",
    "MediaServerUnreachable",
    "NginxRtmpAdapter",
    "SrsAdapter",
    "SrsApiError",
    "adapter_for",
]
