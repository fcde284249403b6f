"""The append-only, hash-chained records (docs/security.md, "The record chain").

A chained model (the staff action log, moderation actions, news decisions) subclasses
``ChainedRecord``: each row holds ``chain_digest``, the SHA-256 of the previous row's digest and
this row's canonical content (its ``chain_fields``, in JSON with sorted keys). Rows are chained in
id order, one chain per table; inserts into a chain are serialised (an advisory transaction lock
on PostgreSQL, SQLite's one writer elsewhere) and the lock is held to the end of the transaction,
so the row read as the head is the last committed one.

The ORM refuses to change a chained field or to delete a row (``AppendOnlyError``); on PostgreSQL a
trigger refuses the same to raw SQL. Only the retention purge deletes, and only the oldest rows of
a chain, inside ``purging()``; the digest of the last row it deleted becomes the chain's anchor,
from which the first remaining row verifies. ``verify_chain`` walks a chain and names the first
row whose digest does not match.
"""

from __future__ import annotations

import contextvars
import hashlib
import ipaddress
import json
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from django.apps import apps
from django.db import connections, models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

GENESIS = "0" * 64
# The advisory lock's first key: "LW"; the second is the chain's table name's CRC-32.
LOCK_NAMESPACE = 0x4C57
_purging: contextvars.ContextVar[bool] = contextvars.ContextVar("record_chain_purging", default=False)


class AppendOnlyError(Exception):
    """A chained record was to be changed or deleted."""


# --- the canonical content and its digest -------------------------------------------------------


