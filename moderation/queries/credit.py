"""Reads of credit: a publisher's page with its events and actions, appeals, policy versions."""

from django.db.models import Case, IntegerField, Prefetch, When

from moderation.models import Appeal, CreditEvent, CreditPolicy, ModerationAction, Publisher, Stream

PUBLISHER_PAGE_EVENTS = 200


PUBLISHER_PAGE_ACTIONS = 100


def publisher_for_page(publisher_id: int):
    """Return the publisher with its credit events (oldest first), actions and appeals, in a few queries."""

    publisher = Publisher.objects.filter(pk=publisher_id).first()
    if publisher is None:
        return None
    recent = CreditEvent.objects.filter(publisher=publisher).order_by("-at", "-id")[:PUBLISHER_PAGE_EVENTS]
    publisher.page_events = list(
        CreditEvent.objects.filter(pk__in=list(recent.values_list("pk", flat=True)))
        .select_related("actor", "action", "reversed_by")
        .prefetch_related(Prefetch("appeals", queryset=Appeal.objects.order_by("-submitted_at")))
        .order_by("at", "id")
    )
    publisher.page_actions = list(
        ModerationAction.objects.filter(publisher=publisher)
        .select_related("actor", "stream")
        .order_by("-at", "-id")[:PUBLISHER_PAGE_ACTIONS]
    )
    publisher.page_appeals = list(
        Appeal.objects.filter(publisher=publisher)
        .select_related("decided_by", "credit_event")
        .order_by("-submitted_at")
    )
    publisher.page_live_streams = list(Stream.objects.live().filter(publisher=publisher).select_related("category"))
    return publisher


def appeals_for_console(status: str | None = None):
    """Appeals with publisher, event and deciders, pending first then newest."""

    appeals = Appeal.objects.select_related("publisher", "credit_event", "credit_event__action", "decided_by")
    if status:
        appeals = appeals.filter(status=status)
    return appeals.order_by(
        Case(When(status=Appeal.Status.PENDING, then=0), default=1, output_field=IntegerField()), "-submitted_at"
    )


def appeal_for_page(appeal_id: int):

    return (
        Appeal.objects.select_related(
            "publisher",
            "credit_event",
            "credit_event__actor",
            "credit_event__action",
            "credit_event__action__actor",
            "credit_event__action__stream",
            "decided_by",
            "submitted_by",
        )
        .filter(pk=appeal_id)
        .first()
    )


def credit_policy_history(limit: int = 20):
    """Stored policy versions, newest first, with their levels and authors."""

    return CreditPolicy.objects.select_related("created_by").prefetch_related("levels").order_by("-version")[:limit]
