"""Reads of live streams: the console's live set, claims, and the patrol queue ordered by priority."""

from datetime import datetime

from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from moderation.credit_policy import current_policy
from moderation.models import ModerationAction, Stream
from moderation.queries.payloads import card
from moderation.queries.reports import open_reports_count


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


QUEUE_WINDOW_MAX = 200


def _with_priority(queryset: QuerySet[Stream], *, with_cut_pending: bool = True) -> QuerySet[Stream]:
    """Annotate each stream's patrol priority: tier, audience, credit, machine-review flags, open reports.

    Higher comes first; among equals the longest unpatrolled (or never patrolled) comes first.
    """

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
    # Open public reports (Art. 19): the first raises the stream above any tier, each more adds to it.
    reports = Case(
        When(open_reports__gte=3, then=Value(500)),
        When(open_reports=2, then=Value(450)),
        When(open_reports=1, then=Value(400)),
        default=Value(0),
        output_field=IntegerField(),
    )
    queryset = queryset.annotate(open_reports=open_reports_count())
    ordered = queryset.annotate(priority=tier + audience + credit + flags + reports).order_by(
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
