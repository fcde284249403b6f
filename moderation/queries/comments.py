"""Reads of comments: the held comments waiting for a reviewer."""

from moderation.models import Comment


def held_comments(*, limit: int = 200):
    """Comments held for review, oldest first, with their stream and publisher loaded."""

    return (
        Comment.objects.filter(status=Comment.Status.HELD)
        .select_related("stream__publisher", "stream__category")
        .order_by("received_at", "pk")[:limit]
    )


def comment_by_id(comment_id: int) -> Comment | None:
    """Return the comment with this id, or None."""
    return Comment.objects.filter(pk=comment_id).first()
