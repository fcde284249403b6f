"""Blacklist actions (Art. 15): add an entry, remove one with a second admin's approval, reverse one,
record a publisher's device, sweep for accounts that match later, export to the provincial office.

Adding an entry closes every matching account through the patrol actions' close machinery
(``close_publisher_account``): their live streams are cut after commit and the gate denies them
from the commit on. docs/blacklist.md describes the whole cycle.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import blacklist_matching as matching
from moderation import permissions
from moderation.actions.appeals import AppealSubject, register_appeal_target
from moderation.actions.credit import reverse_credit_event
from moderation.actions.patrol import close_publisher_account
from moderation.actions.restore import reopen_publisher
from moderation.errors import ModerationError
from moderation.identity import (
    RESIDENT_ID,
    IdentityError,
    Kind,
    hash_keys,
    hash_or_blank,
    identity_hash,
    key_fingerprint,
    mask,
    normalise,
    wrap_hash,
)
from moderation.models import (
    Appeal,
    BlacklistClosure,
    BlacklistEntry,
    CreditEvent,
    IdentityHashState,
    ModerationAction,
    Publisher,
    PublisherDevice,
    ReasonCode,
)
from moderation.queries import publishers_needing_blacklist_enforcement

logger = logging.getLogger(__name__)


_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out over the phone


class BlacklistedIdentity(ModerationError):
    """The identity is on the blacklist: registration is refused with the entry's reference only."""

    code = "blacklisted"

    def __init__(self, reference: str) -> None:
        super().__init__(f"this identity is blacklisted (reference {reference})")
        self.reference = reference


def require_blacklist_admin(actor: User | None) -> None:
    if not permissions.may(actor, "blacklist.change"):
        raise ModerationError("only a compliance admin may change the blacklist", code="forbidden")


def _new_reference(now: datetime) -> str:
    return f"BL{now:%Y%m%d}-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(6))


def identity_hashes_for(publisher_fields: dict) -> dict[str, str]:
    """Return the hash fields a publisher keeps for the identity it is registered with."""
    return {
        "document_hash": hash_or_blank(
            Kind.ID_DOCUMENT,
            publisher_fields.get("document_number", ""),
            document_type=publisher_fields.get("document_type") or RESIDENT_ID,
        ),
        "phone_hash": hash_or_blank(Kind.PHONE, publisher_fields.get("phone", "")),
        "account_hash": hash_or_blank(Kind.PLATFORM_ACCOUNT, publisher_fields.get("platform_account_id", "")),
    }


def refuse_blacklisted_identity(hashes: dict[str, str], device_hashes: list[str] = ()) -> None:
    """Raise BlacklistedIdentity when any of the hashes is blacklisted (registration)."""
    pairs = [
        (Kind.ID_DOCUMENT, hashes.get("document_hash", "")),
        (Kind.PHONE, hashes.get("phone_hash", "")),
        (Kind.PLATFORM_ACCOUNT, hashes.get("account_hash", "")),
        *[(Kind.DEVICE, device_hash) for device_hash in device_hashes],
    ]
    references = list(
        matching.matching_entries([(kind, value) for kind, value in pairs if value]).values_list(
            "reference", flat=True
        )[:1]
    )
    if references:
        raise BlacklistedIdentity(references[0])


