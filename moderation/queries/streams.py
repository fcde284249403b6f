"""Reads of live streams: the console's live set, claims, and the patrol queue ordered by priority."""

from datetime import datetime

from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from moderation.credit_policy import current_policy
from moderation.models import ModerationAction, Snapshot, Stream
from moderation.models.streams import NEVER_PATROLLED_LAST
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


# The patrol priority's weights (higher comes first). ``priority_expression`` turns them into SQL
# for the cards, ``priority_value`` into a number for a stream about to be written; the live
# streams keep the result in ``Stream.queue_priority`` (actions/queue_priority.py), which the
# wall's order reads through an index.
TIER_WEIGHTS = {1: 300, 2: 200, 3: 100}
AUDIENCE_WEIGHTS = ((10000, 60), (1000, 30), (100, 10))  # (at least this many viewers, weight)
FLAG_SCORE, FLAG_SCORE_WEIGHT, FLAG_WEIGHT = 0.8, 150, 80  # a strong machine-review score, any flag
# Open public reports (Art. 19): the first raises the stream above any tier, each more adds to it.
REPORT_WEIGHTS = ((3, 500), (2, 450), (1, 400))  # (at least this many open reports, weight)


def _patrol_weights(policy=None) -> dict[str, int]:
    """Each credit level's patrol weight, from the process's cached credit policy (no query while fresh)."""
    return {level.code: level.patrol_weight for level in (policy or current_policy()).levels if level.patrol_weight}


def priority_expression(open_reports, *, policy=None):
    """The patrol priority of the outer stream as SQL: tier, audience, credit, machine-review flags, open reports."""
    tier = Case(
        *(When(category__risk_tier=level, then=Value(weight)) for level, weight in TIER_WEIGHTS.items()),
        default=Value(0),
        output_field=IntegerField(),
    )
    audience = Case(
        *(When(viewers__gte=least, then=Value(weight)) for least, weight in AUDIENCE_WEIGHTS),
        default=Value(0),
        output_field=IntegerField(),
    )
    levels = _patrol_weights(policy).items()
    weights = [When(publisher__credit_level=code, then=Value(weight)) for code, weight in levels]
    credit = Case(*weights, default=Value(0), output_field=IntegerField()) if weights else Value(0)
    flags = Case(
        When(review_score__gte=FLAG_SCORE, then=Value(FLAG_SCORE_WEIGHT)),
        When(~Q(review_flag=""), then=Value(FLAG_WEIGHT)),
        default=Value(0),
        output_field=IntegerField(),
    )
    reports = Case(
        *(When(**{f"{open_reports}__gte": least}, then=Value(weight)) for least, weight in REPORT_WEIGHTS),
        default=Value(0),
        output_field=IntegerField(),
    )
    return tier + audience + credit + flags + reports


def priority_value(
    *,
    tier: int,
    viewers: int,
    credit_level: str,
    review_score: float | None,
    review_flag: str,
    open_reports: int,
    weights: dict[str, int] | None = None,
) -> int:
    """The same priority as ``priority_expression``, from values at hand (a stream being opened).

    ``weights``: the credit levels' patrol weights, by default the cached policy's.
    """
    value = TIER_WEIGHTS.get(tier, 0)
    value += next((weight for least, weight in AUDIENCE_WEIGHTS if viewers >= least), 0)
    value += (_patrol_weights() if weights is None else weights).get(credit_level, 0)
    if review_score is not None and review_score >= FLAG_SCORE:
        value += FLAG_SCORE_WEIGHT
    elif review_flag:
        value += FLAG_WEIGHT
    value += next((weight for least, weight in REPORT_WEIGHTS if open_reports >= least), 0)
    return value


def with_computed_priority(queryset: QuerySet[Stream], *, policy=None) -> QuerySet[Stream]:
    """Annotate ``priority``, computed from the stream's inputs now (not the stored column)."""
    queryset = queryset.annotate(open_reports=open_reports_count())
    return queryset.annotate(priority=priority_expression("open_reports", policy=policy))


# The wall's order: the priority, then the longest unpatrolled (or never patrolled), then the oldest.
def computed_order() -> list:
    return [F("priority").desc(), F("last_patrolled_at").asc(nulls_first=True), "started_at", "pk"]


def stored_order() -> list:
    """The same order by the stored priority, spelled as the live-queue index is (models/streams.py)."""
    return [F("queue_priority").desc(), NEVER_PATROLLED_LAST.asc(), F("last_patrolled_at").asc(), "started_at", "pk"]


def _with_priority(queryset: QuerySet[Stream], *, with_cut_pending: bool = True) -> QuerySet[Stream]:
    """Annotate each stream's patrol priority, computed, and order by it (higher first)."""
    ordered = with_computed_priority(queryset).order_by(*computed_order())
    if not with_cut_pending:
        return ordered
    pending_cut = ModerationAction.objects.filter(
        stream=OuterRef("pk"), media_status=ModerationAction.MediaStatus.PENDING
    )
    return ordered.annotate(cut_pending=Exists(pending_cut))


def _card_queryset() -> QuerySet[Stream]:
    # What the machine review suggested with its latest flagging verdict: "block" reads differently
    # from "review" on the card.
    flagging = (
        Snapshot.objects.filter(
            stream=OuterRef("pk"),
            verdict_suggestion__in=[Snapshot.Suggestion.REVIEW, Snapshot.Suggestion.BLOCK],
        )
        .order_by("-taken_at", "-pk")
        .values("verdict_suggestion")[:1]
    )
    return Stream.objects.select_related(
        "publisher", "category", "node", "last_patrolled_by", "claimed_by", "latest_snapshot"
    ).annotate(review_suggestion=Subquery(flagging))


def cards_for_streams(stream_ids) -> dict[int, dict]:
    """Cards for these streams, live or not, in one query."""
    streams = _with_priority(_card_queryset().filter(pk__in=list(stream_ids)))
    return {stream.pk: card(stream) for stream in streams}


def queue_window(
    *, offset: int = 0, limit: int = 100, category: str | None = None, tier: int | None = None
) -> tuple[int, list[dict]]:
    """One window of the live queue in priority order, with the total: three queries at any size.

    The order is read on a narrow query (ids only, by the stored ``queue_priority`` and its index);
    the cards, with their seven joined tables and their computed priority, are then built for the
    window's streams alone.
    """
    live = Stream.objects.live()
    if category:
        live = live.filter(category__slug=category)
    if tier:
        live = live.filter(category__risk_tier=tier)
    total = live.count()
    limit = max(1, min(limit, QUEUE_WINDOW_MAX))
    # The stored priority, read through the live streams' index in the wall's order: no sort of
    # every live stream, whatever their number.
    window = list(live.order_by(*stored_order()).values_list("pk", flat=True)[offset : offset + limit])
    cards = cards_for_streams(window)
    return total, [cards[stream_id] for stream_id in window if stream_id in cards]
