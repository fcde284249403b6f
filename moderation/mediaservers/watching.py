"""Watching a stream in the browser through the console: the node's HLS or HTTP-FLV, its key kept here.

A node's ``watch_url`` is a template such as ``http://edge-1:8080/hls/{key}.m3u8`` (nginx-rtmp with
``hls on``, SRS's HLS) or ``http://edge-1:8080/{app}/{key}.flv`` (SRS's HTTP-FLV remux,
nginx-http-flv-module). The browser never sees that URL: the stream page plays
``/streams/<id>/watch/<name>``, a mirror of the node's directory in which the stream key reads ``~``.
The console fetches the node's file and, for a playlist, rewrites every URI it names into the mirror
(a playlist naming anything outside it is refused). So a patroller's browser, its history and its
cache never hold a stream key: the key lets whoever has it publish, and the console keeps it
encrypted (docs/security.md).
"""

from __future__ import annotations

import enum
import http.client
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from django.conf import settings

from moderation.mediaservers import transport
from moderation.mediaservers.interface import MediaServerBadAnswer, MediaServerError, MediaServerHTTPError
from moderation.models import Stream

# What stands for the stream key in the names the browser sees.
KEY_MARK = "~"
PLACEHOLDERS = frozenset({"app", "key"})
# A mirrored name: path segments of safe characters, never "." or ".." (checked apart).
NAME_PATTERN = re.compile(r"^[A-Za-z0-9._~-]+(?:/[A-Za-z0-9._~-]+)*$")
# The name the browser plays an HTTP-FLV stream under (its node URL may carry a query).
FLV_NAME = "stream.flv"
# A playlist is small; a segment of a few seconds is a few megabytes at most.
MAX_PLAYLIST_BYTES = 1024 * 1024
MAX_SEGMENT_BYTES = 32 * 1024 * 1024
CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".aac": "audio/aac",
    ".flv": "video/x-flv",
}
_URI_ATTRIBUTE = re.compile(r'URI="([^"]*)"')


class WatchFormat(enum.StrEnum):
    HLS = "hls"
    FLV = "flv"


def watch_format(template: str) -> WatchFormat | None:
    """Tell the format a watch URL template serves by its path: .m3u8 is HLS, .flv is HTTP-FLV."""
    path = urlsplit(template).path.lower()
    if path.endswith(".m3u8"):
        return WatchFormat.HLS
    if path.endswith(".flv"):
        return WatchFormat.FLV
    return None


def check_watch_url(template: str) -> str:
    """Return the template stripped, or raise ValueError saying what is wrong with it ('' is fine: no player)."""
    template = template.strip()
    if not template:
        return ""
    parts = urlsplit(template)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("the watch URL must be an http(s) URL")
    try:
        fields = {field for _text, field, _spec, _conv in string.Formatter().parse(template) if field is not None}
    except ValueError as exc:
        raise ValueError(f"the watch URL has an unbalanced brace: {exc}") from None
    if "key" not in fields:
        raise ValueError("the watch URL must contain {key}")
    if fields - PLACEHOLDERS:
        raise ValueError(f"the watch URL may use only {{app}} and {{key}}, not {sorted(fields - PLACEHOLDERS)}")
    if watch_format(template) is None:
        raise ValueError("the watch URL's path must end in .m3u8 (HLS) or .flv (HTTP-FLV)")
    if KEY_MARK in template:
        raise ValueError(f"the watch URL must not contain {KEY_MARK!r}")
    if watch_format(template) == WatchFormat.HLS and parts.query:
        raise ValueError("an HLS watch URL takes no query")
    return template


@dataclass(frozen=True)
class Mirror:
    """A stream's files at its node, as the browser names them (the key written as ``~``)."""

    node: str
    format: WatchFormat
    base: str  # the node URL the names are under (a directory, key and app filled in)
    key: str  # the stream key as it appears in node URLs (percent-encoded)
    entry: str  # the first name the browser asks for: the playlist, or FLV_NAME
    flv_url: str = ""

    def node_url(self, name: str) -> str | None:
        """Return the node URL of a mirrored name, or None for a name outside the mirror."""
        if self.format == WatchFormat.FLV:
            return self.flv_url if name == FLV_NAME else None
        if not NAME_PATTERN.match(name) or any(part in {".", ".."} for part in name.split("/")):
            return None
        return self.base + name.replace(KEY_MARK, self.key)

    def name_for(self, node_url: str) -> str | None:
        """Return the mirrored name of a node URL (its query dropped), or None when it lies outside."""
        parts = urlsplit(node_url)
        bare = node_url.split("#", 1)[0].split("?", 1)[0]
        if parts.scheme not in {"http", "https"} or not bare.startswith(self.base):
            return None
        name = bare[len(self.base) :]
        if KEY_MARK in name:
            return None  # a name with the mark of its own would be read back wrong
        name = name.replace(self.key, KEY_MARK)
        if not NAME_PATTERN.match(name) or any(part in {".", ".."} for part in name.split("/")):
            return None
        return name


