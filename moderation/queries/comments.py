"""Reads of comments: the held comments waiting for a reviewer, the viewers muted."""

from datetime import datetime

from django.db.models import Q

from moderation.models import Comment, ViewerMute


def held_comments(*, limit: int = 200):
    """Comments held for review, oldest first, with their stream and publisher loaded."""

    return (
        Comment.objects.filter(status=Comment.Status.HELD)
        .select_related("stream__publisher", "stream__category", "stream__latest_snapshot")
        .order_by("received_at", "pk")[:limit]
    )


def comment_by_id(comment_id: int) -> Comment | None:
    """Return the comment with this id, or None."""
    return Comment.objects.filter(pk=comment_id).first()


def muted_viewers(viewer_ids, *, at: datetime) -> set[tuple[str, int | None]]:
    """Return (viewer id, stream id or None for everywhere) for each mute of these viewers in force at ``at``."""
    if not viewer_ids:
        return set()
    mutes = ViewerMute.objects.active(at).filter(viewer_id__in=list(viewer_ids))
    return set(mutes.values_list("viewer_id", "stream_id"))


def active_mutes(*, viewer_id: str | None = None, stream_id: int | None = None):
    """Mutes in force now, newest first, with who set them and their stream loaded."""
    mutes = ViewerMute.objects.active().select_related("stream", "muted_by").order_by("until", "pk")
    if viewer_id:
        mutes = mutes.filter(viewer_id=viewer_id)
    if stream_id:
        mutes = mutes.filter(Q(stream_id=stream_id) | Q(stream__isnull=True))
    return mutes
