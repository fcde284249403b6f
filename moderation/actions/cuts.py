"""The cut at the media server: drop an action's live streams at their nodes and record the outcome.

A failed drop leaves the action "pending" and queues a retry with backoff (moderation/tasks/cuts.py,
queued by name through moderation.task_queue); the gate keeps the key denied meanwhile.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from moderation import events, mediaservers, task_queue
from moderation.actions.gate import CUT_KINDS, STREAM_CUT_KINDS
from moderation.backoff import backoff_delay
from moderation.models import ModerationAction, Stream

logger = logging.getLogger(__name__)
MediaStatus = ModerationAction.MediaStatus
RETRY_TASK = "moderation.tasks.cuts.retry_cut"


def cut_targets(action: ModerationAction) -> list[Stream]:
    """The live streams this action must cut: the stream for a block, all the publisher's otherwise."""
    live = Stream.objects.live().select_related("node", "key")
    if action.kind in STREAM_CUT_KINDS:
        return list(live.filter(pk=action.stream_id))
    return list(live.filter(publisher_id=action.publisher_id))


def perform_cut(action_id: int) -> str:
    """Drop the action's streams at their nodes; record the outcome; schedule a retry on failure.

    Safe to run twice and concurrently: a drop of a publisher that is gone drops nothing, and the
    outcome is recorded only while the action is still pending.
    """
    action = ModerationAction.objects.filter(pk=action_id).first()
    if action is None or action.media_status != MediaStatus.PENDING:
        return action.media_status if action is not None else MediaStatus.NOT_APPLICABLE
    return drop_and_record(action, cut_targets(action))


def drop_and_record(action: ModerationAction, targets: list[Stream]) -> str:
    """Drop ``targets`` at their nodes and record the outcome on the pending action."""
    errors: list[str] = []
    dropped_any = False
    for stream in targets:
        try:
            result = mediaservers.adapter_for(stream.node).drop(stream)
        except mediaservers.MediaServerError as exc:
            errors.append(str(exc)[:150])
            continue
        dropped_any = dropped_any or result.dropped > 0
        close_cut_stream(stream.pk)
    if errors:
        record_cut_failure(action.pk, "; ".join(errors))
        return MediaStatus.PENDING
    outcome = MediaStatus.CONFIRMED if dropped_any else MediaStatus.GONE
    now = timezone.now()
    confirmed = ModerationAction.objects.filter(pk=action.pk, media_status=MediaStatus.PENDING).update(
        media_status=outcome, media_confirmed_at=now, media_attempts=action.media_attempts + 1, media_last_error=""
    )
    if confirmed and action.stream_id:
        events.queue_delta(events.STREAM_CUT_CONFIRMED, action.stream_id)
    return outcome


def close_cut_stream(stream_id: int) -> None:
    """Close a stream the media server dropped (publish_done may follow; it then finds nothing live)."""
    closed = Stream.objects.filter(pk=stream_id, ended_at__isnull=True).update(
        ended_at=timezone.now(), end_reason=Stream.EndReason.CUT
    )
    if closed:
        events.stream_ended(stream_id, Stream.EndReason.CUT)


def retry_delay(attempts: int) -> float:
    """Seconds before the next drop attempt: 1, 2, 4 … capped at 60, ±20 %."""
    return backoff_delay(attempts, base=1.0, cap=60.0, jitter=0.2)


def record_cut_failure(action_id: int, error: str) -> None:
    """Count a failed drop and schedule the next attempt (the gate keeps denying meanwhile)."""
    action = ModerationAction.objects.get(pk=action_id)
    attempts = action.media_attempts + 1
    ModerationAction.objects.filter(pk=action_id, media_status=MediaStatus.PENDING).update(
        media_attempts=attempts, media_last_error=error[:300]
    )
    logger.warning("cut of action %s not confirmed (attempt %s): %s", action_id, attempts, error)
    try:
        task_queue.enqueue(RETRY_TASK, action_id, countdown=retry_delay(attempts))
    except Exception:  # a broker outage: the beat sweep retries pending cuts
        logger.exception("could not schedule the retry of cut %s", action_id)


def pending_cuts(now=None) -> list[int]:
    """Ids of cuts left pending: never attempted after 30 s (the process died between commit and
    drop), or still pending after 5 minutes (the retry chain was lost, e.g. the broker was down)."""
    now = now or timezone.now()
    never_tried = Q(media_attempts=0, at__lt=now - timedelta(seconds=30))
    stale = Q(at__lt=now - timedelta(minutes=5))
    return list(
        ModerationAction.objects.filter(never_tried | stale, media_status=MediaStatus.PENDING, kind__in=CUT_KINDS)
        .order_by("at")
        .values_list("pk", flat=True)[:500]
    )
