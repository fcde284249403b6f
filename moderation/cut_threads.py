"""The threads that cut at media servers, so that no thread answering consoles or the gate waits on a node.

A drop waits on a node's control port for up to LIVEWARD_MEDIA_SERVER_TIMEOUT seconds. Run on a
console thread (moderation/database_threads.py), a slow or frozen node would hold that thread and
every console's next action would queue behind it. An action committed on such a thread hands its
cut here instead (``start``); elsewhere (a page request, a Celery task, a management command) the cut
runs where it was committed, as it always did.

Cuts run on LIVEWARD_CUT_THREADS long-lived threads of their own (each keeps its database
connection: the cut records its outcome). Each node has a lane: at most ``PER_LANE`` of its cuts
run at once and the rest wait their turn in that lane, so a frozen node holds at most that many
threads and the cuts of every other node go on.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any

from django.conf import settings

from moderation.database_threads import (
    DatabaseThreads,
    check_lazily,
    drop_failed_connections,
    may_wait_on_media_servers,
)

logger = logging.getLogger(__name__)

# How many cuts of one node (lane) may run at once.
PER_LANE = 2


class CutThreads:
    """A pool of cut threads with one lane per node."""

    def __init__(self, name: str, size: Callable[[], int], *, per_lane: int = PER_LANE) -> None:
        self._threads = DatabaseThreads(name, size, waits_on_media_servers=True)
        self.per_lane = per_lane
        self._lock = threading.Lock()
        self._running: dict[Hashable, int] = {}
        self._waiting: dict[Hashable, deque] = {}

    def submit(self, lane: Hashable, function: Callable[..., Any], *args: Any) -> Future:
        """Queue ``function(*args)`` in ``lane``; return the future of its result."""
        job = (Future(), function, args)
        with self._lock:
            if self._running.get(lane, 0) >= self.per_lane:
                self._waiting.setdefault(lane, deque()).append(job)
                return job[0]
            self._running[lane] = self._running.get(lane, 0) + 1
        self._threads.submit(self._run, lane, job)
        return job[0]

    def _run(self, lane: Hashable, job: tuple) -> None:
        while job is not None:
            future, function, args = job
            if future.set_running_or_notify_cancel():
                try:
                    check_lazily()  # the lane's later cuts run in this same call
                    future.set_result(function(*args))
                except BaseException as exc:
                    logger.exception("cut failed on its cut thread; the pending-cut sweep retries it")
                    drop_failed_connections()
                    future.set_exception(exc)
            job = self._next(lane)

    def _next(self, lane: Hashable) -> tuple | None:
        # The lane's next cut runs on this thread; with none waiting, the lane gives its place back.
        with self._lock:
            waiting = self._waiting.get(lane)
            if waiting:
                job = waiting.popleft()
                if not waiting:
                    del self._waiting[lane]
                return job
            self._running[lane] -= 1
            if not self._running[lane]:
                del self._running[lane]
            return None

    def shutdown(self) -> None:
        """Close the cut threads' connections and stop them (tests, process exit)."""
        self._threads.shutdown()


_cuts = CutThreads("cuts", lambda: settings.LIVEWARD_CUT_THREADS)


def start(lane: Hashable, function: Callable[..., Any], *args: Any) -> Future:
    """Run a cut: here if this thread may wait on a node, else in its lane on the cut threads.

    Returns the future of its result (already done when it ran here; an error here is raised, as
    before, not kept in the future).
    """
    if may_wait_on_media_servers():
        done: Future = Future()
        done.set_result(function(*args))
        return done
    return _cuts.submit(lane, function, *args)


def submit(lane: Hashable, function: Callable[..., Any], *args: Any) -> Future:
    """Queue a cut nobody waits for in its lane on the cut threads, whatever thread asks."""
    return _cuts.submit(lane, function, *args)


def shutdown() -> None:
    """Close the cut threads' database connections (tests, before the database goes)."""
    _cuts.shutdown()
