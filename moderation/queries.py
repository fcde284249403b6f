"""Reads for pages, the API and consumers, with their joins done."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from moderation.blacklist_matching import matching_entries, publisher_pairs
from moderation.credit_policy import current_policy
from moderation.models import BlacklistClosure, BlacklistEntry, Publisher, Stream


def live_streams_for_console() -> QuerySet[Stream]:
    """Live streams with publisher, category and node, newest first."""
    return (
        Stream.objects.live()
        .select_related("publisher", "category", "node", "last_patrolled_by")
        .order_by("category__risk_tier", "-started_at")
    )


def live_stream_count() -> int:
    return Stream.objects.live().count()


def claimable(now: datetime) -> Q:
    """The condition for a stream anyone on duty may claim: nobody holds it, or the claim lapsed."""
    return Q(claimed_by__isnull=True) | Q(claim_expires_at__isnull=True) | Q(claim_expires_at__lt=now)


def claimable_streams(*, now: datetime) -> QuerySet[Stream]:
    """Live streams free to claim, in patrol order: riskiest tier first, then the longest unwatched."""
    return (
        Stream.objects.live()
        .filter(claimable(now))
        .order_by("category__risk_tier", Coalesce("last_patrolled_at", "started_at").asc(), "pk")
    )


def streams_claimed_by(user, *, now: datetime) -> QuerySet[Stream]:
    """Live streams the user holds an unexpired claim on, in patrol order."""
    return (
        Stream.objects.live()
        .filter(claimed_by=user, claim_expires_at__gte=now)
        .select_related("publisher", "category")
        .order_by("category__risk_tier", Coalesce("last_patrolled_at", "started_at").asc(), "pk")
    )


# --- the patrol queue -------------------------------------------------------------------------

QUEUE_WINDOW_MAX = 200


def _with_priority(queryset: QuerySet[Stream], *, with_cut_pending: bool = True) -> QuerySet[Stream]:
    """Annotate each stream's patrol priority: tier, audience, credit, machine-review flags.

    Higher comes first; among equals the longest unpatrolled (or never patrolled) comes first.
    """
    from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, Value, When

    from moderation.models import ModerationAction

    tier = Case(
        When(category__risk_tier=1, then=Value(300)),
        When(category__risk_tier=2, then=Value(200)),
        When(category__risk_tier=3, then=Value(100)),
        default=Value(0),
        output_field=IntegerField(),
    )
    audience = Case(
        When(viewers__gte=10000, then=Value(60)),
        When(viewers__gte=1000, then=Value(30)),
        When(viewers__gte=100, then=Value(10)),
        default=Value(0),
        output_field=IntegerField(),
    )
    # Each level's patrol weight, from the process's cached credit policy (no query while fresh).
    weights = [
        When(publisher__credit_level=level.code, then=Value(level.patrol_weight))
        for level in current_policy().levels
        if level.patrol_weight
    ]
    credit = Case(*weights, default=Value(0), output_field=IntegerField()) if weights else Value(0)
    flags = Case(
        When(review_score__gte=0.8, then=Value(150)),
        When(~Q(review_flag=""), then=Value(80)),
        default=Value(0),
        output_field=IntegerField(),
    )
    ordered = queryset.annotate(priority=tier + audience + credit + flags).order_by(
        F("priority").desc(), F("last_patrolled_at").asc(nulls_first=True), "started_at", "pk"
    )
    if not with_cut_pending:
        return ordered
    pending_cut = ModerationAction.objects.filter(
        stream=OuterRef("pk"), media_status=ModerationAction.MediaStatus.PENDING
    )
    return ordered.annotate(cut_pending=Exists(pending_cut))


def _card_queryset() -> QuerySet[Stream]:
    return Stream.objects.select_related(
        "publisher", "category", "node", "last_patrolled_by", "claimed_by", "latest_snapshot"
    )


def _user_name(user) -> str | None:
    return (user.display_name or user.username) if user is not None else None


def card(stream: Stream) -> dict:
    """The JSON a console shows for one stream (docs/console-protocol.md)."""
    snapshot = stream.latest_snapshot
    state = "ended" if stream.ended_at else ("cut_pending" if getattr(stream, "cut_pending", False) else "live")
    return {
        "id": stream.pk,
        "title": stream.title,
        "publisher": {
            "id": stream.publisher_id,
            "name": stream.publisher.display_name,
            "credit_level": stream.publisher.credit_level,
        },
        "category": {"slug": stream.category.slug, "name": stream.category.name, "is_news": stream.category.is_news},
        "tier": stream.category.risk_tier,
        "priority": getattr(stream, "priority", None),
        "viewers": stream.viewers,
        "started_at": stream.started_at.isoformat(),
        "last_patrolled_at": stream.last_patrolled_at.isoformat() if stream.last_patrolled_at else None,
        "last_patrolled_by": _user_name(stream.last_patrolled_by),
        "claimed_by": _user_name(stream.claimed_by),
        "open_reports": 0,  # public reports arrive with the reports capability
        "review_flag": stream.review_flag,
        "review_score": stream.review_score,
        "snapshot_url": f"/media/{snapshot.image.name}" if snapshot is not None and snapshot.image else None,
        "state": state,
        "end_reason": stream.end_reason or None,
        "node": stream.node.name,
    }


def cards_for_streams(stream_ids) -> dict[int, dict]:
    """Cards for these streams, live or not, in one query."""
    streams = _with_priority(_card_queryset().filter(pk__in=list(stream_ids)))
    return {stream.pk: card(stream) for stream in streams}


def queue_window(
    *, offset: int = 0, limit: int = 100, category: str | None = None, tier: int | None = None
) -> tuple[int, list[dict]]:
    """One window of the live queue in priority order, with the total: three queries at any size.

    The order is found on a narrow query (the stream with its category and publisher, ids only);
    the cards, with their seven joined tables, are then built for the window's streams alone.
    """
    live = Stream.objects.live()
    if category:
        live = live.filter(category__slug=category)
    if tier:
        live = live.filter(category__risk_tier=tier)
    total = live.count()
    limit = max(1, min(limit, QUEUE_WINDOW_MAX))
    window = list(_with_priority(live, with_cut_pending=False).values_list("pk", flat=True)[offset : offset + limit])
    cards = cards_for_streams(window)
    return total, [cards[stream_id] for stream_id in window if stream_id in cards]


# --- news (docs/news.md) ----------------------------------------------------------------------

OPEN_NEWS_STATUSES = ("submitted", "recommended", "returned")


def approved_application_covering(key, now: datetime):
    """Return the approved application whose window covers ``now`` for this stream key (or key id), or None.

    The pre-review rule of the gate asks this for news today; credit levels will ask it for any category.
    """
    from moderation.models import NewsApplication

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
    from moderation.models import NewsApplication

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
    from django.db.models import Q
    from django.utils import timezone

    from moderation.models import NewsApplication

    current = Q(status__in=OPEN_NEWS_STATUSES) | Q(status="approved", window_end__gt=timezone.now())
    return _with_publisher_news_record(
        NewsApplication.objects.filter(current).select_related("stream_key__category")
    ).order_by("window_start", "pk")[:limit]


def _with_publisher_news_record(applications):
    """Load what a queue row shows of the publisher: licences, and how many news streams they ran."""
    from django.db.models import Count, Q

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
    from django.db.models import Prefetch

    from moderation.models import NewsApplication, NewsDecision

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


# --- credit and appeals -----------------------------------------------------------------------

PUBLISHER_PAGE_EVENTS = 200
PUBLISHER_PAGE_ACTIONS = 100


def publisher_for_page(publisher_id: int):
    """Return the publisher with its credit events (oldest first), actions and appeals, in a few queries."""
    from django.db.models import Prefetch

    from moderation.models import Appeal, CreditEvent, ModerationAction, Publisher

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
    from moderation.models import Appeal

    appeals = Appeal.objects.select_related("publisher", "credit_event", "credit_event__action", "decided_by")
    if status:
        appeals = appeals.filter(status=status)
    return appeals.order_by(
        Case(When(status=Appeal.Status.PENDING, then=0), default=1, output_field=IntegerField()), "-submitted_at"
    )


def appeal_for_page(appeal_id: int):
    from moderation.models import Appeal

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


def publisher_news_history(publisher_id: int, *, limit: int = 20):
    """The publisher's recent news streams (newest first), and their earlier applications."""
    from moderation.models import NewsApplication

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
    from moderation.models import PublisherLicence

    return list(PublisherLicence.objects.filter(publisher_id=publisher_id).select_related("verified_by"))


