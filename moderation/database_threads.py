"""Long-lived threads that keep their database connections, for the hot paths of the ASGI process.

Under ASGI, Django (and Channels' ``database_sync_to_async``) runs ORM work on short-lived executor
threads and closes the connection after every call when ``CONN_MAX_AGE`` is 0, so each gate
callback or console action would pay a new PostgreSQL connection (several milliseconds, more under
load). The gate callbacks and the console's WebSocket work run instead on small pools of threads
that live as long as the process, each holding its own connection between calls.

A kept connection can break while it waits (the database restarted, a network fault, an idle
timeout), so each call first checks its thread's connection (``is_usable``: one ``SELECT 1`` on
PostgreSQL, free on SQLite) and replaces a broken one before the work starts; a call that failed in
the database drops its thread's connection, so a broken one never poisons the next call either. A
pool whose work starts elsewhere (the cut threads call the node first) checks lazily instead, at
its first query, with Django's own health check (``CONN_HEALTH_CHECKS``, on for PostgreSQL).

The threads answering consoles and the gate never wait on a media server: a pool made with
``waits_on_media_servers=False`` (the default) says so, and the cut hands its drop to the cut threads
(moderation/cut_threads.py) when it finds itself on one of them (``may_wait_on_media_servers``).
A pool may also prepare each connection it opens (``on_connect``: the gate bounds its statements).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django import db
from django.db.backends.signals import connection_created

# Which pool, if any, the current thread belongs to.
_here = threading.local()


class DatabaseThreads:
    """A named pool of threads that keep their database connections between calls."""

    def __init__(
        self,
        name: str,
        size: Callable[[], int],
        *,
        waits_on_media_servers: bool = False,
        on_connect: Callable[[Any], None] | None = None,
    ) -> None:
        self.name = name
        self._size = size  # read when the pool starts, not at import (settings may not be ready)
        self.waits_on_media_servers = waits_on_media_servers
        self.on_connect = on_connect
        # The cut threads' work starts at the node: a check before it would delay the drop.
        self.check_connections = check_lazily if waits_on_media_servers else replace_broken_connections
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _pool(self) -> ThreadPoolExecutor:
        executor = self._executor
        if executor is None:
            with self._lock:
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(
                        max_workers=self._size(), thread_name_prefix=self.name, initializer=_join, initargs=(self,)
                    )
                executor = self._executor
        return executor

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run ``function(*args)`` on one of the pool's threads and return (or raise) its result."""
        return await asyncio.get_running_loop().run_in_executor(self._pool(), _call, function, args)

    def submit(self, function: Callable[..., Any], *args: Any) -> Future:
        """Start ``function(*args)`` on one of the pool's threads from any thread; return its future."""
        return self._pool().submit(_call, function, args)

    def shutdown(self) -> None:
        """Close every thread's database connections and stop the pool (tests, process exit)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is None:
            return
        workers = executor._max_workers
        barrier = threading.Barrier(workers)

        def close_here() -> None:
            db.connections.close_all()
            barrier.wait(timeout=10)  # holds this thread until each worker has taken one job

        for _ in range(workers):
            executor.submit(close_here)
        executor.shutdown(wait=True)


def _join(pool: DatabaseThreads) -> None:
    _here.pool = pool


def may_wait_on_media_servers() -> bool:
    """Tell whether the calling thread may wait on a media server (not one answering consoles or the gate)."""
    pool = getattr(_here, "pool", None)
    return pool is None or pool.waits_on_media_servers


def _prepare_connection(sender, connection, **kwargs) -> None:
    pool = getattr(_here, "pool", None)
    if pool is not None and pool.on_connect is not None:
        pool.on_connect(connection)


connection_created.connect(_prepare_connection, dispatch_uid="moderation.database_threads")


def replace_broken_connections() -> None:
    """Close this thread's kept connections that no longer answer, so the next query reconnects."""
    for connection in db.connections.all(initialized_only=True):
        if connection.connection is not None and not connection.in_atomic_block and not connection.is_usable():
            connection.close()


def check_lazily() -> None:
    """Have this thread's kept connections checked at their next query, as Django does per request."""
    for connection in db.connections.all(initialized_only=True):
        connection.health_check_done = False


def drop_failed_connections() -> None:
    """Close this thread's connections that saw a database error or were left inside a transaction."""
    for connection in db.connections.all(initialized_only=True):
        if connection.errors_occurred or connection.in_atomic_block:
            connection.close()


def _call(function: Callable[..., Any], args: tuple) -> Any:
    _here.pool.check_connections()
    try:
        return function(*args)
    except BaseException:
        # A domain error (a refused action) leaves a healthy connection; a database error or a
        # transaction left open does not, and the next call on this thread must start clean.
        drop_failed_connections()
        raise


def drop_connections() -> None:
    """Close the calling pool thread's connections (after a failure it answered without raising)."""
    db.connections.close_all()
