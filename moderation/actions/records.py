"""Retention and legal holds (Art. 14, 16; docs/records.md): set how long each kind is kept, hold, purge.

The purge deletes, in batches (set-based ``DELETE … IN (SELECT … LIMIT)`` for the high-volume
kinds), what is past its kind's retention and under no legal hold in force:
gate decisions, comments, snapshots (and their image files), webhook deliveries, the staff action
log, verification scans (file and row, counted from their review's decision), and streams nothing
else refers to any more. Actions and their evidence are not purged (credit
events, appeals and blacklist entries refer to them). A hold on a publisher or a stream keeps every
record about it; a hold on a period keeps every record dated inside it; while any publisher or
stream hold is in force, webhook deliveries are not purged at all (they name them only in JSON).
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.db.models import Exists, FileField, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts import record_chain
from accounts.actions import log_staff_action
from accounts.models import StaffActionLog, User
from moderation import permissions, retention
from moderation.errors import ModerationError
from moderation.models import (
    MINIMUM_RETENTION_DAYS,
    Comment,
    GateDecision,
    LegalHold,
    ModerationAction,
    Publisher,
    RecordKind,
    RetentionRule,
    Snapshot,
    Stream,
    VerificationDocument,
    WebhookDelivery,
)

PURGE_BATCH = 5000
MAXIMUM_RETENTION_DAYS = 3650
Scope = LegalHold.Scope


def set_retention(kind: str, *, days: int, actor: User) -> RetentionRule:
    """Keep records of ``kind`` this many days (at least 60)."""
    permissions.check(actor, "records.manage")
    if kind not in RecordKind.values:
        raise ModerationError(f"unknown kind of record {str(kind)[:40]!r}", code="bad_field")
    if not isinstance(days, int) or isinstance(days, bool) or days < MINIMUM_RETENTION_DAYS:
        raise ModerationError(f"records are kept at least {MINIMUM_RETENTION_DAYS} days", code="too_short")
    if days > MAXIMUM_RETENTION_DAYS:
        raise ModerationError(f"at most {MAXIMUM_RETENTION_DAYS} days", code="bad_field")
    with transaction.atomic():
        rule, _created = RetentionRule.objects.update_or_create(
            kind=kind, defaults={"days": days, "updated_by": actor, "updated_at": timezone.now()}
        )
        log_staff_action(actor, "records.retention", target=rule, data={"kind": kind, "days": days})
    return rule


# --- what a hold covers, per kind ---------------------------------------------------------------

# Each purgeable kind: its model's manager, the field that dates a row, the paths to a publisher and a stream.
KINDS: dict[str, tuple] = {
    RecordKind.GATE_DECISIONS: (GateDecision, "at", "publisher_id", "stream_id"),
    RecordKind.COMMENTS: (Comment, "received_at", "stream__publisher_id", "stream_id"),
    RecordKind.SNAPSHOTS: (Snapshot, "taken_at", "stream__publisher_id", "stream_id"),
    RecordKind.STREAMS: (Stream, "ended_at", "publisher_id", "pk"),
    RecordKind.ACTIONS: (ModerationAction, "at", "publisher_id", "stream_id"),
    RecordKind.WEBHOOK_DELIVERIES: (WebhookDelivery, "created_at", None, None),
    RecordKind.STAFF_LOG: (StaffActionLog, "at", None, None),
    # A scan is dated by its review's decision: a pending review's scans have none and are never purged.
    RecordKind.VERIFICATION_SCANS: (VerificationDocument, "review__decided_at", "review__publisher_id", None),
}


def _hold_covers(hold: LegalHold, kind: str) -> Q | None:
    """The rows of ``kind`` a hold keeps (None: it keeps none of them)."""
    _model, dated, publisher_path, stream_path = KINDS[kind]
    if hold.scope == Scope.PERIOD:
        return Q(**{f"{dated}__gte": hold.period_start, f"{dated}__lte": hold.period_end})
    if kind == RecordKind.STAFF_LOG:
        target = "moderation.publisher" if hold.scope == Scope.PUBLISHER else "moderation.stream"
        return Q(target_type=target, target_id=str(hold.publisher_id or hold.stream_id))
    if hold.scope == Scope.PUBLISHER and publisher_path:
        return Q(**{publisher_path: hold.publisher_id})
    if hold.scope == Scope.STREAM and stream_path:
        return Q(**{stream_path: hold.stream_id})
    return None


def held_rows(kind: str, holds: list[LegalHold]) -> QuerySet:
    """The rows of ``kind`` the given holds keep."""
    model = KINDS[kind][0]
    covered = [q for q in (_hold_covers(hold, kind) for hold in holds) if q is not None]
    if not covered:
        return model.objects.none()
    query = covered[0]
    for more in covered[1:]:
        query |= more
    return model.objects.filter(query)


def count_held(hold: LegalHold) -> dict[str, int]:
    """How many records of each kind one hold keeps now."""
    return {kind: held_rows(kind, [hold]).count() for kind in KINDS if _hold_covers(hold, kind) is not None}


def place_legal_hold(
    scope: str,
    *,
    actor: User,
    reason: str,
    publisher_id: int | None = None,
    stream_id: int | None = None,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
) -> LegalHold:
    """Hold everything a publisher, a stream or a period covers until released; refuse what is unknown."""
    permissions.check(actor, "records.manage")
    reason = (reason or "").strip()
    if not reason:
        raise ModerationError("a legal hold needs a reason", code="missing_field")
    fields: dict = {}
    if scope == Scope.PUBLISHER:
        publisher = Publisher.objects.filter(pk=publisher_id).first() if isinstance(publisher_id, int) else None
        if publisher is None:
            raise ModerationError("no such publisher", code="unknown_target")
        fields["publisher"] = publisher
    elif scope == Scope.STREAM:
        stream = Stream.objects.filter(pk=stream_id).first() if isinstance(stream_id, int) else None
        if stream is None:
            raise ModerationError("no such stream", code="unknown_target")
        fields["stream"] = stream
    elif scope == Scope.PERIOD:
        if not isinstance(period_start, datetime) or not isinstance(period_end, datetime):
            raise ModerationError("give both the start and the end of the period", code="unbounded")
        if period_end <= period_start:
            raise ModerationError("the period ends before it starts", code="reversed")
        fields.update(period_start=period_start, period_end=period_end)
    else:
        raise ModerationError(f"unknown scope {str(scope)[:20]!r}", code="bad_field")
    with transaction.atomic():
        hold = LegalHold(scope=scope, reason=reason, created_by=actor, **fields)
        hold.held_counts = count_held(hold)
        hold.save()
        log_staff_action(actor, "records.hold", target=hold, data={"scope": scope, "held": hold.held_counts})
    return hold


def release_legal_hold(hold_id: int, *, actor: User) -> LegalHold:
    """Release a hold: what it kept follows its retention again."""
    permissions.check(actor, "records.manage")
    with transaction.atomic():
        hold = LegalHold.objects.select_for_update().filter(pk=hold_id).first()
        if hold is None:
            raise ModerationError("no such legal hold", code="not_found")
        if hold.released_at is not None:
            raise ModerationError("this hold is released already", code="conflict")
        hold.released_at, hold.released_by = timezone.now(), actor
        hold.save(update_fields=["released_at", "released_by"])
        log_staff_action(actor, "records.release_hold", target=hold, data={"scope": hold.scope})
    return hold


# --- the purge ----------------------------------------------------------------------------------


def _delete_in_batches(candidates: QuerySet, *, batch: int) -> int:
    """Delete through Django's collector, a batch per transaction; stored files go after each commit.

    The one place purged files are deleted: snapshots' images and verification scans (their file
    field, whatever storage it has), once the rows that named them are gone for good.
    """
    deleted = 0
    model = candidates.model
    file_fields = [field for field in model._meta.concrete_fields if isinstance(field, FileField)]
    while True:
        ids = list(candidates.values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        with transaction.atomic():
            rows = model.objects.filter(pk__in=ids)
            stored = [
                (field.storage, name)
                for field in file_fields
                for name in rows.values_list(field.name, flat=True)
                if name
            ]
            rows.delete()
            if stored:
                transaction.on_commit(lambda stored=stored: [storage.delete(name) for storage, name in stored])
        deleted += len(ids)


def _delete_set_based(candidates: QuerySet, *, batch: int) -> int:
    """Delete the candidates with one ``DELETE … WHERE id IN (SELECT … LIMIT batch)`` per batch, each committed.

    For the high-volume kinds nothing cascades from: a row something still refers to (a public
    report about a comment) is kept rather than deleted, as PROTECT would have it. Django's
    collector would load every row and delete a hundred at a time; this is the purge's speed.
    """
    model = candidates.model
    for relation in model._meta.related_objects:
        referrers = relation.related_model._base_manager.filter(**{relation.field.name: OuterRef("pk")})
        candidates = candidates.exclude(Exists(referrers))
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    deleted, last = 0, None
    while True:
        # Keyset by primary key: each batch starts past the last one, never re-reading the dead rows before it.
        batch_rows = candidates if last is None else candidates.filter(pk__gt=last)
        select, params = batch_rows.order_by("pk").values("pk")[:batch].query.sql_with_params()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE {pk} IN ({select}) RETURNING {pk}", params)
            gone = [row[0] for row in cursor.fetchall()]
        count = len(gone)
        deleted += count
        last = max(gone, default=last)
        if count < batch:
            return deleted


# What Django's collector must delete (files, cascades); the rest goes set-based.
COLLECTED_KINDS = (RecordKind.SNAPSHOTS, RecordKind.VERIFICATION_SCANS, RecordKind.STREAMS)
SET_BASED_BATCH = 50_000


def purge_candidates(kind: str, *, now: datetime, days: dict[str, int], holds: list[LegalHold]) -> QuerySet | None:
    """The rows of ``kind`` past retention and under no hold (None: this kind is not purged)."""
    model, dated, _publisher_path, _stream_path = KINDS[kind]
    if kind == RecordKind.ACTIONS:
        return None
    if kind == RecordKind.WEBHOOK_DELIVERIES and any(hold.scope != Scope.PERIOD for hold in holds):
        return None
    cutoff = retention.retention_cutoff(kind, now, days=days)
    candidates = model.objects.filter(**{f"{dated}__lt": cutoff})
    if kind == RecordKind.STREAMS:
        # Only streams nothing refers to any more (their comments and decisions went before them).
        candidates = candidates.filter(actions__isnull=True, comments__isnull=True)
        candidates = candidates.exclude(pk__in=LegalHold.objects.filter(stream__isnull=False).values("stream_id"))
    if kind == RecordKind.WEBHOOK_DELIVERIES:
        candidates = candidates.exclude(status=WebhookDelivery.Status.PENDING)
    held = held_rows(kind, holds)
    if held.query.is_empty():
        return candidates
    return candidates.exclude(pk__in=held.values("pk"))


# Children before parents: a stream goes after its comments, decisions and snapshots.
PURGE_ORDER = (
    RecordKind.GATE_DECISIONS,
    RecordKind.COMMENTS,
    RecordKind.SNAPSHOTS,
    RecordKind.WEBHOOK_DELIVERIES,
    RecordKind.STAFF_LOG,
    RecordKind.VERIFICATION_SCANS,
    RecordKind.STREAMS,
)


def purge_expired_records(
    *, now: datetime | None = None, batch: int = PURGE_BATCH, set_based_batch: int = SET_BASED_BATCH
) -> dict[str, int]:
    """Delete, in batches, what is past its retention and under no legal hold in force; return counts per kind."""
    now = now or timezone.now()
    days = retention.retention_days()
    holds = list(LegalHold.objects.filter(released_at__isnull=True))
    purged = {}
    for kind in PURGE_ORDER:
        candidates = purge_candidates(kind, now=now, days=days, holds=holds)
        if candidates is None:
            continue
        if issubclass(candidates.model, record_chain.ChainedRecord):
            # A chain loses only its oldest rows: the purge stops at the first one still kept.
            purged[kind] = record_chain.purge_oldest(candidates, batch=batch)
        elif kind in COLLECTED_KINDS:
            purged[kind] = _delete_in_batches(candidates, batch=batch)
        else:
            purged[kind] = _delete_set_based(candidates, batch=set_based_batch)
    log_staff_action(None, "records.purge", data={"purged": purged, "holds": len(holds)})
    return purged
