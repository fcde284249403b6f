"""Ports the run command listens on: the one asked for, or the first free one from a default.

Two checkouts on one machine each run ``bin/run``: the second finds 8000 and 8081 taken and
takes the next free ports, instead of dying or, worse, answering for the other's stand-in node.
"""

from __future__ import annotations

import contextlib
import socket

SEARCH_SPAN = 100


class PortTaken(Exception):
    """The port asked for is in use, or no port in the searched span is free."""


def is_free(host: str, port: int) -> bool:
    """Tell whether a server could listen on ``host:port`` now (as uvicorn does, with SO_REUSEADDR)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        with contextlib.suppress(OSError):
            probe.listen(1)
        return True


def choose_port(host: str, *, asked: int, default: int, name: str, avoid: frozenset[int] = frozenset()) -> int:
    """Return ``asked`` if it is free, or (``asked`` being 0) the first free port from ``default``.

    A port that was asked for and is taken is an error naming the setting, never silently moved.
    """
    if asked:
        if asked in avoid or not is_free(host, asked):
            raise PortTaken(
                f"port {asked} on {host} ({name}) is in use; choose another, or unset {name} to take a free one"
            )
        return asked
    for port in range(default, min(default + SEARCH_SPAN, 65536)):
        if port not in avoid and is_free(host, port):
            return port
    raise PortTaken(f"no free port on {host} from {default} to {default + SEARCH_SPAN - 1}; set {name}")
