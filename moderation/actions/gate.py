"""The ingest gate's writes: decisions, streams opened, replaced and closed."""

from __future__ import annotations

import threading
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from moderation import events
from moderation.actions.cuts import PUBLISHER_CUT_KINDS, cut_in_background
from moderation.actions.queue_priority import initial_queue_priority
from moderation.actions.terms import check_title_soon
from moderation.models import (
    GateDecision,
    MediaServer,
    ModerationAction,
    Stream,
    StreamKey,
    hash_stream_key,
)
from moderation.models.publishers import STREAM_KEY_PREFIX_LENGTH
from moderation.prepared_statements import PreparedStatement, Slot


def record_gate_decision(
    *,
    hook: str,
    allowed: bool,
    reason: str,
    node: MediaServer | None = None,
    key_name: str = "",
    stream_key_id: int | None = None,
    publisher_id: int | None = None,
    stream_id: int | None = None,
    client_id: str = "",
    addr: str = "",
    detail: str = "",
    at: datetime | None = None,
) -> GateDecision:
    """Keep one gate decision with its reason; of the key presented, only its first characters and its hash."""
    decision = _decision_row(
        hook=hook,
        allowed=allowed,
        reason=reason,
        node=node,
        key_name=key_name,
        stream_key_id=stream_key_id,
        publisher_id=publisher_id,
        stream_id=stream_id,
        client_id=client_id,
        addr=addr,
        detail=detail,
        at=at or timezone.now(),
    )
    decision.save(force_insert=True)
    return decision


def _new_stream(
    stream_key: StreamKey,
    *,
    node: MediaServer,
    app: str,
    client_id: str,
    addr: str,
    title: str,
    published_name: str,
    at: datetime,
) -> Stream:
    """The row of a stream opening on this key, unsaved: one place for both ways a stream opens."""
    return Stream(
        key=stream_key,
        published_name=published_name,
        publisher_id=stream_key.publisher_id,
        category_id=stream_key.category_id,
        node=node,
        app=app,
        client_id=client_id,
        addr=addr,
        title=title or stream_key.default_title,
        started_at=at,
        queue_priority=initial_queue_priority(stream_key),
    )


def open_stream(
    stream_key: StreamKey,
    *,
    node: MediaServer,
    app: str,
    client_id: str,
    addr: str,
    title: str,
    published_name: str,
    at: datetime | None = None,
) -> Stream:
    """Open a stream for an allowed publish (the key has no other live session: see replace_live_session).

    ``published_name`` is the name the node publishes it under (the key presented), kept encrypted
    so the stream can be dropped and played at its node.
    """
    at = at or timezone.now()
    stream = _new_stream(
        stream_key,
        node=node,
        app=app,
        client_id=client_id,
        addr=addr,
        title=title,
        published_name=published_name,
        at=at,
    )
    stream.save(force_insert=True)
    transaction.on_commit(lambda: events.stream_opened(stream.pk))
    transaction.on_commit(lambda: check_title_soon(stream.pk))  # the sensitive terms, off the gate's threads
    return stream


