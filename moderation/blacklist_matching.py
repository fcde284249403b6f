"""Matching identities against the blacklist: one piece of code for every place that asks.

The registration check, the gate's rule, adding an entry and the beat sweep all build their
condition with ``match_condition``: an OR of (kind, keyed hash) equalities over entries in force,
served by the partial unique index on (value_hash, kind) WHERE status = 'active'.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from moderation.identity import RESIDENT_ID, IdentityError, Kind, hash_of
from moderation.models import BlacklistEntry, Publisher, PublisherDevice
from moderation.prepared_statements import PreparedStatement, Slot

# The registration check's fields and the identity kind each is.
CHECK_FIELDS: dict[str, str] = {
    "id_number": Kind.ID_DOCUMENT,
    "phone": Kind.PHONE,
    "device_id": Kind.DEVICE,
    "platform_account_id": Kind.PLATFORM_ACCOUNT,
}
_MAX_FIELD_LENGTH = 140


def match_condition(pairs: Iterable[tuple[str, Any]]) -> Q:
    """Entries whose (kind, hash) is one of the pairs; a value may be a hash, an OuterRef or a subquery."""
    condition = Q(pk__in=[])  # no pairs match nothing, never everything
    for kind, value in pairs:
        if isinstance(value, QuerySet | Subquery | list | tuple):
            condition |= Q(kind=kind, value_hash__in=value)
        else:
            condition |= Q(kind=kind, value_hash=value)
    return condition


def matching_entries(pairs: Iterable[tuple[str, Any]], *, now: datetime | None = None) -> QuerySet[BlacklistEntry]:
    """Entries in force now that match any of the pairs, unordered (an index lookup)."""
    return BlacklistEntry.objects.in_force(now).filter(match_condition(pairs)).order_by()


def publisher_pairs(prefix: str = "") -> list[tuple[str, Any]]:
    """The (kind, hash) pairs of the publisher an outer query is on (``prefix`` leads to it)."""
    return [
        (Kind.ID_DOCUMENT, OuterRef(f"{prefix}document_hash")),
        (Kind.PHONE, OuterRef(f"{prefix}phone_hash")),
        (Kind.PLATFORM_ACCOUNT, OuterRef(f"{prefix}account_hash")),
        (
            Kind.DEVICE,
            PublisherDevice.objects.filter(publisher_id=OuterRef(OuterRef(f"{prefix}id"))).values("device_hash"),
        ),
    ]


def blacklist_reference_of(prefix: str, now: datetime) -> Subquery:
    """A subquery for an outer query on publishers (or rows leading to one): a matching entry's reference."""
    return Subquery(matching_entries(publisher_pairs(prefix), now=now).values("reference")[:1])


def publishers_matching(kind: str, value_hash: str) -> QuerySet[Publisher]:
    """Publishers holding this identity (kind, hash)."""
    field = {
        Kind.ID_DOCUMENT: "document_hash",
        Kind.PHONE: "phone_hash",
        Kind.PLATFORM_ACCOUNT: "account_hash",
    }.get(kind)
    if field is not None:
        return Publisher.objects.filter(**{field: value_hash})
    return Publisher.objects.filter(
        pk__in=PublisherDevice.objects.filter(device_hash=value_hash).values("publisher_id")
    )


def entries_matching_publisher(publisher: Publisher, *, now: datetime | None = None) -> QuerySet[BlacklistEntry]:
    """Entries in force that match this publisher's identity."""
    pairs = [
        (Kind.ID_DOCUMENT, publisher.document_hash),
        (Kind.PHONE, publisher.phone_hash),
        (Kind.PLATFORM_ACCOUNT, publisher.account_hash),
        (Kind.DEVICE, PublisherDevice.objects.filter(publisher=publisher).values("device_hash")),
    ]
    return matching_entries([(kind, value) for kind, value in pairs if value != ""], now=now)


# --- the registration check ------------------------------------------------------------------


