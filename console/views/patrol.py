"""The console's pages."""

from django.conf import settings
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from accounts.actions import shift_overview
from accounts.roles import SHIFT_ROLES, has_role, require_role
from console.views.comments import comment_pressure_for_page
from moderation import permissions, queries
from moderation.identity import masked_publisher_identity
from moderation.mediaservers.watching import mirror_for
from moderation.models import (
    Category,
    Comment,
    Evidence,
    GateDecision,
    ModerationAction,
    ReasonCode,
    Snapshot,
    Stream,
)

# The actions the wall offers, each with its key (docs/console-protocol.md); the server checks again per message.
WALL_ACTIONS: list[tuple[str, str, str]] = [
    # kind, key, label; who may send each is in moderation/permissions.py
    ("mark_patrolled", "p", _("Mark patrolled")),
    ("warn", "w", _("Warn")),
    ("block", "b", _("Cut the stream")),
    ("suspend", "s", _("Suspend")),
    ("close", "x", _("Close account")),
    ("escalate", "e", _("Escalate")),
]

# Machine-review labels as review vendors send them, in the console's words; an unknown label shows as sent.
REVIEW_LABELS = {
    "porn": _("pornography"),
    "sexy": _("sexually suggestive"),
    "violence": _("violence"),
    "terrorism": _("terrorism"),
    "politics": _("politically sensitive"),
    "ad": _("advertising"),
    "abuse": _("abuse"),
    "drugs": _("drugs"),
    "gambling": _("gambling"),
    "illegal": _("illegal content"),
}

# The most gate decisions and snapshots the stream page shows.
STREAM_PAGE_DECISIONS = 50
STREAM_PAGE_SNAPSHOTS = 24
STREAM_PAGE_COMMENTS = 50


def wall_strings() -> dict[str, str]:
    """Return the wall script's texts, translated for this request."""
    texts = {
        "live": _("Live"),
        "cut_pending": _("Cutting off"),
        "ended": _("Ended"),
        "node_unknown": _("Its node did not answer: whether it is live is unknown"),
        "patrol_overdue": _("Overdue a patrol"),
        "ended_cut": _("Cut off"),
        "news": _("News"),
        "tier": _("Tier %(tier)s"),
        "viewers": _("%(count)s viewers"),
        "reports": _("%(count)s open reports"),
        "never_patrolled": _("Never patrolled"),
        "patrolled_by": _("Patrolled by %(name)s %(when)s"),
        "claimed_by": _("Watched by %(name)s"),
        "review_flag": _("Machine review: %(flag)s"),
        "review_flag_block": _("Machine review suggests cutting: %(flag)s"),
        "comments_pressure": _("Room under pressure: %(rate)s comments a minute, %(held)s held, %(blocked)s blocked"),
        "comments_hold_all": _("Every comment is held (slow mode)"),
        "overdue": _("unpatrolled for %(minutes)s min"),
        "no_snapshot": _("No snapshot yet"),
        "live_for": _("live for %(duration)s"),
        "window": _("%(first)s–%(last)s of %(total)s"),
        "empty": _("No live streams."),
        "empty_hint": _("Streams appear here as soon as the ingest gate lets a publisher go live."),
        "empty_filtered": _("No live stream matches these filters."),
        "sending": _("Sending…"),
        "waiting": _("Waiting for the connection…"),
        "waiting_login": _("Log in again to send this: it is kept until then"),
        "stored": _("stored %(ms)s ms"),
        "confirmed": _("confirmed %(ms)s ms"),
        "confirm_pending": _("media server has not confirmed yet"),
        "minutes": _("Minutes"),
        "note": _("Note (optional)"),
        "confirm": _("Confirm"),
        "cancel": _("Cancel"),
        "choose_reason": _("Choose a reason: number keys or arrows, Enter to confirm, Esc to cancel"),
        "done_mark_patrolled": _("Marked patrolled"),
        "done_warn": _("Warned"),
        "done_block": _("Stream cut"),
        "done_block_pending": _("Cutting off"),
        "done_suspend": _("Suspended"),
        "done_close": _("Account closed"),
        "done_escalate": _("Escalated"),
        "error_forbidden": _("Your role may not do this."),
        "error_not_found": _("This stream no longer exists."),
        "error_stream_ended": _("The stream has already ended."),
        "error_request_id_taken": _("This request was already used by someone else."),
        "error_invalid": _("Not allowed here."),
        "error_other": _("The server refused the request (%(code)s)."),
        "resyncing": _("Catching up…"),
        "frame_age": _("frame %(when)s"),
        "attention": _("%(count)s need attention"),
        "alert_title": _("Patrol wall"),
        "alert_flag": _("Machine review flagged “%(title)s”: %(flag)s"),
        "alert_reports": _("“%(title)s” has %(count)s open reports"),
        "alert_escalated": _("“%(title)s” was escalated"),
    }
    return {key: str(text) for key, text in texts.items()}