def open_allowed_stream(
    stream_key: StreamKey,
    *,
    node: MediaServer,
    app: str,
    client_id: str,
    addr: str,
    title: str,
    published_name: str,
    at: datetime,
) -> int:
    """Open the stream of an allowed publish and keep its decision, in one statement; return the stream's id.

    On PostgreSQL one prepared statement inserts both rows (a data-modifying CTE), so outside a
    transaction the two commit together in one round trip; elsewhere (SQLite) ``open_stream`` and
    ``record_gate_decision`` run in one transaction. Either way the insert fails as a whole with an
    IntegrityError when the key's one live slot is taken.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    stream = _new_stream(
        stream_key,
        node=node,
        app=app,
        client_id=client_id,
        addr=addr,
        title=title,
        published_name=published_name,
        at=at,
    )
    decision = dict(
        hook=GateDecision.Hook.PUBLISH,
        allowed=True,
        reason=GateDecision.Reason.ALLOWED,
        node=node,
        key_name=published_name,
        stream_key_id=stream_key.pk,
        publisher_id=stream_key.publisher_id,
        client_id=client_id,
        addr=addr,
        at=at,
    )
    if connection.vendor != "postgresql":
        with transaction.atomic():
            stream.save(force_insert=True)
            record_gate_decision(stream_id=stream.pk, **decision)
        stream_id = stream.pk
    else:
        statement = _open_statement(connection)
        values = statement.values(stream, _decision_row(**decision), connection)
        with statement.prepared.execute(connection, values) as cursor:
            stream_id = cursor.fetchone()[0]
    transaction.on_commit(lambda: events.stream_opened(stream_id))
    transaction.on_commit(lambda: check_title_soon(stream_id))  # the sensitive terms, off the gate's threads
    return stream_id


def _decision_row(
    *,
    hook: str,
    allowed: bool,
    reason: str,
    node: MediaServer | None,
    key_name: str,
    stream_key_id: int | None,
    publisher_id: int | None,
    client_id: str,
    addr: str,
    at: datetime,
    stream_id: int | None = None,
    detail: str = "",
) -> GateDecision:
    """The decision ``record_gate_decision`` would keep, unsaved (its stream filled in by the statement)."""
    return GateDecision(
        at=at,
        hook=hook,
        node=node,
        key_name=key_name[:STREAM_KEY_PREFIX_LENGTH],
        key_hash=hash_stream_key(key_name) if key_name else "",
        stream_key_id=stream_key_id,
        publisher_id=publisher_id,
        stream_id=stream_id,
        client_id=client_id[:64],
        addr=addr[:64],
        allowed=allowed,
        reason=reason,
        detail=detail[:300],
    )


class _OpenStatement:
    """INSERT the stream, then its decision pointing at it, as one PostgreSQL statement (built once)."""

    def __init__(self, connection) -> None:
        quote = connection.ops.quote_name
        self.stream_fields = [f for f in Stream._meta.concrete_fields if not f.primary_key]
        self.decision_fields = [
            f for f in GateDecision._meta.concrete_fields if not f.primary_key and f.attname != "stream_id"
        ]

        def insert(model, fields, extra_column="", extra_value=""):
            columns = [quote(f.column) for f in fields] + ([quote(extra_column)] if extra_column else [])
            values = ["%s"] * len(fields) + ([extra_value] if extra_value else [])
            return f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}) VALUES ({', '.join(values)})"

        stream_id, pk = quote(GateDecision._meta.get_field("stream").column), quote(Stream._meta.pk.column)
        sql = (
            f"WITH new_stream AS ({insert(Stream, self.stream_fields)} RETURNING {pk}) "
            + insert(GateDecision, self.decision_fields, stream_id, f"(SELECT {pk} FROM new_stream)")
            + f" RETURNING {stream_id}"
        )
        count = len(self.stream_fields) + len(self.decision_fields)
        self.prepared = PreparedStatement(sql, [Slot(i) for i in range(count)], label="gate_open")

    def values(self, stream: Stream, decision: GateDecision, connection) -> list:
        """The parameters of one call, prepared for the database as Model.save would."""
        return [f.get_db_prep_save(f.pre_save(stream, True), connection) for f in self.stream_fields] + [
            f.get_db_prep_save(f.pre_save(decision, True), connection) for f in self.decision_fields
        ]


_open_statements: list[_OpenStatement] = []
_open_statements_lock = threading.Lock()


def _open_statement(connection) -> _OpenStatement:
    """The statement, built once per process (each connection prepares it when it first runs it)."""
    if not _open_statements:
        with _open_statements_lock:
            if not _open_statements:
                _open_statements.append(_OpenStatement(connection))
    return _open_statements[0]


def replace_live_session(stream_id: int, *, publisher_id: int, note: str, at: datetime) -> ModerationAction | None:
    """End a key's live session for a new publish of the key, and cut it at its node; None if it had ended.

    The cut is a ``replace`` action, pending until the node confirms, made on a background thread
    after the commit (the publish is not kept waiting on the old session's node) and retried like
    any cut. Until it is confirmed every measure on the key or publisher cuts that session too.
    """
    ended = Stream.objects.filter(pk=stream_id, ended_at__isnull=True).update(
        ended_at=at, end_reason=Stream.EndReason.REPLACED
    )
    if not ended:
        return None
    node_id = Stream.objects.filter(pk=stream_id).values_list("node_id", flat=True).first()
    action = ModerationAction.objects.create(
        kind=ModerationAction.Kind.REPLACE,
        stream_id=stream_id,
        publisher_id=publisher_id,
        note=note[:1000],
        media_status=ModerationAction.MediaStatus.PENDING,
        at=at,
    )
    transaction.on_commit(lambda: events.stream_ended(stream_id, Stream.EndReason.REPLACED))
    transaction.on_commit(lambda: cut_in_background(action.pk, node_id=node_id))
    return action


def end_stream_session(
    *, node: MediaServer, client_id: str, key_name: str, reason: str = Stream.EndReason.UNPUBLISHED
) -> int | None:
    """Close the live stream of this node session (publish_done / unpublish); return its id, None if none.

    One statement (prepared once per connection on PostgreSQL): conditional on the stream still being
    live, so a concurrent close (a cut, a replacement) wins once. A publisher who left while a cut of
    this stream (a block) or of all their streams (a suspension, a closure) was pending was cut: the
    record says so, whichever of the drop and the callback is first.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    ended_at = Stream._meta.get_field("ended_at").get_db_prep_value(timezone.now(), connection)
    values = [ended_at, reason, node.pk, client_id, hash_stream_key(key_name)]
    with _end_session_statement(connection).execute(connection, values) as cursor:
        row = cursor.fetchone()
    if row is None:
        return None
    stream_id, ended_reason = row
    transaction.on_commit(lambda: events.stream_ended(stream_id, ended_reason))
    return stream_id


def _end_session_sql(connection) -> tuple[str, list]:
    """UPDATE … RETURNING that closes a session's live stream, with the end reason a pending cut makes."""
    quote = connection.ops.quote_name
    stream, key, action = (quote(m._meta.db_table) for m in (Stream, StreamKey, ModerationAction))
    kinds = ", ".join(["%s"] * len(PUBLISHER_CUT_KINDS))
    sql = (
        f"UPDATE {stream} SET ended_at = %s, end_reason = CASE WHEN EXISTS ("
        f"SELECT 1 FROM {action} a WHERE a.media_status = %s AND (a.stream_id = {stream}.id"
        f" OR (a.publisher_id = {stream}.publisher_id AND a.kind IN ({kinds})))) THEN %s ELSE %s END"
        f" WHERE id = (SELECT s.id FROM {stream} s INNER JOIN {key} k ON s.key_id = k.id"
        f" WHERE s.node_id = %s AND s.client_id = %s AND k.key_hash = %s AND s.ended_at IS NULL LIMIT 1)"
        f" AND ended_at IS NULL RETURNING id, end_reason"
    )
    template = [
        Slot(0),
        str(ModerationAction.MediaStatus.PENDING),
        *(str(kind) for kind in PUBLISHER_CUT_KINDS),
        str(Stream.EndReason.CUT),
        Slot(1),
        Slot(2),
        Slot(3),
        Slot(4),
    ]
    return sql, template


_end_session_statements: list[PreparedStatement] = []


def _end_session_statement(connection) -> PreparedStatement:
    if not _end_session_statements:
        with _open_statements_lock:
            if not _end_session_statements:
                _end_session_statements.append(PreparedStatement(*_end_session_sql(connection), label="gate_end"))
    return _end_session_statements[0]


def touch_stream_session(*, node: MediaServer, client_id: str, key_name: str) -> int:
    """Note that a node still reports the session live; return how many open streams matched."""
    live = Stream.objects.filter(
        node=node, client_id=client_id, key__key_hash=hash_stream_key(key_name), ended_at__isnull=True
    )
    return live.update(last_update_at=timezone.now())


def stream_opened_for(*, node_id: int, client_id: str, key_name: str, at: datetime) -> int | None:
    """Return the id of the live stream a gate decision at ``at`` opened for this node session, None if none."""
    opened = Stream.objects.filter(
        node_id=node_id, client_id=client_id, key__key_hash=hash_stream_key(key_name), started_at=at
    )
    return opened.filter(ended_at__isnull=True).values_list("pk", flat=True).first()


def withdraw_unanswered_stream(stream_id: int) -> int | None:
    """Close a stream whose publish the node was refused while its decision still committed; keep why.

    The gate answered for a decision the database held past the answer budget (a deny), so the node
    never ran this session; a live row would show it on air (moderation/gate/faults.py).
    """
    with transaction.atomic():
        stream = Stream.objects.select_related("key", "node").filter(pk=stream_id, ended_at__isnull=True).first()
        if stream is None:
            return None  # its decision rolled back, or it is closed already
        now = timezone.now()
        Stream.objects.filter(pk=stream_id, ended_at__isnull=True).update(
            ended_at=now, end_reason=Stream.EndReason.GATE_DENIED
        )
        record_gate_decision(
            hook=GateDecision.Hook.PUBLISH,
            allowed=False,
            reason=GateDecision.Reason.GATE_ERROR,
            node=stream.node,
            key_name=stream.published_name,
            stream_key_id=stream.key_id,
            publisher_id=stream.publisher_id,
            stream_id=stream_id,
            client_id=stream.client_id,
            detail="withdrawn: the gate answered before the database let the decision finish",
            at=now,
        )
        transaction.on_commit(lambda: events.stream_ended(stream_id, Stream.EndReason.GATE_DENIED))
    return stream_id
