"""uvicorn's HTTP protocol with the two limits it lacks: a deadline and a size cap on request headers.

uvicorn 0.54 keeps a connection that sends nothing, or sends its headers a byte at a time, open for
ever (its keep-alive timeout starts only after a first response), and its httptools parser buffers
headers without limit (16 MB of them were accepted). With no proxy in front (the run command), a
few hundred such connections would hold the server. This protocol gives a request's headers
LIVEWARD_HEADER_TIMEOUT seconds from their first byte (from the connection's opening for its first
request) and LIVEWARD_MAX_HEADER_BYTES bytes: late headers get 408, large ones 431, and the
connection is closed; a connection that sent nothing at all is closed without an answer. Bodies are
limited in ASGI (console/body_limits.py), WebSockets by uvicorn's ``--ws-max-size``.

    uvicorn console.asgi:application --http console.http_protocol:HeaderLimitedHttpToolsProtocol

The run command passes it; docs/deploy.md shows it for production.
"""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

logger = logging.getLogger(__name__)

_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class HeaderLimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a deadline and a size cap on each request's headers."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = float(settings.LIVEWARD_HEADER_TIMEOUT)
        self.max_header_bytes = int(settings.LIVEWARD_MAX_HEADER_BYTES)
        self._header_deadline: asyncio.TimerHandle | None = None
        self._header_bytes = 0

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_done()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return
        idle = self.cycle is None or self.cycle.response_complete
        if self._header_deadline is None and idle:
            self._await_headers()  # the first bytes of the next request on a kept-alive connection
        cycle = self.cycle
        super().data_received(data)
        if self.cycle is not cycle or self.transport.is_closing():
            self._headers_done()  # a request's headers are complete (or the connection is over)
        elif self._header_deadline is not None:
            self._header_bytes += len(data)
            if self._header_bytes > self.max_header_bytes:
                self._refuse(431, f"Request headers are limited to {self.max_header_bytes} bytes.")

    def handle_websocket_upgrade(self, *args, **kwargs) -> None:
        self._headers_done()  # the WebSocket protocol takes the connection over
        super().handle_websocket_upgrade(*args, **kwargs)

    def _await_headers(self) -> None:
        self._headers_done()
        self._header_bytes = 0
        self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_late)

    def _headers_done(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_late(self) -> None:
        self._header_deadline = None
        if self.transport.is_closing():
            return
        if self._header_bytes == 0:
            self.transport.close()  # nothing sent: an idle or pre-opened connection, nobody to tell
            return
        self._refuse(408, f"Request headers did not arrive within {self.header_timeout:g} seconds.")

    def _refuse(self, status: int, message: str) -> None:
        self._headers_done()
        logger.info("%s: %s %s", self.client, status, message)
        body = message.encode()
        head = [
            b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status]),
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()