def news_application_row(application) -> dict:
    """The JSON a console shows for one application (docs/console-protocol.md, news events)."""
    from django.utils import timezone

    now = timezone.now()
    return {
        "id": application.pk,
        "title": application.title,
        "status": application.status,
        "status_label": str(application.get_status_display()),
        "origin": application.origin,
        "origin_label": str(application.get_origin_display()),
        "publisher": {
            "id": application.publisher_id,
            "name": application.publisher.display_name,
            "credit_level": application.publisher.credit_level,
        },
        "window_start": application.window_start.isoformat(),
        "window_end": application.window_end.isoformat(),
        "sources": [{"name": source.name, "url": source.url} for source in application.sources.all()],
        "submitted_at": application.submitted_at.isoformat(),
        "licences": [
            {
                "number": licence.number,
                "scopes": licence.scopes,
                "valid_until": licence.valid_until.isoformat(),
                "counts": licence.covers(now),
            }
            for licence in application.publisher.news_licences.all()
        ],
        "news_streams": getattr(application, "publisher_news_streams", None),
    }


def news_application_rows(application_ids) -> list[dict]:
    from moderation.models import NewsApplication

    applications = _with_publisher_news_record(NewsApplication.objects.filter(pk__in=list(application_ids)))
    return [news_application_row(application) for application in applications]


