"""Reads for onboarding: the service agreement in force, verification reports."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from moderation.models import ServiceAgreement, VerificationReview

OPEN_REVIEW_STATUSES = (VerificationReview.Status.PENDING, VerificationReview.Status.FIRST_APPROVED)


def current_agreement(now: datetime | None = None) -> ServiceAgreement | None:
    """Return the service agreement in force at ``now`` (the latest whose effective date has come)."""
    now = now or timezone.now()
    return ServiceAgreement.objects.filter(effective_at__lte=now).order_by("-effective_at").first()


def verification_reviews_for_console(status: str | None = None):
    """Reviews for the compliance queue, open ones first, with their publisher (one query)."""
    reviews = VerificationReview.objects.select_related("publisher", "first_approved_by", "decided_by")
    if status:
        return reviews.filter(status=status).order_by("submitted_at", "id")
    open_first = Case(
        When(status__in=OPEN_REVIEW_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return reviews.order_by(open_first, "-submitted_at", "-id")


def open_verification_review_count() -> int:
    return VerificationReview.objects.filter(status__in=OPEN_REVIEW_STATUSES).count()


def verification_review_row(review_id: int) -> dict:
    """The JSON row a compliance console gets for a review (the event ``verification.review``)."""
    review = VerificationReview.objects.select_related("publisher").get(pk=review_id)
    return {
        "id": review.pk,
        "publisher": review.publisher.display_name,
        "account": review.publisher.platform_account_id,
        "kind": review.publisher.kind,
        "status": review.status,
        "status_label": str(review.get_status_display()),
        "submitted_at": review.submitted_at.isoformat(),
        "documents": review.documents.count(),
    }
