"""Reads for onboarding: the service agreement in force, verification reports."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Case, Count, IntegerField, Value, When
from django.utils import timezone

from moderation.models import Publisher, ServiceAgreement, VerificationReview

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


def agreements_for_console(now: datetime | None = None) -> list[dict]:
    """Every agreement version, newest first, with how many open accounts accepted it (one query each way)."""
    now = now or timezone.now()
    accepted = dict(
        Publisher.objects.exclude(status=Publisher.Status.CLOSED)
        .values_list("agreement_version")
        .annotate(count=Count("pk"))
        .values_list("agreement_version", "count")
    )
    current = current_agreement(now)
    rows = []
    for agreement in ServiceAgreement.objects.order_by("-effective_at"):
        rows.append(
            {
                "agreement": agreement,
                "accepted": accepted.get(agreement.version, 0),
                "current": current is not None and agreement.pk == current.pk,
                "upcoming": agreement.effective_at > now,
                "in_grace": agreement.grace_ends_at is not None
                and agreement.effective_at <= now < agreement.grace_ends_at,
            }
        )
    return rows


def publishers_not_accepting(version: str) -> int:
    """How many open accounts have not accepted ``version`` (the console's count; the gate's concern)."""
    return Publisher.objects.exclude(status=Publisher.Status.CLOSED).exclude(agreement_version=version).count()
