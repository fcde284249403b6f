"""Real-name verification (实名认证, Art. 12): the platform's reports, applied in order, told back.

A report is kept whatever it says; it changes the publisher's state only when it is newer than the
report that state came from. A replay (same provider and reference) or an older report is refused
and writes nothing. Every change of state is sent back to the platform (``publisher.verification_changed``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import permissions
from moderation.actions.webhooks import notify_platform
from moderation.errors import ModerationError
from moderation.models import Publisher, VerificationReport

VERIFICATION_CHANGED = "publisher.verification_changed"

Method = VerificationReport.Method
Result = VerificationReport.Result

# Which methods can verify which kind of publisher (Art. 12: persons by identity document, organisations
# by their licence or organisation code).
METHODS_FOR_KIND = {
    Publisher.Kind.PERSON: (Method.ID_FACE, Method.MOBILE, Method.MANUAL_REVIEW),
    Publisher.Kind.ORGANISATION: (Method.ORGANISATION_LICENCE, Method.MANUAL_REVIEW),
}

# A report may be stamped a little ahead of our clock, not more.
CLOCK_SKEW = timedelta(minutes=5)


def report_verification(
    publisher: Publisher,
    *,
    method: str,
    provider: str,
    reference: str,
    result: str,
    performed_at: datetime,
    reason: str = "",
    actor: User | None,
) -> VerificationReport:
    """Keep a verification report and apply it to the publisher; refuse replays and older reports."""
    if method not in Method.values:
        raise ModerationError(f"unknown verification method {str(method)[:40]!r}", code="bad_field")
    if result not in Result.values:
        raise ModerationError(f"unknown verification result {str(result)[:40]!r}", code="bad_field")
    if not provider.strip() or not reference.strip():
        raise ModerationError("a verification report needs its provider and reference", code="missing_field")
    if result == Result.FAILED and not reason.strip():
        raise ModerationError("a failed verification needs its reason", code="missing_field")
    if timezone.is_naive(performed_at) or performed_at > timezone.now() + CLOCK_SKEW:
        raise ModerationError("performed_at must be a time with its zone, not in the future", code="bad_field")
    with transaction.atomic():
        publisher = Publisher.objects.select_for_update().get(pk=publisher.pk)
        if method not in METHODS_FOR_KIND[publisher.kind]:
            raise ModerationError(
                f"method {method} cannot verify a publisher of kind {publisher.kind}", code="bad_field"
            )
        if VerificationReport.objects.filter(provider=provider, reference=reference).exists():
            raise ModerationError(f"report {provider}/{reference} was received already", code="duplicate_report")
        latest = publisher.verification_performed_at
        if latest is not None and performed_at <= latest:
            raise ModerationError(
                f"a newer verification (performed {latest.isoformat()}) stands; this report is older",
                code="stale_report",
            )
        report = VerificationReport.objects.create(
            publisher=publisher,
            method=method,
            provider=provider,
            reference=reference,
            result=result,
            reason=reason,
            performed_at=performed_at,
            reported_by=actor if actor is not None and actor.pk else None,
        )
        _apply(publisher, report, actor=actor)
    return report


def _apply(publisher: Publisher, report: VerificationReport, *, actor: User | None) -> None:
    """Make the report the publisher's state (inside the caller's transaction, publisher locked)."""
    previous = publisher.verification
    verified = report.result == Result.VERIFIED
    verification = Publisher.Verification.VERIFIED if verified else Publisher.Verification.REJECTED
    note = "" if report.result == Result.VERIFIED else report.reason
    Publisher.objects.filter(pk=publisher.pk).update(
        verification=verification,
        verification_performed_at=report.performed_at,
        verification_note=note,
        # What the provincial office has on file changed: the next filing export carries it (分类备案).
        filing=Publisher.Filing.NOT_FILED,
        filing_changed_at=timezone.now(),
    )
    publisher.verification = verification
    publisher.verification_performed_at = report.performed_at
    publisher.verification_note = note
    log_staff_action(
        actor,
        "publisher.verification_report",
        target=publisher,
        data={"report": report.pk, "method": report.method, "result": report.result, "previous": previous},
    )
    if verification != previous:
        notify_platform(
            VERIFICATION_CHANGED,
            {
                "publisher": publisher.platform_account_id,
                "verification": verification,
                "previous": previous,
                "method": report.method,
                "provider": report.provider,
                "reference": report.reference,
                "reason": report.reason,
                "performed_at": report.performed_at,
                "report": report.pk,
            },
        )


def set_filing_category(publisher: Publisher, *, category: str, actor: User) -> Publisher:
    """File the publisher under ``category`` (分类备案); a change puts it in the next filing export."""
    permissions.check(actor, "filing.manage")
    if category not in Publisher.FilingCategory.values:
        raise ModerationError(
            "the filing category is one of " + ", ".join(Publisher.FilingCategory.values), code="bad_field"
        )
    with transaction.atomic():
        publisher = Publisher.objects.select_for_update().get(pk=publisher.pk)
        previous = publisher.filing_category
        if category == previous:
            return publisher
        publisher.filing_category = category
        publisher.filing = Publisher.Filing.NOT_FILED
        publisher.filing_changed_at = timezone.now()
        publisher.save(update_fields=["filing_category", "filing", "filing_changed_at"])
        log_staff_action(
            actor, "publisher.filing_category", target=publisher, data={"category": category, "previous": previous}
        )
    return publisher
