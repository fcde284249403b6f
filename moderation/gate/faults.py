"""The gate when its database is slow or gone: the answer budget, decisions nobody waits for, the outage.

**The answer budget.** A media server holds the publisher until the gate answers, so the gate
answers within LIVEWARD_GATE_ANSWER_SECONDS whatever the database does. The gate threads bound each
statement and lock wait to half of it (``bound_connection``, run on every connection they open);
the front (moderation/gate/asgi.py) waits for the decision no longer than the whole budget. Past
it, the front answers for the decision itself (503, which every server takes as a deny; on_update
see below) and abandons the call (``GateCall.abandon``).

**No stream live that nobody allowed.** The thread still deciding an abandoned call must not leave
a live stream behind (a "ghost": the node was told no, the console shows it on air). Right before
the statement that keeps the decision (and opens the stream) it asks ``ensure_awaited``, which
stops the decision unwritten once the front has answered; a write already on its way when the front
gave up is settled after it (``settle`` says the front answered first) and the stream it opened is
withdrawn at once. A decision whose write (or commit) failed with the connection, its outcome
unknown, leaves its stream to be withdrawn when the database answers again (``remember_unsettled`` /
``take_unsettled``): by its id, or by its session (``OpenedSession``) when the statement that
would have returned the id never answered.

**During an outage** (the database refuses connections, times out, or does not answer within the
budget) every decision fails closed: on_publish and SRS's on_publish are denied. A running
session's on_update is the exception, for a bounded grace: ending every live session of the platform
for a short database outage would do more harm than the few seconds of unchecked broadcasting of
sessions the gate allowed before, each of which the next on_update re-checks. So on_update answers
2xx while the outage (in this process: from the first failure to the next decision that reached
the database) is younger than LIVEWARD_GATE_UPDATE_GRACE_SECONDS, and denies after it. A block
needs the database too, so nothing is blocked during the outage that the grace could keep on air.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import InterfaceError, OperationalError

from moderation import actions

logger = logging.getLogger(__name__)

_DECIDING, _SETTLED, _ABANDONED = "deciding", "settled", "abandoned"


class GateCall:
    """One callback's decision, shared by the thread deciding it and the front answering the node."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = _DECIDING

    def abandon(self) -> bool:
        """The front's budget ran out: True if the thread had not settled (the front answers), else False."""
        with self._lock:
            if self._state == _DECIDING:
                self._state = _ABANDONED
            return self._state == _ABANDONED

    def settle(self) -> bool:
        """The thread is done: True if the front will send its answer, False if it answered already."""
        with self._lock:
            if self._state == _DECIDING:
                self._state = _SETTLED
            return self._state == _SETTLED

    @property
    def abandoned(self) -> bool:
        return self._state == _ABANDONED


class AnsweredAlready(Exception):
    """The front answered for this decision (its budget ran out); the decision is rolled back."""


_current = threading.local()


def begin(call: GateCall | None) -> None:
    """Make ``call`` the one this thread decides (None when nobody waits with a budget: tests, WSGI)."""
    _current.call = call


def ensure_awaited() -> None:
    """Raise AnsweredAlready if the front has answered for the decision this thread is making."""
    call = getattr(_current, "call", None)
    if call is not None and call.abandoned:
        raise AnsweredAlready("the gate answered before the database did")


def settle() -> bool:
    """Settle this thread's decision: True if its answer is the one the node gets."""
    call = getattr(_current, "call", None)
    return call is None or call.settle()


def answer_budget() -> float:
    """Seconds the front waits for a decision before answering for it."""
    return float(settings.LIVEWARD_GATE_ANSWER_SECONDS)


def bound_connection(connection) -> None:
    """Bound a gate thread's statements and lock waits to half the answer budget."""
    milliseconds = max(1, round(answer_budget() * 500))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SET statement_timeout = {milliseconds}; SET lock_timeout = {milliseconds}")
        elif connection.vendor == "sqlite":
            cursor.execute(f"PRAGMA busy_timeout = {milliseconds}")


# --- the outage -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenedSession:
    """A stream being opened whose id is not known yet: the node's session and the time of the decision."""

    node_id: int
    client_id: str
    key_name: str
    at: datetime


_outage = threading.Lock()
_outage_since: float | None = None
_unsettled: set[int | OpenedSession] = set()


def is_database_unavailable(exc: BaseException) -> bool:
    """Tell whether ``exc`` says the database could not be reached or did not answer in time."""
    return isinstance(exc, OperationalError | InterfaceError | AnsweredAlready)


def database_failed() -> None:
    """Note that a decision could not reach the database (the outage starts now, if not before)."""
    global _outage_since
    with _outage:
        if _outage_since is None:
            _outage_since = time.monotonic()


def database_answered() -> None:
    """Note that a decision reached the database: the outage, if any, is over; withdraw what it left."""
    global _outage_since
    _outage_since = None
    if _unsettled:
        for stream_id in take_unsettled():
            withdraw(stream_id)


def withdraw(stream_id: int | OpenedSession) -> None:
    """Close a stream opened by a decision the node was refused; keep it for later if that fails too."""
    try:
        if isinstance(stream_id, OpenedSession):
            found = actions.stream_opened_for(
                node_id=stream_id.node_id, client_id=stream_id.client_id, key_name=stream_id.key_name, at=stream_id.at
            )
            if found is None:
                return  # the write never committed
            stream_id = found
        actions.withdraw_unanswered_stream(stream_id)
    except Exception:
        logger.warning("could not withdraw stream %s yet; retried after the next decision", stream_id)
        remember_unsettled(stream_id)


def keeps_session_through(exc: BaseException) -> bool:
    """Note a failed decision; tell whether a running session's on_update may still be allowed."""
    if not is_database_unavailable(exc):
        return False
    database_failed()
    return update_grace_allows()


def update_grace_allows() -> bool:
    """Tell whether on_update may keep a running session on air through the current outage."""
    since = _outage_since
    grace = settings.LIVEWARD_GATE_UPDATE_GRACE_SECONDS
    return since is not None and time.monotonic() - since < grace


def remember_unsettled(stream_id: int | OpenedSession) -> None:
    """Keep a stream whose decision failed at its commit: it is withdrawn when the database answers."""
    with _outage:
        _unsettled.add(stream_id)


def take_unsettled() -> list[int | OpenedSession]:
    """Return (and forget) the streams left by decisions whose commit failed."""
    with _outage:
        taken = sorted(s for s in _unsettled if isinstance(s, int)) + [s for s in _unsettled if not isinstance(s, int)]
        _unsettled.clear()
    return taken


def forget_outage() -> None:
    """Forget the outage and the streams left to withdraw (between tests)."""
    global _outage_since
    _outage_since = None
    take_unsettled()