def add_blacklist_entry(
    kind: str,
    value: str,
    *,
    actor: User,
    reason: str,
    note: str = "",
    document_type: str = RESIDENT_ID,
    expires_at: datetime | None = None,
    source_action: ModerationAction | None = None,
    source_publisher: Publisher | None = None,
    created_at: datetime | None = None,
) -> BlacklistEntry:
    """Blacklist an identity and close every account that holds it (cut live streams, deny at the gate).

    ``created_at`` back-dates an entry carried over from an earlier system (and the demo's).
    """
    require_blacklist_admin(actor)
    if kind not in BlacklistEntry.Kind.values:
        raise ModerationError(f"unknown identity kind {str(kind)[:40]!r}", code="bad_field")
    if reason not in ReasonCode.values or reason == ReasonCode.PATROLLED:
        raise ModerationError(f"unknown reason {str(reason)[:40]!r}", code="bad_field")
    if kind == Kind.ID_DOCUMENT and document_type not in Publisher.DocumentType.values:
        raise ModerationError("unknown document type", code="bad_field")
    try:
        normalised = normalise(kind, value, document_type=document_type)
    except IdentityError as exc:
        raise ModerationError(str(exc), code="bad_field") from None
    now = timezone.now()
    if created_at is not None and created_at > now:
        raise ModerationError("an entry cannot be dated in the future", code="bad_field")
    if expires_at is not None and expires_at <= now:
        raise ModerationError(
            "the expiry must be in the future (leave it empty for a permanent entry)", code="bad_field"
        )
    value_hash = identity_hash(kind, normalised)
    with transaction.atomic():
        existing = list(
            BlacklistEntry.objects.select_for_update().filter(
                kind=kind, value_hash=value_hash, status=BlacklistEntry.Status.ACTIVE
            )
        )
        for entry in existing:
            if entry.in_force(now):
                raise ModerationError(
                    f"this identity is blacklisted already (reference {entry.reference})", code="duplicate_entry"
                )
            # An expired entry gives way to the new one.
            BlacklistEntry.objects.filter(pk=entry.pk).update(status=BlacklistEntry.Status.EXPIRED)
        try:
            with transaction.atomic():
                entry = BlacklistEntry.objects.create(
                    reference=_new_reference(created_at or now),
                    kind=kind,
                    value_hash=value_hash,
                    masked_value=mask(kind, normalised),
                    reason=reason,
                    note=note,
                    source_action=source_action,
                    source_publisher=source_publisher,
                    author=actor,
                    created_at=created_at or now,
                    expires_at=expires_at,
                )
        except IntegrityError:  # added meanwhile by a concurrent request
            raise ModerationError("this identity is blacklisted already", code="duplicate_entry") from None
        closed = _close_matching_accounts(entry, actor=actor, by_sweep=False)
        log_staff_action(
            actor,
            "blacklist.add",
            target=entry,
            data={"reference": entry.reference, "kind": kind, "reason": reason, "closed_publishers": closed},
        )
    entry.closed_publisher_ids = closed
    return entry


def _close_matching_accounts(entry: BlacklistEntry, *, actor: User | None, by_sweep: bool) -> list[int]:
    """Close every account matching the entry that it has not closed yet; return their ids."""
    publishers = (
        matching.publishers_matching(entry.kind, entry.value_hash)
        .exclude(blacklist_closures__entry=entry)
        .select_for_update()
        .order_by("pk")
    )
    closed: list[int] = []
    for publisher in publishers:
        _close_for_entry(entry, publisher, actor=actor, by_sweep=by_sweep)
        closed.append(publisher.pk)
    return closed


def _close_for_entry(entry: BlacklistEntry, publisher: Publisher, *, actor: User | None, by_sweep: bool) -> None:
    action = None
    if publisher.status != Publisher.Status.CLOSED:
        action = close_publisher_account(
            publisher,
            actor=actor,
            reason=entry.reason,
            note=f"blacklist {entry.reference}",
            # entry: what an appeal of kind "blacklisting" names as its target
            closure={"cause": "blacklisted", "reference": entry.reference, "entry": entry.pk},
        )
    BlacklistClosure.objects.create(entry=entry, publisher=publisher, action=action, by_sweep=by_sweep)


