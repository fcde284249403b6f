"""Licences for news live streams (Art. 5): the platform's own, and each publisher's with its scan.

Compliance admins record and withdraw the platform's licences and verify publishers' ones; the platform's
backend submits a publisher's licence with a scan, kept with its SHA-256. The gate and the approvals read
them through moderation/licences.py.
"""

from __future__ import annotations

import hashlib
from datetime import date

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import licences, permissions
from moderation.actions.news import lapse_application
from moderation.errors import ModerationError
from moderation.models import (
    LicenceScope,
    NewsApplication,
    PlatformLicence,
    Publisher,
    PublisherLicence,
)

SCAN_MAX_BYTES = 5 * 1024 * 1024

Status = NewsApplication.Status


def _clean_scopes(scopes, *, allowed: tuple[str, ...]) -> list[str]:
    if not isinstance(scopes, list | tuple) or not scopes:
        raise ModerationError("give at least one scope", code="bad_field")
    cleaned = []
    for scope in scopes:
        if scope not in allowed:
            raise ModerationError(f"unknown scope {str(scope)[:40]!r}", code="bad_field")
        if scope not in cleaned:
            cleaned.append(scope)
    return cleaned


def _clean_validity(valid_from: date, valid_until: date) -> None:
    if not isinstance(valid_from, date) or not isinstance(valid_until, date):
        raise ModerationError("valid_from and valid_until must be dates", code="bad_field")
    if valid_until < valid_from:
        raise ModerationError("a licence cannot end before it starts", code="bad_field")


def _clean_number(number: str) -> str:
    number = (number or "").strip()
    if not number or len(number) > 64:
        raise ModerationError("a licence number of 1–64 characters is required", code="missing_field")
    return number


def record_platform_licence(
    number: str, *, scopes: list[str], valid_from: date, valid_until: date, actor: User | None
) -> PlatformLicence:
    """Record the platform's news-service licence (a renewal is a new row; the gate takes any in force)."""
    if actor is not None:
        permissions.check(actor, "licence.manage")
    number = _clean_number(number)
    scopes = _clean_scopes(scopes, allowed=tuple(LicenceScope.values))
    _clean_validity(valid_from, valid_until)
    with transaction.atomic():
        licence = PlatformLicence.objects.create(
            number=number, scopes=scopes, valid_from=valid_from, valid_until=valid_until, recorded_by=actor
        )
        log_staff_action(actor, "platform_licence.record", target=licence, data={"number": number, "scopes": scopes})
        transaction.on_commit(licences.forget_platform_licences)
    return licence


def withdraw_platform_licence(licence: PlatformLicence, *, actor: User | None, note: str) -> PlatformLicence:
    """Withdraw a platform licence recorded in error or cancelled; news streams relying on it end."""
    if actor is not None:
        permissions.check(actor, "licence.manage")
    if not (note or "").strip():
        raise ModerationError("withdrawing a licence needs a note", code="missing_field")
    with transaction.atomic():
        licence = PlatformLicence.objects.select_for_update().get(pk=licence.pk)
        if licence.withdrawn_at is not None:
            raise ModerationError("the licence is withdrawn already", code="conflict")
        licence.withdrawn_at = timezone.now()
        licence.save(update_fields=["withdrawn_at"])
        log_staff_action(actor, "platform_licence.withdraw", target=licence, data={"note": note[:200]})
        transaction.on_commit(licences.forget_platform_licences)
        for application in NewsApplication.objects.filter(platform_licence=licence, status=Status.APPROVED):
            lapse_application(application, note=f"platform licence {licence.number} withdrawn")
    return licence


def submit_publisher_licence(
    publisher: Publisher,
    *,
    number: str,
    scopes: list[str],
    valid_from: date,
    valid_until: date,
    scan: bytes | None = None,
    scan_name: str = "scan.pdf",
    actor: User | None,
) -> PublisherLicence:
    """Record a publisher's news licence with its scan; it counts once a compliance admin verifies it."""
    number = _clean_number(number)
    scopes = _clean_scopes(scopes, allowed=(LicenceScope.GATHERING, LicenceScope.REPOSTING))
    _clean_validity(valid_from, valid_until)
    if scan is not None and len(scan) > SCAN_MAX_BYTES:
        raise ModerationError(f"the scan is larger than {SCAN_MAX_BYTES} bytes", code="bad_field")
    try:
        with transaction.atomic():
            licence = PublisherLicence(
                publisher=publisher, number=number, scopes=scopes, valid_from=valid_from, valid_until=valid_until
            )
            if scan:
                licence.scan_sha256 = hashlib.sha256(scan).hexdigest()
                suffix = scan_name.rsplit(".", 1)[-1][:8] if "." in scan_name else "bin"
                licence.scan.save(f"{licence.scan_sha256[:16]}.{suffix}", ContentFile(scan), save=False)
            licence.save()
            log_staff_action(actor, "publisher_licence.submit", target=licence, data={"number": number})
    except IntegrityError:
        raise ModerationError("this publisher has a licence with this number already", code="conflict") from None
    return licence


def verify_publisher_licence(
    licence: PublisherLicence, *, actor: User, verified: bool, note: str = ""
) -> PublisherLicence:
    """Record a compliance admin's check of a publisher's licence against its scan."""
    permissions.check(actor, "licence.manage")
    with transaction.atomic():
        licence = PublisherLicence.objects.select_for_update().get(pk=licence.pk)
        wanted = PublisherLicence.Verification.VERIFIED if verified else PublisherLicence.Verification.REJECTED
        if licence.verification == wanted:
            raise ModerationError("the licence has this verification already", code="conflict")
        licence.verification = wanted
        licence.verified_by = actor
        licence.verified_at = timezone.now()
        licence.verification_note = (note or "")[:300]
        licence.save(update_fields=["verification", "verified_by", "verified_at", "verification_note"])
        log_staff_action(actor, "publisher_licence.verify", target=licence, data={"verification": wanted})
        if not verified:
            for application in NewsApplication.objects.filter(publisher_licence=licence, status=Status.APPROVED):
                lapse_application(application, note=f"publisher licence {licence.number} rejected")
    return licence