def check_pairs(data: Any) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
    """Turn a registration-check body into (kind, hash) pairs, or field errors."""
    if not isinstance(data, dict):
        return [], {"non_field_errors": ["Send a JSON object."]}
    errors: dict[str, list[str]] = {}
    pairs: list[tuple[str, str]] = []
    document_type = data.get("document_type", RESIDENT_ID)
    if document_type not in Publisher.DocumentType.values:
        errors["document_type"] = ["Unknown document type."]
        document_type = RESIDENT_ID
    for field, kind in CHECK_FIELDS.items():
        value = data.get(field)
        if value is None or value == "":
            continue
        if not isinstance(value, str) or len(value) > _MAX_FIELD_LENGTH:
            errors[field] = [f"Give a string of at most {_MAX_FIELD_LENGTH} characters."]
            continue
        try:
            pairs.append((kind, hash_of(kind, value, document_type=document_type)))
        except IdentityError as exc:
            errors[field] = [str(exc)[:1].upper() + str(exc)[1:] + "."]
    unknown = sorted(set(data) - set(CHECK_FIELDS) - {"document_type"})
    if unknown:
        errors["non_field_errors"] = [f"Unknown fields: {', '.join(str(name)[:40] for name in unknown[:5])}."]
    if not pairs and not errors:
        errors["non_field_errors"] = ["Give at least one of: " + ", ".join(CHECK_FIELDS) + "."]
    return pairs, errors


def registration_check(data: Any) -> tuple[int, dict]:
    """Answer the platform's registration check: (200, allowed or refused with the reference) or (400, errors)."""
    pairs, errors = check_pairs(data)
    if errors:
        return 400, {"error": {"code": "invalid", "message": "Invalid input.", "fields": errors}}
    reference = first_matching_reference(pairs, now=timezone.now())
    if reference is not None:
        return 200, {"allowed": False, "reference": reference}
    return 200, {"allowed": True}


_compiled = threading.local()
_SENTINEL_TIME = datetime(2001, 2, 3, 4, 5, 6, 7, tzinfo=UTC)


def _compiled_lookup(kinds: tuple[str, ...], connection) -> PreparedStatement:
    """``matching_entries`` for these kinds, compiled to SQL once per connection and shape.

    Building and compiling the queryset costs several times what running it does; the SQL is kept
    with the hashes and "now" as the call's values (as the gate's key lookup does), and prepared once
    per connection on PostgreSQL (moderation/prepared_statements.py), so a check only sends its values.
    """
    cache = getattr(_compiled, "cache", None)
    if cache is None or cache[0] is not connection:
        cache = _compiled.cache = (connection, {})
    compiled = cache[1].get(kinds)
    if compiled is None:
        sentinels = [f"\x00blacklist-hash-{index}" for index in range(len(kinds))]
        queryset = matching_entries(list(zip(kinds, sentinels, strict=True)), now=_SENTINEL_TIME)
        query = queryset.values_list("reference", flat=True)[:1].query
        sql, params = query.get_compiler(connection=connection).as_sql()
        template = list(params)
        hash_positions = [template.index(sentinel) for sentinel in sentinels]
        at = BlacklistEntry._meta.get_field("expires_at").get_db_prep_value(_SENTINEL_TIME, connection)
        time_positions = [index for index, value in enumerate(template) if value == at]
        if len(set(hash_positions)) != len(kinds) or not time_positions:
            raise RuntimeError("cannot find the parameters of the blacklist lookup")
        for slot, position in enumerate(hash_positions):
            template[position] = Slot(slot)
        for position in time_positions:
            template[position] = Slot(len(kinds))
        compiled = cache[1][kinds] = PreparedStatement(sql, template, label="blacklist_match")
    return compiled


def first_matching_reference(pairs: list[tuple[str, str]], *, now: datetime) -> str | None:
    """The reference of an entry in force matching any (kind, hash) pair, or None: one indexed query."""
    if not pairs:
        return None
    connection = connections[DEFAULT_DB_ALIAS]
    statement = _compiled_lookup(tuple(kind for kind, _ in pairs), connection)
    at = BlacklistEntry._meta.get_field("expires_at").get_db_prep_value(now, connection)
    with statement.execute(connection, [value_hash for _kind, value_hash in pairs] + [at]) as cursor:
        row = cursor.fetchone()
    return row[0] if row else None
