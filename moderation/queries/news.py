"""Reads of news review: approvals covering now, the review queue, an application's page, licences."""

from datetime import datetime, timedelta

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from moderation.models import (
    NewsApplication,
    NewsDecision,
    PlatformLicence,
    PublisherLicence,
    Stream,
)
from moderation.queries.payloads import news_application_row

OPEN_NEWS_STATUSES = ("submitted", "recommended", "returned")


def approved_application_covering(key, now: datetime):
    """Return the approved application whose window covers ``now`` for this stream key (or key id), or None.

    The pre-review rule of the gate asks this for news today; credit levels will ask it for any category.
    """

    key_id = getattr(key, "pk", key)
    return (
        NewsApplication.objects.filter(
            stream_key_id=key_id,
            status=NewsApplication.Status.APPROVED,
            window_start__lte=now,
            window_end__gt=now,
        )
        .order_by("window_end", "pk")
        .first()
    )


def approval_windows_note(key, now: datetime) -> str:
    """Say which approved window is nearest for this key: the next, or the one that ended (gate detail)."""

    approved = NewsApplication.objects.filter(stream_key_id=getattr(key, "pk", key), status="approved")
    upcoming = approved.filter(window_start__gt=now).order_by("window_start").first()
    if upcoming is not None:
        return (
            f"application {upcoming.pk}: approved window "
            f"{upcoming.window_start.isoformat()}–{upcoming.window_end.isoformat()} has not started"
        )
    ended = approved.filter(window_end__lte=now).order_by("-window_end").first()
    if ended is not None:
        return (
            f"application {ended.pk}: approved window "
            f"{ended.window_start.isoformat()}–{ended.window_end.isoformat()} has ended"
        )
    return "no approved application for this key"


def news_applications_for_queue(*, limit: int = 200):
    """Applications awaiting a decision and approvals not yet over (revocable), earliest window first."""

    current = Q(status__in=OPEN_NEWS_STATUSES) | Q(status="approved", window_end__gt=timezone.now())
    return _with_publisher_news_record(
        NewsApplication.objects.filter(current).select_related("stream_key__category")
    ).order_by("window_start", "pk")[:limit]


def _with_publisher_news_record(applications):
    """Load what a queue row shows of the publisher: licences, and how many news streams they ran."""

    return (
        applications.select_related("publisher")
        .prefetch_related("sources", "publisher__news_licences")
        .annotate(
            publisher_news_streams=Count(
                "publisher__streams", filter=Q(publisher__streams__category__is_news=True), distinct=True
            )
        )
    )


def news_application_for_page(application_id: int):
    """One application with its publisher, sources, decisions (and actors), licences loaded."""

    return (
        NewsApplication.objects.select_related(
            "publisher", "stream_key__category", "platform_licence", "publisher_licence"
        )
        .prefetch_related(
            "sources",
            Prefetch("decisions", queryset=NewsDecision.objects.select_related("actor").order_by("at", "pk")),
        )
        .filter(pk=application_id)
        .first()
    )


def publisher_news_history(publisher_id: int, *, limit: int = 20):
    """The publisher's recent news streams (newest first), and their earlier applications."""

    streams = list(
        Stream.objects.filter(publisher_id=publisher_id, category__is_news=True)
        .select_related("category")
        .order_by("-started_at")[:limit]
    )
    applications = list(
        NewsApplication.objects.filter(publisher_id=publisher_id).order_by("-submitted_at", "-pk")[:limit]
    )
    return streams, applications


def publisher_licences(publisher_id: int):

    return list(PublisherLicence.objects.filter(publisher_id=publisher_id).select_related("verified_by"))


def news_application_rows(application_ids) -> list[dict]:

    applications = _with_publisher_news_record(NewsApplication.objects.filter(pk__in=list(application_ids)))
    return [news_application_row(application) for application in applications]


def licences_expiring_soon(*, today, days: int = 30) -> int:
    """How many licences in use (the platform's, verified publishers') expire within ``days`` (or have)."""

    horizon = today + timedelta(days=days)
    platform = PlatformLicence.objects.filter(withdrawn_at__isnull=True, valid_until__lte=horizon)
    publishers = PublisherLicence.objects.filter(verification="verified", valid_until__lte=horizon)
    # Expired ones count only while an approval still relies on them (the audit lapses those).
    return (
        platform.filter(valid_until__gte=today).count()
        + publishers.filter(valid_until__gte=today).count()
        + platform.filter(valid_until__lt=today, applications__status="approved").distinct().count()
    )


def news_application_by_id(application_id: int) -> NewsApplication | None:
    """Return the application with this id, or None."""
    return NewsApplication.objects.filter(pk=application_id).first()