def request_blacklist_removal(entry: BlacklistEntry, *, actor: User, reason: str) -> BlacklistEntry:
    """Ask for an entry's removal; a second compliance admin approves it."""
    require_blacklist_admin(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ModerationError("a removal needs a reason", code="missing_field")
    with transaction.atomic():
        entry = BlacklistEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.status != BlacklistEntry.Status.ACTIVE:
            raise ModerationError("the entry is not active", code="invalid")
        if entry.removal_requested_at is not None:
            raise ModerationError("a removal is requested already", code="removal_pending")
        entry.removal_requested_by = actor
        entry.removal_requested_at = timezone.now()
        entry.removal_reason = reason
        entry.save(update_fields=["removal_requested_by", "removal_requested_at", "removal_reason"])
        log_staff_action(actor, "blacklist.request_removal", target=entry, data={"reason": reason[:500]})
    return entry


def approve_blacklist_removal(entry: BlacklistEntry, *, actor: User, reopen_accounts: bool = False) -> BlacklistEntry:
    """Remove an entry whose removal another compliance admin requested; optionally reopen its closures."""
    require_blacklist_admin(actor)
    with transaction.atomic():
        entry = BlacklistEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.status != BlacklistEntry.Status.ACTIVE or entry.removal_requested_at is None:
            raise ModerationError("no removal is requested for this entry", code="removal_not_requested")
        if entry.removal_requested_by_id == actor.pk:
            raise ModerationError("a second compliance admin must approve the removal", code="same_admin")
        _remove(entry, actor=actor)
        reopened = _reopen_closures(entry, actor=actor, note=entry.removal_reason) if reopen_accounts else []
        log_staff_action(
            actor, "blacklist.approve_removal", target=entry, data={"reference": entry.reference, "reopened": reopened}
        )
    return entry


def reject_blacklist_removal(entry: BlacklistEntry, *, actor: User) -> BlacklistEntry:
    """Turn down a requested removal (the entry stays); the requester may not decide it either."""
    require_blacklist_admin(actor)
    with transaction.atomic():
        entry = BlacklistEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.status != BlacklistEntry.Status.ACTIVE or entry.removal_requested_at is None:
            raise ModerationError("no removal is requested for this entry", code="removal_not_requested")
        if entry.removal_requested_by_id == actor.pk:
            raise ModerationError("a second compliance admin must decide the removal", code="same_admin")
        reason = entry.removal_reason
        entry.removal_requested_by = None
        entry.removal_requested_at = None
        entry.removal_reason = ""
        entry.save(update_fields=["removal_requested_by", "removal_requested_at", "removal_reason"])
        log_staff_action(actor, "blacklist.reject_removal", target=entry, data={"reason": reason[:500]})
    return entry


def reverse_blacklisting(entry: BlacklistEntry, *, actor: User, reason: str) -> BlacklistEntry:
    """Undo an entry after an upheld appeal: remove it, reopen the accounts it closed, give back their points."""
    require_blacklist_admin(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ModerationError("reversing a blacklisting needs a reason", code="missing_field")
    with transaction.atomic():
        entry = BlacklistEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.status == BlacklistEntry.Status.REMOVED:
            raise ModerationError("the entry is removed already", code="invalid")
        if not entry.removal_reason:
            entry.removal_reason = reason
        _remove(entry, actor=actor)
        reopened = _reopen_closures(entry, actor=actor, note=reason)
        # The closures cost credit like any closure; an undone blacklisting gives those points back to
        # the accounts it reopened (one still blacklisted by another entry keeps its closure and cost).
        closing_actions = BlacklistClosure.objects.filter(
            entry=entry, action__isnull=False, publisher_id__in=reopened
        ).values("action")
        for event in CreditEvent.objects.filter(action__in=closing_actions, reversed_by__isnull=True, points__lt=0):
            reverse_credit_event(event, actor=actor, reason=reason[:300])
        log_staff_action(
            actor,
            "blacklist.reverse",
            target=entry,
            data={"reference": entry.reference, "reason": reason[:500], "reopened": reopened},
        )
    return entry


def _remove(entry: BlacklistEntry, *, actor: User) -> None:
    entry.status = BlacklistEntry.Status.REMOVED
    entry.removed_by = actor
    entry.removed_at = timezone.now()
    entry.save(update_fields=["status", "removed_by", "removed_at", "removal_reason"])


def _reopen_closures(entry: BlacklistEntry, *, actor: User, note: str) -> list[int]:
    """Reopen the accounts this entry closed, unless another entry in force still matches them."""
    reopened: list[int] = []
    closures = BlacklistClosure.objects.select_for_update().filter(
        entry=entry, action__isnull=False, reopened_at__isnull=True
    )
    for closure in closures.select_related("publisher"):
        publisher = closure.publisher
        if matching.entries_matching_publisher(publisher).exists():
            continue  # still blacklisted by another identity
        if publisher.status == Publisher.Status.CLOSED:
            reopen_publisher(
                publisher, actor=actor, note=f"blacklist {entry.reference} reversed: {note}", reference=entry.reference
            )
        BlacklistClosure.objects.filter(pk=closure.pk).update(reopened_at=timezone.now())
        reopened.append(publisher.pk)
    return reopened


def record_publisher_device(publisher: Publisher, *, device_id: str, actor: User | None) -> PublisherDevice:
    """Record a device the platform reports for a publisher; a blacklisted device closes the account."""
    try:
        normalised = normalise(Kind.DEVICE, device_id)
    except IdentityError as exc:
        raise ModerationError(str(exc), code="bad_field") from None
    device_hash = identity_hash(Kind.DEVICE, normalised)
    now = timezone.now()
    with transaction.atomic():
        publisher = Publisher.objects.select_for_update().get(pk=publisher.pk)
        device, created = PublisherDevice.objects.get_or_create(
            publisher=publisher,
            device_hash=device_hash,
            defaults={"masked": mask(Kind.DEVICE, normalised), "first_seen_at": now, "last_seen_at": now},
        )
        if not created:
            PublisherDevice.objects.filter(pk=device.pk).update(last_seen_at=now)
        else:
            log_staff_action(actor, "publisher.device", target=publisher, data={"device": device.masked})
        enforce_blacklist(publisher, actor=actor)
    return device


def enforce_blacklist(publisher: Publisher, *, actor: User | None = None, by_sweep: bool = False) -> list[str]:
    """Close the publisher for every entry in force that matches them and has not yet; return the references."""
    with transaction.atomic():
        publisher = Publisher.objects.select_for_update().get(pk=publisher.pk)
        entries = list(
            matching.entries_matching_publisher(publisher)
            .exclude(closures__publisher=publisher)
            .select_for_update()
            .order_by("created_at", "pk")
        )
        references = []
        for entry in entries:
            publisher.refresh_from_db(fields=["status"])
            _close_for_entry(entry, publisher, actor=actor, by_sweep=by_sweep)
            references.append(entry.reference)
        if references:
            log_staff_action(
                actor, "blacklist.enforce", target=publisher, data={"references": references, "by_sweep": by_sweep}
            )
    return references


def sweep_blacklist(*, limit: int = 500) -> dict[int, list[str]]:
    """Find accounts matching entries they were not closed for (new accounts, devices reported later); close them."""
    handled: dict[int, list[str]] = {}
    for publisher in publishers_needing_blacklist_enforcement()[:limit]:
        references = enforce_blacklist(publisher, actor=None, by_sweep=True)
        if references:
            logger.warning(
                "blacklist sweep closed publisher %s for %s", publisher.platform_account_id, ", ".join(references)
            )
            handled[publisher.pk] = references
    return handled


def rotate_identity_hashes(*, actor: User | None = None, batch: int = 5000) -> dict[str, int]:
    """Wrap every stored identity hash with the newest rotation key, once (docs/blacklist.md).

    Run with the new key already appended to LIVEWARD_BLACKLIST_HASH_KEY_ROTATIONS and the
    console stopped; it refuses when the stored hashes are not one key behind the settings.
    """
    keys = hash_keys()
    if len(keys) < 2:
        raise ModerationError("no rotation key is configured", code="invalid")
    current, previous = key_fingerprint(), key_fingerprint(levels=len(keys) - 1)
    with transaction.atomic():
        state = IdentityHashState.objects.select_for_update().first()
        stored = state.fingerprint if state else previous
        if stored == current:
            raise ModerationError("the stored hashes use the configured keys already", code="invalid")
        if stored != previous:
            raise ModerationError("the stored hashes are not one key behind the configured keys", code="invalid")
        new_key = keys[-1]
        counts = {}
        for model, fields in (
            (BlacklistEntry, ["value_hash"]),
            (Publisher, ["document_hash", "phone_hash", "account_hash"]),
            (PublisherDevice, ["device_hash"]),
        ):
            rows = list(model.objects.order_by("pk").only("pk", *fields))
            for row in rows:
                for name in fields:
                    if getattr(row, name):
                        setattr(row, name, wrap_hash(getattr(row, name), new_key))
            model.objects.bulk_update(rows, fields, batch_size=batch)
            counts[model._meta.model_name] = len(rows)
        if state is None:
            IdentityHashState.objects.create(fingerprint=current)
        else:
            IdentityHashState.objects.filter(pk=state.pk).update(fingerprint=current, rotated_at=timezone.now())
        log_staff_action(actor, "blacklist.rotate_hash_key", data=counts)
    return counts


def _load_blacklisting(target_id: int) -> AppealSubject:
    entry = BlacklistEntry.objects.filter(pk=target_id).first()
    if entry is None:
        raise ModerationError(f"no blacklist entry {target_id}", code="not_found")
    if entry.status == BlacklistEntry.Status.REMOVED:
        raise ModerationError("the entry is removed already", code="not_appealable")
    closed = set(BlacklistClosure.objects.filter(entry=entry).values_list("publisher_id", flat=True))
    appellants = closed | ({entry.source_publisher_id} if entry.source_publisher_id else set())
    if not appellants:
        raise ModerationError("no account of this entry to appeal for", code="not_appealable")
    first = entry.source_publisher_id or min(appellants)
    return AppealSubject(publisher_id=first, acted_by=frozenset({entry.author_id}), also_for=frozenset(appellants))


def _reverse_blacklisting(target_id: int, appeal: Appeal, actor: User) -> None:
    entry = BlacklistEntry.objects.get(pk=target_id)
    reason = f"appeal #{appeal.pk}: {appeal.decision_note}"[:300]
    reverse_blacklisting(entry, actor=actor, reason=reason)


register_appeal_target(Appeal.Kind.BLACKLISTING, load=_load_blacklisting, reverse=_reverse_blacklisting)