def _canonical_value(field: models.Field, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        # As the database gives it back: tuples as lists, keys as strings, the field's own encoder.
        return json.loads(json.dumps(value, cls=field.encoder))
    if isinstance(field, models.GenericIPAddressField):
        return ipaddress.ip_address(value).exploded
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def canonical_content(record: models.Model, field_names: tuple[str, ...]) -> bytes:
    """Return the bytes a row's digest covers: its chained fields, in JSON with sorted keys."""
    values = {}
    for name in field_names:
        field = record._meta.get_field(name)
        values[name] = _canonical_value(field, field.value_from_object(record))
    return json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def record_digest(previous: str, record: models.Model, field_names: tuple[str, ...]) -> str:
    """Return the SHA-256 of the previous row's digest and this row's canonical content."""
    return hashlib.sha256(previous.encode() + b"\n" + canonical_content(record, field_names)).hexdigest()


# --- the head of a chain ------------------------------------------------------------------------


def _lock_key(table: str) -> int:
    key = zlib.crc32(table.encode())
    return key - (1 << 32) if key >= (1 << 31) else key


def chain_head(model: type[models.Model], using: str) -> str:
    """Lock the chain of ``model`` to the end of the transaction and return its head digest."""
    connection = connections[using]
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        # One round trip: the lock, then the head read after it (a fresh snapshot in the function).
        with connection.cursor() as cursor:
            cursor.execute("SELECT liveward_chain_head(%s, %s, %s)", [LOCK_NAMESPACE, _lock_key(table), table])
            head = cursor.fetchone()[0]
    else:
        head = model._base_manager.using(using).order_by("-pk").values_list("chain_digest", flat=True).first()
    if head is not None:
        return head
    anchor = RecordChainAnchor.objects.using(using).filter(chain=model._meta.label_lower).first()
    return anchor.digest if anchor else GENESIS


def _refuse_chained(model: type[ChainedRecord], names) -> None:
    chained = sorted(set(names) - set(model.mutable_fields))
    if chained:
        raise AppendOnlyError(f"{model._meta.label} is append-only: {', '.join(chained)} may not change")


# --- the models ---------------------------------------------------------------------------------


class ChainedQuerySet(models.QuerySet):
    """Refuse updates of chained fields and deletes; chain what ``bulk_create`` inserts."""

    def update(self, **kwargs):
        _refuse_chained(self.model, kwargs)
        return super().update(**kwargs)

    update.alters_data = True

    def bulk_update(self, objs, fields, batch_size=None):
        _refuse_chained(self.model, fields)
        return super().bulk_update(objs, fields, batch_size=batch_size)

    bulk_update.alters_data = True

    def delete(self):
        if not _purging.get():
            raise AppendOnlyError(f"{self.model._meta.label} is append-only: only the retention purge deletes")
        return super().delete()

    delete.alters_data = True

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        with transaction.atomic(using=self.db, savepoint=False):
            previous = chain_head(self.model, self.db)
            for record in objs:
                record.chain_digest = previous = record_digest(previous, record, self.model.chain_fields)
            return super().bulk_create(objs, *args, **kwargs)

    bulk_create.alters_data = True


class ChainedRecord(models.Model):
    """A row of an append-only, hash-chained record."""

    # The fields each row's digest covers, named so that a new field is a decision (a test checks
    # every concrete field is in one of the two lists).
    chain_fields: ClassVar[tuple[str, ...]] = ()
    # Fields that legitimately change after insert (e.g. the media server's answer to a cut).
    mutable_fields: ClassVar[tuple[str, ...]] = ()

    chain_digest = models.CharField(_("chain digest"), max_length=64, editable=False, default="")

    objects = ChainedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self._state.adding and not kwargs.get("force_update"):
            using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
            with transaction.atomic(using=using, savepoint=False):
                self.chain_digest = record_digest(chain_head(type(self), using), self, self.chain_fields)
                super().save(*args, **kwargs)
            return
        update_fields = kwargs.get("update_fields")
        if update_fields is None:
            raise AppendOnlyError(f"{self._meta.label} is append-only: save only its mutable fields")
        _refuse_chained(type(self), update_fields)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if not _purging.get():
            raise AppendOnlyError(f"{self._meta.label} is append-only: only the retention purge deletes")
        return super().delete(*args, **kwargs)


class RecordChainAnchor(models.Model):
    """Where a chain starts after the purge: the digest of the last row it deleted."""

    chain = models.CharField(_("chain"), max_length=100, unique=True)
    last_id = models.BigIntegerField(_("last purged id"))
    digest = models.CharField(_("digest"), max_length=64)
    purged = models.PositiveBigIntegerField(_("rows purged"), default=0)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        app_label = "accounts"
        verbose_name = _("record chain anchor")
        verbose_name_plural = _("record chain anchors")

    def __str__(self) -> str:
        return f"{self.chain} after {self.last_id}"


def chained_models() -> list[type[ChainedRecord]]:
    """Every installed chained model, by label."""
    found = [model for model in apps.get_models() if issubclass(model, ChainedRecord)]
    return sorted(found, key=lambda model: model._meta.label_lower)


# --- the purge ----------------------------------------------------------------------------------


@contextmanager
def purging(using: str = "default") -> Iterator[None]:
    """Let the code inside (one transaction) delete chained rows: the retention purge only."""
    token = _purging.set(True)
    try:
        with transaction.atomic(using=using):
            connection = connections[using]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('liveward.purge', 'on', true)")
            yield
    finally:
        _purging.reset(token)


def purge_oldest(candidates: models.QuerySet, *, batch: int) -> int:
    """Delete the oldest rows of a chain, as long as each is a candidate; move the anchor past them."""
    model = candidates.model
    using = candidates.db
    first_kept = (
        model._base_manager.using(using)
        .exclude(pk__in=candidates.values("pk"))
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    prefix = candidates if first_kept is None else candidates.filter(pk__lt=first_kept)
    deleted = 0
    while True:
        ids = list(prefix.order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        with purging(using):
            chain_head(model, using)  # the lock: an insert into an emptied chain reads the new anchor
            last = model._base_manager.using(using).filter(pk=ids[-1]).values_list("chain_digest", flat=True).get()
            model._base_manager.using(using).filter(pk__in=ids).delete()
            anchor, created = RecordChainAnchor.objects.using(using).get_or_create(
                chain=model._meta.label_lower, defaults={"last_id": ids[-1], "digest": last, "purged": len(ids)}
            )
            if not created:
                anchor.last_id, anchor.digest, anchor.purged = ids[-1], last, anchor.purged + len(ids)
                anchor.updated_at = timezone.now()
                anchor.save(update_fields=["last_id", "digest", "purged", "updated_at"])
        deleted += len(ids)


# --- verification -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    """What verifying one chain found: rows checked, its head, and the first broken row if any."""

    chain: str
    rows: int
    head: str
    broken_id: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_id is None


def verify_chain(model: type[ChainedRecord], *, using: str = "default", chunk_size: int = 2000) -> ChainReport:
    """Walk the chain of ``model`` from its anchor; stop at the first row whose digest does not match."""
    name = model._meta.label_lower
    anchor = RecordChainAnchor.objects.using(using).filter(chain=name).first()
    previous = anchor.digest if anchor else GENESIS
    rows = model._base_manager.using(using).order_by("pk").only("pk", "chain_digest", *model.chain_fields)
    checked = 0
    for row in rows.iterator(chunk_size=chunk_size):
        if anchor is not None and row.pk <= anchor.last_id:
            return ChainReport(name, checked, previous, row.pk, "kept below the purge anchor")
        expected = record_digest(previous, row, model.chain_fields)
        if row.chain_digest != expected:
            problem = "digest does not match (the row changed, or one before it was removed)"
            return ChainReport(name, checked, previous, row.pk, problem)
        previous = row.chain_digest
        checked += 1
    return ChainReport(name, checked, previous)


# --- the PostgreSQL guard -----------------------------------------------------------------------

GUARD_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION liveward_chain_head(namespace integer, chain integer, table_name text) RETURNS text AS $$
DECLARE
    head text;
BEGIN
    PERFORM pg_advisory_xact_lock(namespace, chain);
    EXECUTE format('SELECT chain_digest FROM %I ORDER BY id DESC LIMIT 1', table_name) INTO head;
    RETURN head;
END;
$$ LANGUAGE plpgsql VOLATILE;

CREATE OR REPLACE FUNCTION liveward_append_only() RETURNS trigger AS $$
DECLARE
    mutable text[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('liveward.purge', true) = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'liveward: % is append-only: DELETE refused', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    mutable := COALESCE(TG_ARGV, ARRAY[]::text[]);
    IF (to_jsonb(NEW) - mutable) IS DISTINCT FROM (to_jsonb(OLD) - mutable) THEN
        RAISE EXCEPTION 'liveward: % is append-only: UPDATE of a chained column refused', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def install_guard(schema_editor, table: str, mutable_columns: tuple[str, ...]) -> None:
    """Create (on PostgreSQL) the trigger refusing DELETE and UPDATE of chained columns of ``table``."""
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    arguments = ", ".join(f"'{column}'" for column in mutable_columns)
    schema_editor.execute(GUARD_FUNCTION_SQL, params=None)
    schema_editor.execute(f"DROP TRIGGER IF EXISTS liveward_append_only ON {quote(table)}")
    schema_editor.execute(
        f"CREATE TRIGGER liveward_append_only BEFORE UPDATE OR DELETE ON {quote(table)} "
        f"FOR EACH ROW EXECUTE FUNCTION liveward_append_only({arguments})"
    )


def remove_guard(schema_editor, table: str) -> None:
    """Drop the trigger of ``table`` (the migration's reverse)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS liveward_append_only ON {schema_editor.quote_name(table)}")


def seal_existing(model: type[models.Model], field_names: tuple[str, ...], using: str) -> None:
    """Chain the rows a table held before it was chained, in id order (the migration's step)."""
    previous = GENESIS
    for row in model._base_manager.using(using).order_by("pk").iterator(chunk_size=2000):
        previous = record_digest(previous, row, field_names)
        model._base_manager.using(using).filter(pk=row.pk).update(chain_digest=previous)