def held_comments(*, limit: int = 200):
    """Comments held for review, oldest first, with their stream and publisher loaded."""
    from moderation.models import Comment

    return (
        Comment.objects.filter(status=Comment.Status.HELD)
        .select_related("stream__publisher", "stream__category")
        .order_by("received_at", "pk")[:limit]
    )


def comment_row(comment) -> dict:
    """The JSON a console shows for one held (or just decided) comment."""
    return {
        "id": comment.pk,
        "stream": comment.stream_id,
        "stream_title": comment.stream.title,
        "publisher": comment.stream.publisher.display_name,
        "viewer_id": comment.viewer_id,
        "text": comment.text,
        "status": comment.status,
        "hold_reason": comment.hold_reason,
        "received_at": comment.received_at.isoformat(),
    }


def credit_policy_history(limit: int = 20):
    """Stored policy versions, newest first, with their levels and authors."""
    from moderation.models import CreditPolicy

    return CreditPolicy.objects.select_related("created_by").prefetch_related("levels").order_by("-version")[:limit]


# --- the blacklist ------------------------------------------------------------------------------


def publishers_needing_blacklist_enforcement() -> QuerySet:
    """Publishers matching an entry in force that has not closed (or flagged) them yet, oldest first."""
    unflagged = matching_entries(publisher_pairs()).exclude(
        Exists(BlacklistClosure.objects.filter(entry=OuterRef("pk"), publisher=OuterRef(OuterRef("pk"))))
    )
    return Publisher.objects.filter(Exists(unflagged)).order_by("pk")


def _with_closed_count(entries: QuerySet) -> QuerySet:
    closed = (
        BlacklistClosure.objects.filter(entry=OuterRef("pk"), action__isnull=False)
        .order_by()
        .values("entry")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return entries.annotate(closed_count=Coalesce(Subquery(closed, output_field=IntegerField()), 0))


def blacklist_entries_for_export(*, start: datetime, end: datetime) -> QuerySet:
    """Entries added in [start, end), oldest first, with what the export's columns read."""
    entries = BlacklistEntry.objects.filter(created_at__gte=start, created_at__lt=end).select_related(
        "source_publisher", "author"
    )
    return _with_closed_count(entries).order_by("created_at", "pk")


def blacklist_entries_for_page(*, status: str = "", report: str = "") -> QuerySet:
    """Entries for the blacklist page, newest first, with their author and closed-account count."""
    entries = BlacklistEntry.objects.select_related("author", "removal_requested_by", "source_publisher")
    if status:
        entries = entries.filter(status=status)
    if report:
        entries = entries.filter(report_status=report)
    return _with_closed_count(entries).order_by("-created_at", "-pk")


def overdue_unreported_blacklistings(now: datetime | None = None) -> QuerySet:
    """Entries not yet reported to the provincial office after LIVEWARD_BLACKLIST_REPORT_DAYS."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.LIVEWARD_BLACKLIST_REPORT_DAYS)
    return BlacklistEntry.objects.filter(report_status=BlacklistEntry.Report.UNREPORTED, created_at__lt=cutoff)


def licences_expiring_soon(*, today, days: int = 30) -> int:
    """How many licences in use (the platform's, verified publishers') expire within ``days`` (or have)."""
    from datetime import timedelta

    from moderation.models import PlatformLicence, PublisherLicence

    horizon = today + timedelta(days=days)
    platform = PlatformLicence.objects.filter(withdrawn_at__isnull=True, valid_until__lte=horizon)
    publishers = PublisherLicence.objects.filter(verification="verified", valid_until__lte=horizon)
    # Expired ones count only while an approval still relies on them (the audit lapses those).
    return (
        platform.filter(valid_until__gte=today).count()
        + publishers.filter(valid_until__gte=today).count()
        + platform.filter(valid_until__lt=today, applications__status="approved").distinct().count()
    )
