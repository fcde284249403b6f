"""Reads of comments: the held comments waiting for a reviewer, the viewers muted."""

from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, Q

from moderation.models import Comment, SensitiveTerm, TermListVersion, ViewerMute


def held_comments(*, reasons=None, stream_id: int | None = None, limit: int = 200):
    """Comments held for review (for these hold reasons), oldest first, with their stream and publisher loaded."""
    held = Comment.objects.filter(status=Comment.Status.HELD)
    if reasons is not None:
        held = held.filter(hold_reason__in=list(reasons))
    if stream_id is not None:
        held = held.filter(stream_id=stream_id)
    return held.select_related("stream__publisher", "stream__category", "stream__latest_snapshot").order_by(
        "received_at", "pk"
    )[:limit]


def decided_comments(*, since, limit: int = 500):
    """Comments released, rejected or removed by staff at or after ``since``, in decision order (the pull API)."""
    decided = Comment.Status.RELEASED, Comment.Status.REJECTED, Comment.Status.REMOVED
    return (
        Comment.objects.filter(status__in=decided, decided_at__gte=since)
        .order_by("decided_at", "pk")
        .only("pk", "external_id", "stream_id", "status", "decided_at")[:limit]
    )


def comment_by_id(comment_id: int) -> Comment | None:
    """Return the comment with this id, or None."""
    return Comment.objects.filter(pk=comment_id).first()


def muted_viewers(viewer_ids, *, at: datetime) -> set[tuple[str, int | None]]:
    """Return (viewer id, stream id or None for everywhere) for each mute of these viewers in force at ``at``."""
    if not viewer_ids:
        return set()
    # ViewerMute.objects.active(at).filter(viewer_id__in=…), written out: the ORM prepares each of a
    # batch's thousand ids through the field, which cost more than the query (bench/comments.py).
    viewer_ids = list(viewer_ids)
    operations, meta = connection.ops, ViewerMute._meta
    column = lambda name: operations.quote_name(meta.get_field(name).column)  # noqa: E731
    sql = (
        f"SELECT {column('viewer_id')}, {column('stream')} FROM {operations.quote_name(meta.db_table)} "
        f"WHERE {column('lifted_at')} IS NULL AND {column('until')} > %s "
        f"AND {column('viewer_id')} IN ({', '.join(['%s'] * len(viewer_ids))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [operations.adapt_datetimefield_value(at), *viewer_ids])
        return set(map(tuple, cursor.fetchall()))


def active_mutes(*, viewer_id: str | None = None, stream_id: int | None = None):
    """Mutes in force now, newest first, with who set them and their stream loaded."""
    mutes = ViewerMute.objects.active().select_related("stream", "muted_by").order_by("until", "pk")
    if viewer_id:
        mutes = mutes.filter(viewer_id=viewer_id)
    if stream_id:
        mutes = mutes.filter(Q(stream_id=stream_id) | Q(stream__isnull=True))
    return mutes


def sensitive_terms_for_page(*, q: str = "", category: str = "", action: str = "", enabled: str = ""):
    """The term list filtered for the terms page, with who added each term loaded."""
    terms = SensitiveTerm.objects.select_related("added_by").order_by("normalised")
    if q:
        terms = terms.filter(Q(term__icontains=q) | Q(normalised__icontains=q))
    if category:
        terms = terms.filter(category=category)
    if action:
        terms = terms.filter(action=action)
    if enabled:
        terms = terms.filter(enabled=enabled == "1")
    return terms


def term_list_versions():
    """The list's versions, newest first, with their authors loaded."""
    return TermListVersion.objects.select_related("created_by").order_by("-number")


def comment_pressure(stream_id: int, *, at: datetime, seconds: int = 60) -> dict:
    """A stream's comments in the last ``seconds``: how many a minute, and the share held and blocked."""
    counts = dict(
        Comment.objects.filter(stream_id=stream_id, received_at__gte=at - timedelta(seconds=seconds))
        .values_list("status")
        .annotate(count=Count("pk"))
        .values_list("status", "count")
    )
    return _pressure_figures(counts, seconds=seconds)


def comment_pressure_of_live_streams(*, at: datetime, seconds: int = 60) -> dict[int, dict]:
    """Every live stream with comments in the last ``seconds``: its figures as ``comment_pressure``'s.

    One grouped query over the comments received in the window (index on ``received_at``).
    """
    rows = (
        Comment.objects.filter(received_at__gte=at - timedelta(seconds=seconds), stream__ended_at__isnull=True)
        .values_list("stream_id", "status")
        .annotate(count=Count("pk"))
        .values_list("stream_id", "status", "count")
    )
    counts: dict[int, dict[str, int]] = {}
    for stream_id, status, count in rows:
        counts.setdefault(stream_id, {})[status] = count
    return {stream_id: _pressure_figures(by_status, seconds=seconds) for stream_id, by_status in counts.items()}


def _pressure_figures(counts: dict[str, int], *, seconds: int) -> dict:
    total = sum(counts.values())
    held = (
        counts.get(Comment.Status.HELD, 0)
        + counts.get(Comment.Status.RELEASED, 0)
        + counts.get(Comment.Status.REJECTED, 0)
    )
    blocked = counts.get(Comment.Status.BLOCKED, 0)
    return {
        "per_minute": round(total * 60 / seconds),
        "held_share": round(held / total, 3) if total else 0.0,
        "blocked_share": round(blocked / total, 3) if total else 0.0,
        "total": total,
    }