def wall_context(request: HttpRequest, *, stream_id: int | None = None) -> dict:
    """What the wall's script and templates need: its actions, reasons, texts; one stream's page too."""
    actions = [
        {"kind": kind, "key": key, "label": label}
        for kind, key, label in WALL_ACTIONS
        if permissions.may(request.user, permissions.action_capability(kind))
    ]
    reasons = [
        {"value": value, "label": str(label)} for value, label in ReasonCode.choices if value != ReasonCode.PATROLLED
    ]
    return {
        "wall_actions": actions,
        "reasons": reasons,
        "wall_config": {
            "strings": wall_strings(),
            "actions": [{"kind": a["kind"], "key": a["key"], "label": str(a["label"])} for a in actions],
            "reasons": reasons,
            "patrolledReason": ReasonCode.PATROLLED.value,
            "streamUrl": reverse("console:stream", args=[0]),
            "claimTtlSeconds": settings.LIVEWARD_CLAIM_TTL_SECONDS,
            "user": request.user.get_username(),
            "reviewLabels": {label: str(text) for label, text in REVIEW_LABELS.items()},
            "stream": stream_id,  # the stream page: this stream's card alone, kept when it ends
        },
    }


@never_cache
@require_role()
def wall(request: HttpRequest) -> HttpResponse:
    """Show the patrol wall (巡查墙): live-stream cards the script fills over the console WebSocket."""
    on_duty, handover_notes = shift_overview(request.user)
    categories = list(Category.objects.order_by("risk_tier", "name"))  # one query for the filters
    return render(
        request,
        "console/wall.html",
        {
            **wall_context(request),
            "live_count": queries.live_stream_count(),
            "categories": categories,
            "tiers": sorted({category.risk_tier for category in categories}) or [1, 2, 3],
            # A patroller who has not checked in is told so on the wall: no streams are assigned
            # to them and the spread of the queue does not count them.
            "works_shifts": has_role(request.user, *SHIFT_ROLES),
            "on_duty": on_duty,
            "handover_notes": handover_notes,
        },
    )


def stream_for_page(stream_id: int) -> Stream:
    """Return the stream with everything its page shows, in a constant number of queries."""
    snapshots = Snapshot.objects.order_by("-taken_at", "-id")
    action_rows = ModerationAction.objects.select_related("actor").prefetch_related(
        Prefetch("evidence", queryset=Evidence.objects.order_by("kind", "id"))
    )
    try:
        stream = (
            Stream.objects.select_related(
                "publisher", "category", "node", "key", "last_patrolled_by", "claimed_by", "latest_snapshot"
            )
            .prefetch_related(Prefetch("actions", queryset=action_rows.order_by("-at", "-id")))
            .get(pk=stream_id)
        )
    except Stream.DoesNotExist:
        raise Http404 from None
    stream.page_snapshots = list(snapshots.filter(stream=stream)[:STREAM_PAGE_SNAPSHOTS])
    stream.page_comments = list(
        Comment.objects.filter(stream=stream)
        .select_related("decided_by")
        .order_by("-received_at", "-pk")[:STREAM_PAGE_COMMENTS]
    )
    stream.page_decisions = list(
        GateDecision.objects.filter(stream_key_id=stream.key_id)
        .select_related("node")
        .order_by("-at", "-id")[:STREAM_PAGE_DECISIONS]
    )
    return stream


@never_cache
@require_role()
def stream_detail(request: HttpRequest, stream_id: int) -> HttpResponse:
    """Show one stream: metadata, publisher (identity masked), gate decisions, snapshots, actions."""
    stream = stream_for_page(stream_id)
    publisher = stream.publisher
    identity = masked_publisher_identity(publisher) | {"document_type": publisher.get_document_type_display()}
    return render(
        request,
        "console/stream.html",
        {
            **wall_context(request, stream_id=stream.pk),
            "stream": stream,
            "publisher": publisher,
            "identity": identity,
            "snapshots": stream.page_snapshots,
            "decisions": stream.page_decisions,
            "comments": stream.page_comments,
            "actions": stream.actions.all(),
            "may_blacklist": permissions.may(request.user, "blacklist.change"),
            "may_measure_viewers": permissions.may(request.user, "viewer.measure"),
            "comment_pressure": comment_pressure_for_page(stream),
            "may_slow_mode": permissions.may(request.user, "comments.slow_mode"),
            "measure_reasons": [(value, label) for value, label in ReasonCode.choices if value != ReasonCode.PATROLLED],
            "reports": queries.reports_on_stream(stream.pk) if permissions.may(request.user, "report.read") else [],
            "may_file_authority_report": permissions.may(request.user, "authority_report.file"),
            "watch": _watch_for_page(stream),
        },
    )


def _watch_for_page(stream: Stream) -> dict | None:
    """Where the page's player plays a live stream (through the console), if its node offers HLS or HTTP-FLV."""
    mirror = mirror_for(stream) if stream.is_live else None
    if mirror is None:
        return None
    return {"src": reverse("console:stream-watch", args=[stream.pk, mirror.entry]), "format": str(mirror.format)}
