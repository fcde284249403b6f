"""Reads for pages, the API and consumers, with their joins done."""

from django.db.models import QuerySet

from moderation.models import Stream


def live_streams_for_console() -> QuerySet[Stream]:
    """Live streams with publisher, category and node, newest first."""
    return (
        Stream.objects.live()
        .select_related("publisher", "category", "node", "last_patrolled_by")
        .order_by("category__risk_tier", "-started_at")
    )


def live_stream_count() -> int:
    return Stream.objects.live().count()
