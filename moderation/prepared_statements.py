"""SQL statements prepared once per database connection on PostgreSQL, run as they are elsewhere.

The hot paths (the gate's decision, the registration check) send the same statements thousands of
times a second with only a few values changing. On PostgreSQL each is sent once per connection as
``PREPARE`` with its constants inlined as literals (so a partial index whose condition is a
constant, such as the blacklist's ``status = 'active'``, stays usable by the generic plan) and only
the values that change as ``$n`` parameters; each call is then one ``EXECUTE``, which the server
neither parses nor plans again. Other databases (SQLite in development) run the SQL with every
parameter, as Django would.

A prepared statement belongs to the server session: it survives a rolled-back transaction and is
gone with the connection, so the names prepared are remembered per underlying connection object and
prepared again after a reconnect. A server that drops them behind our back (``DISCARD ALL`` from a
pooler in session mode) fails that one call (the gate denies it, failing closed) and the next call
prepares again; a pooler in transaction mode cannot carry prepared statements at all.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass

_names = itertools.count(1)
_names_lock = threading.Lock()


@dataclass(frozen=True)
class Slot:
    """A parameter that changes per call: the ``index``-th value passed to ``PreparedStatement.execute``."""

    index: int


class PreparedStatement:
    """One statement: Django-style SQL with ``%s`` placeholders, and a template of its parameters.

    Each template entry is either a constant (the same on every call) or a ``Slot`` naming which of
    the call's values goes there; one value may fill several slots (the time in several subqueries).
    """

    def __init__(self, sql: str, template: Sequence, *, label: str) -> None:
        self.sql = sql
        self.template = list(template)
        self.slot_count = 1 + max((entry.index for entry in self.template if isinstance(entry, Slot)), default=-1)
        with _names_lock:
            self.name = f"liveward_{label}_{next(_names)}"

    def execute(self, connection, values: Sequence):
        """Run the statement with ``values`` in its slots on ``connection``; return the open cursor's rows source."""
        if len(values) != self.slot_count:
            raise ValueError(f"{self.name} takes {self.slot_count} values, not {len(values)}")
        cursor = connection.cursor()
        if connection.vendor != "postgresql":
            cursor.execute(self.sql, [values[e.index] if isinstance(e, Slot) else e for e in self.template])
            return cursor
        self._prepare(connection, cursor)
        placeholders = ", ".join(["%s"] * self.slot_count)
        try:
            cursor.execute(f"EXECUTE {self.name} ({placeholders})" if values else f"EXECUTE {self.name}", values)
        except Exception as exc:
            if getattr(exc.__cause__, "pgcode", None) == "26000":  # invalid_sql_statement_name: DISCARD ALL
                _prepared_on(connection).discard(self.name)
            raise
        return cursor

    def definition(self, cursor) -> str:
        """The PostgreSQL statement's text: constants inlined, the call's values as $1, $2, …"""
        from psycopg2.extensions import AsIs

        inlined = [AsIs(f"${e.index + 1}") if isinstance(e, Slot) else e for e in self.template]
        return cursor.cursor.mogrify(self.sql, inlined).decode()

    def _prepare(self, connection, cursor) -> None:
        prepared = _prepared_on(connection)
        if self.name in prepared:
            return
        cursor.execute(f"PREPARE {self.name} AS {self.definition(cursor)}")  # no parameters: sent as it is
        prepared.add(self.name)


def _prepared_on(connection) -> set[str]:
    """The names prepared on ``connection``'s current server session (a new set after a reconnect)."""
    raw = connection.connection
    known = getattr(connection, "_liveward_prepared", None)
    if known is None or known[0] is not raw:
        known = connection._liveward_prepared = (raw, set())
    return known[1]
