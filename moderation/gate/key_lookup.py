"""The gate's one read: the stream key with everything the rules read, compiled to SQL once per connection.

Every publish and update runs it (moderation/gate/rules.py), so it is compiled once per database
connection and then only executed; on PostgreSQL it is also prepared once per connection
(moderation/prepared_statements.py), so the server neither parses nor plans it per call.
tests/moderation/test_gate.py checks it against the queryset.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import OuterRef, Subquery
from django.db.models.query import get_related_populators

from moderation.blacklist_matching import blacklist_reference_of
from moderation.models import ServiceAgreement, Stream, StreamKey, hash_stream_key
from moderation.prepared_statements import PreparedStatement, Slot


def key_queryset(key_hash: str, now: datetime):
    """The key (found by its hash) with everything the rules read: publisher, category, current
    agreement (with the version before it and the end of its grace period), live session, and the
    reference of a blacklist entry in force matching the publisher (or None)."""
    in_force = ServiceAgreement.objects.filter(effective_at__lte=now).order_by("-effective_at")
    current_agreement = in_force.values("version")[:1]
    live_stream = Stream.objects.filter(key=OuterRef("pk"), ended_at__isnull=True).values("pk")[:1]
    return (
        StreamKey.objects.select_related("publisher", "category")
        .annotate(
            current_agreement_version=Subquery(current_agreement),
            current_agreement_grace_ends=Subquery(in_force.values("grace_ends_at")[:1]),
            previous_agreement_version=Subquery(in_force.values("version")[1:2]),
            live_stream_id=Subquery(live_stream),
            blacklist_reference=blacklist_reference_of("publisher__", now),
        )
        .filter(key_hash=key_hash)
    )


class CompiledKeyLookup:
    """``key_queryset`` compiled to SQL once per database connection, then only executed.

    Compiling that queryset costs more than running it (about 3 ms against 2 ms here), and the gate
    runs it on every callback. The SQL, its converters and the row-to-model mapping are kept; each
    call substitutes the key's hash and the time into the parameters and builds the instances the way
    Django's ModelIterable does. tests/moderation/test_gate.py checks it against the queryset.
    """

    _KEYS = ("\x00gate-key-hash-a", "\x00gate-key-hash-b")
    _TIMES = (datetime(2001, 2, 3, 4, 5, 6, 7, tzinfo=UTC), datetime(2002, 3, 4, 5, 6, 7, 8, tzinfo=UTC))

    def __init__(self, connection) -> None:
        self.connection = connection
        compiled = [self._compile(key, at) for key, at in zip(self._KEYS, self._TIMES, strict=True)]
        (self.sql, params_a, self.compiler), (sql_b, params_b, _compiler) = compiled
        if self.sql != sql_b or len(params_a) != len(params_b):
            raise RuntimeError("the key lookup does not compile to one SQL shape")
        self.key_positions = [i for i, value in enumerate(params_a) if value == self._KEYS[0]]
        self.time_positions = [
            i for i, (a, b) in enumerate(zip(params_a, params_b, strict=True)) if a != b and i not in self.key_positions
        ]
        if len(self.key_positions) != 1 or not self.time_positions:
            raise RuntimeError("cannot find the key and time parameters of the key lookup")
        template = list(params_a)
        template[self.key_positions[0]] = Slot(0)
        for position in self.time_positions:  # the agreement's and the blacklist's "now"
            template[position] = Slot(1)
        self.statement = PreparedStatement(self.sql, template, label="gate_key")
        compiler = self.compiler
        self.converters = compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]])
        select_fields = compiler.klass_info["select_fields"]
        self.model_slice = slice(select_fields[0], select_fields[-1] + 1)
        self.init_list = [column[0].target.attname for column in compiler.select[self.model_slice]]
        self.related_populators = get_related_populators(compiler.klass_info, compiler.select, connection.alias)
        self.annotation_col_map = dict(compiler.annotation_col_map)
        self.time_field = ServiceAgreement._meta.get_field("effective_at")

    def _compile(self, key: str, at: datetime):
        compiler = key_queryset(key, at).query.get_compiler(connection=self.connection)
        sql, params = compiler.as_sql()
        return sql, params, compiler

    def __call__(self, key_name: str, now: datetime) -> StreamKey | None:
        at = self.time_field.get_db_prep_value(now, self.connection)
        with self.statement.execute(self.connection, [hash_stream_key(key_name), at]) as cursor:
            row = cursor.fetchone()
        if row is None:
            return None
        if self.converters:
            row = next(self.compiler.apply_converters([row], self.converters))
        stream_key = StreamKey.from_db(self.connection.alias, self.init_list, row[self.model_slice])
        for populator in self.related_populators:
            populator.populate(row, stream_key)
        for name, position in self.annotation_col_map.items():
            setattr(stream_key, name, row[position])
        return stream_key


_lookups = threading.local()


def load_key(key_name: str, now: datetime) -> StreamKey | None:
    """Fetch the key a node presented (by its SHA-256) with everything the rules read, in one query."""
    connection = connections[DEFAULT_DB_ALIAS]
    lookup = getattr(_lookups, "key", None)
    if lookup is None or lookup.connection is not connection:
        lookup = _lookups.key = CompiledKeyLookup(connection)
    return lookup(key_name, now)