def mirror_for(stream: Stream) -> Mirror | None:
    """Return where the browser may watch the stream through the console, or None when its node offers nothing."""
    node = stream.node
    try:
        template = check_watch_url(node.watch_url or "")
    except ValueError:
        return None  # set through actions, which check it; a bad row gets no player
    key = quote(stream.published_name or "", safe="")
    app = quote(stream.app or "", safe="")
    if not template or not key or KEY_MARK in key or KEY_MARK in app:
        return None
    fmt = watch_format(template)
    if fmt == WatchFormat.FLV:
        url = template.replace("{app}", app).replace("{key}", key)
        return Mirror(node=node.name, format=fmt, base="", key=key, entry=FLV_NAME, flv_url=url)
    first = min(template.index(f"{{{field}}}") for field in PLACEHOLDERS if f"{{{field}}}" in template)
    cut = template.rfind("/", 0, first) + 1
    entry = template[cut:].replace("{app}", app).replace("{key}", KEY_MARK)
    if not NAME_PATTERN.match(entry):
        return None
    return Mirror(node=node.name, format=fmt, base=template[:cut], key=key, entry=entry)


@dataclass(frozen=True)
class WatchedFile:
    content_type: str
    body: bytes


def content_type_of(name: str) -> str:
    """Return the content type the browser is told for a mirrored name."""
    for suffix, content_type in CONTENT_TYPES.items():
        if name.lower().endswith(suffix):
            return content_type
    return "application/octet-stream"


def fetch(mirror: Mirror, name: str, *, browser_prefix: str) -> WatchedFile | None:
    """Fetch one mirrored HLS file from the node (a playlist rewritten into the mirror); None: not in it.

    ``browser_prefix`` is the console path the names hang under (``/streams/<id>/watch/``).
    Raises a MediaServerError when the node gives no usable answer.
    """
    url = mirror.node_url(name)
    if url is None or mirror.format != WatchFormat.HLS:
        return None
    is_playlist = name.lower().endswith(".m3u8")
    body = transport.get(
        url, node=mirror.node, max_bytes=MAX_PLAYLIST_BYTES if is_playlist else MAX_SEGMENT_BYTES, what="GET watch file"
    )
    if is_playlist:
        body = rewrite_playlist(mirror, url, body.decode("utf-8", "replace"), browser_prefix=browser_prefix).encode()
    return WatchedFile(content_type=content_type_of(name), body=body)


def rewrite_playlist(mirror: Mirror, playlist_url: str, text: str, *, browser_prefix: str) -> str:
    """Point every URI of an HLS playlist into the mirror; raise MediaServerBadAnswer for one outside it."""
    if not text.lstrip().startswith("#EXTM3U"):
        raise MediaServerBadAnswer("the watch URL answered with something other than an HLS playlist", node=mirror.node)

    def browser_url(uri: str) -> str:
        name = mirror.name_for(urljoin(playlist_url, uri))
        if name is None:
            raise MediaServerBadAnswer("the playlist names a file outside the stream's directory", node=mirror.node)
        return browser_prefix + name

    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            lines.append(_URI_ATTRIBUTE.sub(lambda match: f'URI="{browser_url(match.group(1))}"', stripped))
        else:
            lines.append(browser_url(stripped))
    return "\n".join(lines) + "\n"


def flv_chunks(mirror: Mirror, *, chunk_bytes: int = 64 * 1024) -> Iterator[bytes]:
    """Yield the node's HTTP-FLV stream as it comes, until the node ends it or the caller stops.

    Each read waits at most settings.LIVEWARD_MEDIA_SERVER_TIMEOUT; the connection is closed when the
    iteration ends (the browser went away, the stream ended, the node fell silent).
    """
    parts = urlsplit(mirror.flv_url)
    timeout = float(settings.LIVEWARD_MEDIA_SERVER_TIMEOUT)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("GET", target)
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            raise MediaServerError(f"GET watch stream: {exc}", node=mirror.node) from exc
        if not 200 <= response.status < 300:
            raise MediaServerHTTPError(
                f"GET watch stream: HTTP {response.status}", node=mirror.node, status=response.status
            )
        while True:
            try:
                chunk = response.read1(chunk_bytes)
            except (OSError, http.client.HTTPException):
                return
            if not chunk:
                return
            yield chunk
    finally:
        connection.close()
