"""Measures on viewers (Art. 14 for users who comment): mute on one stream or everywhere, unmute,
delete a viewer's recent comments on a stream. Each has a reason, goes to the staff log and is told
to the platform by signed webhook; the comment ingest blocks a muted viewer's next comment.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import events, permissions, queries, text_input
from moderation.actions.webhooks import notify_platform
from moderation.errors import ModerationError
from moderation.models import Comment, ReasonCode, Stream, ViewerMute

MUTE_MAX_MINUTES = 365 * 24 * 60
DELETE_WINDOW_MAX_MINUTES = 24 * 60
NOTE_MAX = 300
VIEWER_ID_MAX = 64


def _checked(viewer_id: str, reason: str, note: str) -> tuple[str, str]:
    if not isinstance(viewer_id, str) or not 1 <= len(viewer_id.strip()) <= VIEWER_ID_MAX:
        raise ModerationError(f"viewer_id of 1–{VIEWER_ID_MAX} characters is required", code="bad_field")
    if text_input.refusal(viewer_id) is not None:
        raise ModerationError(text_input.refusal(viewer_id).describe("viewer_id"), code="bad_text")
    if reason not in ReasonCode.values or reason == ReasonCode.PATROLLED:
        raise ModerationError("reason must be one of the reason codes", code="bad_field")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ModerationError(f"the note is longer than {NOTE_MAX} characters", code="bad_field")
    return viewer_id.strip(), note


def mute_viewer(
    viewer_id: str,
    *,
    actor: User,
    minutes: int,
    reason: str,
    stream: Stream | None = None,
    note: str = "",
) -> ViewerMute:
    """Mute a viewer on one stream (or everywhere when ``stream`` is None) for ``minutes``."""
    permissions.check(actor, "viewer.measure")
    viewer_id, note = _checked(viewer_id, reason, note)
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= MUTE_MAX_MINUTES:
        raise ModerationError(f"minutes must be between 1 and {MUTE_MAX_MINUTES}", code="bad_field")
    with transaction.atomic():
        if stream is not None:
            stream = Stream.objects.filter(pk=stream.pk).first()
            if stream is None:
                raise ModerationError("no such stream", code="not_found")
        now = timezone.now()
        mute = ViewerMute.objects.create(
            viewer_id=viewer_id,
            stream=stream,
            until=now + timedelta(minutes=minutes),
            reason=reason,
            note=note,
            muted_by=actor,
            muted_at=now,
        )
        log_staff_action(
            actor,
            "viewer.muted",
            target=mute,
            data={"viewer": viewer_id, "stream": mute.stream_id, "minutes": minutes, "reason": reason},
        )
        notify_platform(
            "viewer.muted",
            {"viewer": viewer_id, "stream": mute.stream_id, "until": mute.until, "reason": reason, "mute": mute.pk},
        )
    return mute


def unmute_viewer(mute: ViewerMute, *, actor: User, note: str) -> ViewerMute:
    """Lift a mute before its time, with a reason; the platform is told."""
    permissions.check(actor, "viewer.measure")
    note = (note or "").strip()
    if not note:
        raise ModerationError("say why the mute is lifted", code="missing_field")
    if len(note) > NOTE_MAX:
        raise ModerationError(f"the note is longer than {NOTE_MAX} characters", code="bad_field")
    with transaction.atomic():
        locked = ViewerMute.objects.select_for_update().filter(pk=mute.pk).first()
        if locked is None:
            raise ModerationError("no such mute", code="not_found")
        if locked.lifted_at is not None or locked.until <= timezone.now():
            raise ModerationError("the mute is not in force", code="conflict")
        locked.lifted_at, locked.lifted_by, locked.lift_note = timezone.now(), actor, note
        locked.save(update_fields=["lifted_at", "lifted_by", "lift_note"])
        log_staff_action(actor, "viewer.unmuted", target=locked, data={"viewer": locked.viewer_id, "note": note})
        notify_platform("viewer.unmuted", {"viewer": locked.viewer_id, "stream": locked.stream_id, "mute": locked.pk})
    return locked


def delete_recent_comments(
    viewer_id: str, *, stream: Stream, actor: User, reason: str, minutes: int = 60, note: str = ""
) -> list[Comment]:
    """Remove a viewer's comments on a stream from the last ``minutes`` (published or held); the platform
    takes them down on the ``comments.removed`` webhook. Return the comments removed."""
    permissions.check(actor, "viewer.measure")
    viewer_id, note = _checked(viewer_id, reason, note)
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= DELETE_WINDOW_MAX_MINUTES:
        raise ModerationError(f"minutes must be between 1 and {DELETE_WINDOW_MAX_MINUTES}", code="bad_field")
    with transaction.atomic():
        now = timezone.now()
        visible = (Comment.Status.PUBLISHED, Comment.Status.RELEASED, Comment.Status.HELD)
        removed = list(
            Comment.objects.select_for_update()
            .filter(
                viewer_id=viewer_id,
                stream_id=stream.pk,
                status__in=visible,
                received_at__gte=now - timedelta(minutes=minutes),
            )
            .order_by("pk")
        )
        if not removed:
            return []
        was_held = [comment for comment in removed if comment.status == Comment.Status.HELD]
        Comment.objects.filter(pk__in=[comment.pk for comment in removed]).update(
            status=Comment.Status.REMOVED, decided_by=actor, decided_at=now, decision_note=f"{reason}: {note}"[:300]
        )
        for comment in removed:
            comment.status, comment.decided_by, comment.decided_at = Comment.Status.REMOVED, actor, now
        log_staff_action(
            actor,
            "viewer.comments_deleted",
            data={"viewer": viewer_id, "stream": stream.pk, "comments": [c.pk for c in removed], "reason": reason},
        )
        notify_platform(
            "comments.removed",
            {
                "viewer": viewer_id,
                "stream": stream.pk,
                "reason": reason,
                "comments": [comment.external_id for comment in removed],
            },
        )
        if was_held:  # the hold queue drops them
            loaded = Stream.objects.select_related("publisher", "latest_snapshot").get(pk=stream.pk)
            for comment in was_held:
                comment.stream = loaded
            rows = [queries.comment_row(comment) for comment in was_held]
            transaction.on_commit(lambda: events.comments_decided(rows))
    return removed


def set_comment_slow_mode(stream: Stream, *, hold_all: bool, actor: User, note: str = "") -> Stream:
    """Switch a stream to hold every comment for review (slow mode, a room under pressure) or back."""
    permissions.check(actor, "comments.slow_mode")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ModerationError(f"the note is longer than {NOTE_MAX} characters", code="bad_field")
    with transaction.atomic():
        locked = Stream.objects.select_for_update().filter(pk=stream.pk).first()
        if locked is None:
            raise ModerationError("no such stream", code="not_found")
        if hold_all and locked.ended_at is not None:
            raise ModerationError("the stream has ended", code="stream_ended")
        if locked.comments_hold_all == hold_all:
            return locked
        locked.comments_hold_all = hold_all
        locked.save(update_fields=["comments_hold_all"])
        log_staff_action(
            actor,
            "stream.comments_hold_all" if hold_all else "stream.comments_normal",
            target=locked,
            data={"note": note},
        )
        stream_id = locked.pk
        transaction.on_commit(lambda: events.stream_updated(stream_id))
    return locked


def record_comment_pressure(*, at: datetime | None = None) -> int:
    """Keep each live stream's last-minute comment figures where the rate passes the threshold.

    A stream at or past ``LIVEWARD_COMMENT_PRESSURE_PER_MINUTE`` gets its rate and shares held and
    blocked; one that fell below it goes back to zeros. Only streams whose figures changed are
    written and their cards sent again. Return how many streams were written.
    """
    at = at or timezone.now()
    threshold = settings.LIVEWARD_COMMENT_PRESSURE_PER_MINUTE
    wanted = {
        stream_id: (figures["per_minute"], figures["held_share"], figures["blocked_share"])
        for stream_id, figures in queries.comment_pressure_of_live_streams(at=at).items()
        if figures["per_minute"] >= threshold
    }
    shown = {
        stream_id: (per_minute, held, blocked)
        for stream_id, per_minute, held, blocked in Stream.objects.live()
        .filter(comments_per_minute__gt=0)
        .values_list("pk", "comments_per_minute", "comments_held_share", "comments_blocked_share")
    }
    changed = {stream_id: figures for stream_id, figures in wanted.items() if shown.get(stream_id) != figures}
    changed |= {stream_id: (0, 0.0, 0.0) for stream_id in shown.keys() - wanted.keys()}
    written = []
    with transaction.atomic():
        for stream_id, (per_minute, held, blocked) in changed.items():
            if Stream.objects.filter(pk=stream_id, ended_at__isnull=True).update(
                comments_per_minute=per_minute, comments_held_share=held, comments_blocked_share=blocked
            ):
                written.append(stream_id)
        transaction.on_commit(lambda: [events.stream_updated(stream_id) for stream_id in written])
    return len(written)
