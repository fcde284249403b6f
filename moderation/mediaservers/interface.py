"""What every media-server adapter offers: drop a publisher, list what is live, play URLs, errors."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from moderation.models import MediaServer, Stream

# Schemes a stream may be pulled over (ffmpeg reads them all); anything else (file://) is refused.
PULL_SCHEMES = frozenset({"rtmp", "rtmps", "http", "https"})


class MediaServerError(Exception):
    """The media server could not be asked, or gave no usable answer."""

    def __init__(self, message: str, *, node: str = "") -> None:
        super().__init__(f"{node}: {message}" if node else message)
        self.node = node


class MediaServerUnreachable(MediaServerError):
    """The connection to the node's control port failed (refused, reset, no route)."""


class MediaServerTimeout(MediaServerUnreachable):
    """The node did not answer within settings.LIVEWARD_MEDIA_SERVER_TIMEOUT."""


class MediaServerHTTPError(MediaServerError):
    """The node answered with an HTTP status other than 2xx."""

    def __init__(self, message: str, *, node: str = "", status: int) -> None:
        super().__init__(message, node=node)
        self.status = status


class MediaServerBadAnswer(MediaServerError):
    """The node answered, but not in the form its API promises."""


@dataclass(frozen=True)
class LiveSession:
    """A publishing session as the node reports it."""

    app: str
    name: str  # the stream key the publisher used
    client_id: str
    addr: str = ""
    bytes_in: int | None = None
    bytes_out: int | None = None
    uptime_seconds: float | None = None
    viewers: int | None = None


@dataclass(frozen=True)
class DropResult:
    """How many publishing sessions the node ended."""

    dropped: int


class MediaServerAdapter(ABC):
    """Talk to one media-server node through its HTTP control API."""

    def __init__(self, node: MediaServer) -> None:
        self.node = node

    @abstractmethod
    def drop(self, stream: Stream) -> DropResult:
        """End this stream's own session at the node (its client id, app and key); 0 dropped if it is gone.

        Never the key's other sessions: a key may be published in two places for a moment, and each
        session is cut by its own drop.
        """

    @abstractmethod
    def live_streams(self) -> list[LiveSession]:
        """Return the sessions publishing at the node now."""

    def drop_session(self, session: LiveSession) -> DropResult:
        """End a session the node reports that has no stream row (reconciliation): by its app, key and client id."""
        return self.drop(Stream(app=session.app, client_id=session.client_id, published_name=session.name))

    def play_url(self, stream: Stream) -> str | None:
        """Return the URL to pull the stream from the node, or None when the node has no play URL.

        Both nginx-rtmp and SRS play a stream at ``{play_url}/{app}/{key}``; an adapter for a server
        that does otherwise overrides this.
        """
        base = (self.node.play_url or "").strip().rstrip("/")
        if not base or urlsplit(base).scheme not in PULL_SCHEMES:
            return None
        return f"{base}/{quote(stream.app, safe='')}/{quote(stream.published_name, safe='')}"
