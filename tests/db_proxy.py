"""A cuttable TCP proxy for database fault tests: PostgreSQL behind a network that freezes or breaks.

``CuttableProxy(upstream)`` listens on a free loopback port and forwards every connection to the
upstream (PostgreSQL at 127.0.0.1:5432). The test then cuts it the ways a network fails:

- ``pause()`` freezes it: bytes already sent are held, nothing more goes either way, connections
  stay open (the client's kernel sees its data accepted, so only the client's own timeouts end the
  wait) and new connections are accepted but get no answer; ``resume()`` lets everything through.
- ``pause_when_client_sends(marker)`` freezes it the moment a client sends ``marker`` (e.g. the
  ``COMMIT`` of a transaction), before that message reaches the server; ``paused`` is set then.
- ``drop_connections()`` resets every open connection (the database restarted, a NAT forgot them).
- ``refuse(True)`` resets new connections as soon as they arrive (the database is down).

Use ``route_database_through(proxy)`` to send the connections Django opens from then on through
it; it gives back a function that routes them straight to the database again.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable

_CHUNK = 64 * 1024


class CuttableProxy:
    """A loopback TCP proxy that can freeze, reset or refuse its connections."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._flowing = threading.Event()
        self._flowing.set()
        self.paused = threading.Event()
        self._marker: bytes | None = None
        self._refusing = False
        self._closed = False
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self.connections_made = 0
        threading.Thread(target=self._accept, name="db-proxy-accept", daemon=True).start()

    # --- cutting ------------------------------------------------------------------------------

    def pause(self) -> None:
        """Freeze every connection, open and new: nothing is forwarded until ``resume``."""
        self._flowing.clear()
        self.paused.set()

    def pause_when_client_sends(self, marker: bytes) -> None:
        """Freeze everything as soon as a client sends ``marker``, holding that message back."""
        self._marker = marker

    def resume(self) -> None:
        """Forward again, including what was held."""
        self._marker = None
        self.paused.clear()
        self._flowing.set()

    def refuse(self, refusing: bool = True) -> None:
        """Reset new connections at once (True) or accept them again (False)."""
        self._refusing = refusing

    def drop_connections(self) -> None:
        """Reset every open connection on both sides; whatever was held is lost."""
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            _reset(sock)

    def close(self) -> None:
        """Stop listening and reset every connection."""
        with self._lock:
            self._closed = True
        _reset(self._listener)  # shutdown wakes the thread blocked in accept()
        self.resume()
        self.drop_connections()

    # --- forwarding ---------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            if self._refusing:
                _reset(client)
                continue
            threading.Thread(target=self._link, args=(client,), name="db-proxy-link", daemon=True).start()

    def _link(self, client: socket.socket) -> None:
        if not self._track(client):
            return
        self._flowing.wait()  # a frozen network does not reach the server either
        try:
            server = socket.create_connection(self.upstream, timeout=5)
            server.settimeout(None)
        except OSError:
            _reset(client)
            return
        if not self._track(server):
            _reset(client)
            return
        self.connections_made += 1
        threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
        self._pump(server, client, False)

    def _track(self, sock: socket.socket) -> bool:
        with self._lock:
            if not self._closed:
                self._sockets.add(sock)
                return True
        _reset(sock)  # the proxy closed meanwhile
        return False

    def _pump(self, source: socket.socket, target: socket.socket, from_client: bool) -> None:
        try:
            while True:
                data = source.recv(_CHUNK)
                if not data:
                    target.shutdown(socket.SHUT_WR)
                    return
                marker = self._marker
                if from_client and marker is not None and marker in data:
                    self._marker = None
                    self.pause()
                self._flowing.wait()
                with self._lock:
                    if target not in self._sockets:
                        return  # dropped while held: what was held is lost
                target.sendall(data)
        except OSError:
            return


def _reset(sock: socket.socket) -> None:
    """Close ``sock`` at once, as a restarted server or a broken network does (RST where it can)."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        # close() alone would wait for the pump blocked in recv() on it; shutdown wakes it now.
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


def route_database_through(proxy: CuttableProxy) -> Callable[[], None]:
    """Point the connections Django opens from now on (every thread) at ``proxy``; return the undo."""
    from django.db import connections

    settings_dict = connections.settings["default"]  # the dict every thread's connection is made from
    before = (settings_dict["HOST"], settings_dict["PORT"])
    settings_dict["HOST"], settings_dict["PORT"] = "127.0.0.1", str(proxy.port)

    def undo() -> None:
        settings_dict["HOST"], settings_dict["PORT"] = before

    return undo
