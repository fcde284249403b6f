"""Manual review of real-name verification (人工审核, Art. 12): submitted by the platform, decided in the console.

The platform sends what it could not verify automatically, with scans (images or PDF, type- and
size-checked here). A compliance admin approves or rejects it with a reason; an organisation needs a
second, different admin (four-eyes). The decision becomes a verification report of method
``manual_review`` and so reaches the publisher's state and the platform like any other report.
"""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import events, permissions, queries
from moderation.actions.verification import report_verification
from moderation.errors import ModerationError
from moderation.models import Publisher, VerificationDocument, VerificationReport, VerificationReview

VERIFICATION_REVIEW = "verification.review"  # a review arrived or changed (compliance consoles)

DOCUMENT_MAX_BYTES = 2 * 1024 * 1024
DOCUMENTS_MAX = 4
NOTE_MAX = 300
# What a scan may be, told by its first bytes (never by its name or a declared type).
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"%PDF-", "application/pdf", "pdf"),
)

Status = VerificationReview.Status


def document_type(content: bytes) -> tuple[str, str]:
    """Return the content type and extension of a scan, or refuse what is not a PNG, JPEG or PDF."""
    for signature, content_type, extension in SIGNATURES:
        if content.startswith(signature):
            return content_type, extension
    raise ModerationError("a scan must be a PNG or JPEG image or a PDF", code="bad_field")


def submit_verification_review(
    publisher: Publisher, *, reference: str, documents: list[tuple[str, bytes]], actor: User | None
) -> VerificationReview:
    """Queue a verification for manual review with its scans; refuse a replay and bad scans, writing nothing."""
    if not reference.strip():
        raise ModerationError("a review needs the platform's reference", code="missing_field")
    if not documents or len(documents) > DOCUMENTS_MAX:
        raise ModerationError(f"send between 1 and {DOCUMENTS_MAX} scans", code="bad_field")
    checked = []
    for name, content in documents:
        if len(content) > DOCUMENT_MAX_BYTES:
            raise ModerationError(f"scan {name!r} is larger than {DOCUMENT_MAX_BYTES} bytes", code="bad_field")
        checked.append((name, content, *document_type(content)))
    with transaction.atomic():
        if VerificationReview.objects.filter(reference=reference).exists():
            raise ModerationError(f"review {reference} was received already", code="duplicate_report")
        review = VerificationReview.objects.create(
            publisher=publisher, reference=reference, submitted_by=actor if actor is not None and actor.pk else None
        )
        for name, content, content_type, extension in checked:
            digest = hashlib.sha256(content).hexdigest()
            document = VerificationDocument(
                review=review, name=name[:100], content_type=content_type, size=len(content), sha256=digest
            )
            document.file.save(f"{digest[:16]}.{extension}", ContentFile(content), save=False)
            document.save()
        log_staff_action(actor, "verification.submit_review", target=review, data={"publisher": publisher.pk})
        _announce(review.pk)
    return review


def decide_verification_review(
    review: VerificationReview, *, actor: User, approve: bool, note: str
) -> VerificationReview:
    """Approve or reject a review (a rejection needs its reason; an organisation two different admins)."""
    permissions.check(actor, "verification.review")
    note = note.strip()
    if not approve and not note:
        raise ModerationError("a rejection needs its reason", code="missing_field")
    if len(note) > NOTE_MAX:
        raise ModerationError(f"the note is longer than {NOTE_MAX} characters", code="bad_field")
    now = timezone.now()
    with transaction.atomic():
        review = VerificationReview.objects.select_for_update().select_related("publisher").get(pk=review.pk)
        if review.status not in (Status.PENDING, Status.FIRST_APPROVED):
            raise ModerationError("this review is decided already", code="already_decided")
        organisation = review.publisher.kind == Publisher.Kind.ORGANISATION
        if approve and organisation and review.status == Status.PENDING:
            VerificationReview.objects.filter(pk=review.pk).update(
                status=Status.FIRST_APPROVED, first_approved_by=actor, first_approved_at=now, note=note
            )
            log_staff_action(actor, "verification.first_approve", target=review, data={"note": note})
            _announce(review.pk)
            review.refresh_from_db()
            return review
        if review.status == Status.FIRST_APPROVED and review.first_approved_by_id == actor.pk:
            raise ModerationError("an organisation needs a second compliance admin to decide", code="four_eyes")
        report = report_verification(
            review.publisher,
            method=VerificationReport.Method.MANUAL_REVIEW,
            provider="liveward-review",
            reference=review.reference,
            result=VerificationReport.Result.VERIFIED if approve else VerificationReport.Result.FAILED,
            reason="" if approve else note,
            performed_at=now,
            actor=actor,
        )
        VerificationReview.objects.filter(pk=review.pk).update(
            status=Status.APPROVED if approve else Status.REJECTED,
            decided_by=actor,
            decided_at=now,
            note=note,
            report=report,
        )
        log_staff_action(actor, "verification.decide_review", target=review, data={"approve": approve, "note": note})
        _announce(review.pk)
    review.refresh_from_db()
    return review


def _announce(review_id: int) -> None:
    transaction.on_commit(
        lambda: events.send_to_group(
            events.COMPLIANCE_GROUP, VERIFICATION_REVIEW, queries.verification_review_row(review_id)
        )
    )
