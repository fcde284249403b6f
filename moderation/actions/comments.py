"""Comments pushed by the platform, and staff releasing or rejecting the ones held (Art. 11)."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import comment_holds, events, permissions, queries
from moderation.actions.webhooks import notify_platform
from moderation.errors import ModerationError
from moderation.models import Comment, Stream

TEXT_MAX = 2000
NOTE_MAX = 300


def receive_comment(
    stream: Stream,
    *,
    external_id: str,
    viewer_id: str,
    text: str,
    viewer_phone_verified: bool = False,
    posted_at: datetime | None = None,
    actor: User | None,
) -> Comment:
    """Take a comment from the platform: publish it, or hold it when the hold policy says so.

    The same ``external_id`` again returns the first comment (``comment.replayed`` is True).
    """
    existing = Comment.objects.filter(external_id=external_id).first()
    if existing is not None:
        if existing.stream_id != stream.pk:
            raise ModerationError("this comment id was used on another stream", code="conflict")
        existing.replayed = True
        return existing
    if not text or len(text) > TEXT_MAX:
        raise ModerationError(f"text of 1–{TEXT_MAX} characters is required", code="bad_field")
    stream = Stream.objects.select_related("category", "publisher").get(pk=stream.pk)
    if stream.ended_at is not None:
        raise ModerationError("the stream has ended", code="stream_ended")
    reason = comment_holds.hold_reason_for(stream, text)
    now = timezone.now()
    try:
        with transaction.atomic():
            comment = Comment.objects.create(
                stream=stream,
                external_id=external_id,
                viewer_id=viewer_id,
                viewer_phone_verified=viewer_phone_verified,
                text=text,
                posted_at=posted_at or now,
                received_at=now,
                status=Comment.Status.HELD if reason else Comment.Status.PUBLISHED,
                hold_reason=reason or "",
            )
            if reason:
                row = queries.comment_row(comment)
                transaction.on_commit(lambda: events.comment_held(row))
    except IntegrityError:  # the same id raced in from a second request
        raise ModerationError("this comment is being received already", code="conflict") from None
    comment.replayed = False
    return comment


def decide_held_comment(comment: Comment, *, release: bool, actor: User, note: str = "") -> Comment:
    """Release a held comment to the platform, or reject it; the platform learns it by webhook."""
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ModerationError(f"the note is longer than {NOTE_MAX} characters", code="bad_field")
    with transaction.atomic():
        comment = Comment.objects.select_for_update().select_related("stream__publisher").get(pk=comment.pk)
        if not permissions.may(actor, permissions.comment_review_capability(comment.hold_reason)):
            raise ModerationError("your role may not do this", code="forbidden")
        if comment.status != Comment.Status.HELD:
            raise ModerationError(f"the comment is {comment.status} already", code="conflict")
        comment.status = Comment.Status.RELEASED if release else Comment.Status.REJECTED
        comment.decided_by = actor
        comment.decided_at = timezone.now()
        comment.decision_note = note
        comment.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        verb = "released" if release else "rejected"
        log_staff_action(actor, f"comment.{verb}", target=comment, data={"stream": comment.stream_id})
        notify_platform(
            f"comment.{verb}",
            {
                "comment": comment.external_id,
                "stream": comment.stream_id,
                "status": comment.status,
                "decided_at": comment.decided_at,
            },
        )
        row = queries.comment_row(comment)
        transaction.on_commit(lambda: events.comment_decided(row))
    return comment
