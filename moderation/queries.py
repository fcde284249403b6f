"""Reads for pages, the API and consumers, with their joins done."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from moderation.blacklist import matching_entries, publisher_pairs
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


def _with_priority(queryset: QuerySet[Stream]) -> QuerySet[Stream]:
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
    credit = Case(
        When(publisher__credit_level__in=["D", "E"], then=Value(80)),
        When(publisher__credit_level="C", then=Value(40)),
        default=Value(0),
        output_field=IntegerField(),
    )
    flags = Case(
        When(review_score__gte=0.8, then=Value(150)),
        When(~Q(review_flag=""), then=Value(80)),
        default=Value(0),
        output_field=IntegerField(),
    )
    pending_cut = ModerationAction.objects.filter(
        stream=OuterRef("pk"), media_status=ModerationAction.MediaStatus.PENDING
    )
    return queryset.annotate(priority=tier + audience + credit + flags, cut_pending=Exists(pending_cut)).order_by(
        F("priority").desc(), F("last_patrolled_at").asc(nulls_first=True), "started_at", "pk"
    )


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
    """One window of the live queue in priority order, with the total: two queries at any size."""
    live = Stream.objects.live()
    if category:
        live = live.filter(category__slug=category)
    if tier:
        live = live.filter(category__risk_tier=tier)
    total = live.count()
    limit = max(1, min(limit, QUEUE_WINDOW_MAX))
    window = _with_priority(_card_queryset().filter(pk__in=live.values("pk")))[offset : offset + limit]
    return total, [card(stream) for stream in window]


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
