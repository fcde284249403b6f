"""The cut at the media server: drop every session an action covers at its node and record the outcome.

What an action cuts (``sessions_on_air``): a block or a news cut, every session of the stream's
key; a suspension or a closure, every session of the publisher; a replacement (the gate's, when a
new publish of a key replaced its live session), that one earlier session. "Every session" is the
live streams and the sessions a replacement ended in the database whose cut is still pending: they
may be on air until their node drops them. Each is dropped at its own node by its own client id,
never by the key's name alone.

A failed drop leaves the action "pending" and queues a retry with backoff (moderation/tasks/cuts.py,
queued by name through moderation.task_queue); the gate keeps the key denied meanwhile.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from moderation import cut_threads, events, mediaservers, task_queue
from moderation.actions import platform_events
from moderation.backoff import backoff_delay
from moderation.models import ModerationAction, Stream

logger = logging.getLogger(__name__)
Kind = ModerationAction.Kind
MediaStatus = ModerationAction.MediaStatus
RETRY_TASK = "moderation.tasks.cuts.retry_cut"

# The action kinds that cut streams.
CUT_KINDS = (Kind.BLOCK, Kind.SUSPEND, Kind.CLOSE, Kind.NEWS_CUT, Kind.REPLACE)
# The kinds that cut every session of the stream's key, and those that cut every session of the publisher.
STREAM_CUT_KINDS = (Kind.BLOCK, Kind.NEWS_CUT)
PUBLISHER_CUT_KINDS = (Kind.SUSPEND, Kind.CLOSE)


def sessions_on_air(action: ModerationAction, *, exclude=()) -> list[Stream]:
    """The sessions this action must cut, with their nodes and keys, but those in ``exclude`` (ids)."""
    streams = Stream.objects.select_related("node", "key").exclude(pk__in=list(exclude))
    if action.kind == Kind.REPLACE:
        return list(streams.filter(pk=action.stream_id))  # ended in the database, maybe still on air
    uncut = ModerationAction.objects.filter(stream=OuterRef("pk"), kind=Kind.REPLACE, media_status=MediaStatus.PENDING)
    replaced_uncut = Q(end_reason=Stream.EndReason.REPLACED) & Q(Exists(uncut))
    on_air = streams.filter(Q(ended_at__isnull=True) | replaced_uncut)
    if action.kind in STREAM_CUT_KINDS:
        key = Stream.objects.filter(pk=action.stream_id).values("key_id")[:1]
        return list(on_air.filter(key_id=Subquery(key)).order_by("pk"))
    return list(on_air.filter(publisher_id=action.publisher_id).order_by("pk"))


def perform_cut(action_id: int) -> str:
    """Drop the action's sessions at their nodes; record the outcome; schedule a retry on failure.

    Safe to run twice and concurrently: a drop of a session that is gone drops nothing, and the
    outcome is recorded only while the action is still pending.
    """
    action = ModerationAction.objects.filter(pk=action_id).first()
    if action is None or action.media_status != MediaStatus.PENDING:
        return action.media_status if action is not None else MediaStatus.NOT_APPLICABLE
    return drop_and_record(action)


def drop_and_record(action: ModerationAction, targets: list[Stream] | None = None) -> str:
    """Drop ``targets`` at their nodes, then every other session the action covers; record the outcome.

    ``targets``: sessions the action has loaded already (the block's stream), dropped before the
    others are looked up, so the stream the patroller saw is cut without waiting on that query.
    """
    first = list(targets or [])
    errors, dropped_any = _drop_each(first)
    more_errors, dropped_more = _drop_each(sessions_on_air(action, exclude=[stream.pk for stream in first]))
    errors, dropped_any = errors + more_errors, dropped_any or dropped_more
    if errors:
        record_cut_failure(action.pk, "; ".join(errors))
        return MediaStatus.PENDING
    outcome = MediaStatus.CONFIRMED if dropped_any else MediaStatus.GONE
    now = timezone.now()
    confirmed = ModerationAction.objects.filter(pk=action.pk, media_status=MediaStatus.PENDING).update(
        media_status=outcome, media_confirmed_at=now, media_attempts=action.media_attempts + 1, media_last_error=""
    )
    if confirmed and action.kind != Kind.REPLACE:
        platform_events.cut_confirmed(action, outcome=outcome, at=now)
    # A replaced session left the queue when it was replaced: consoles have nothing to update.
    if confirmed and action.stream_id and action.kind != Kind.REPLACE:
        events.queue_delta(events.STREAM_CUT_CONFIRMED, action.stream_id)
    return outcome


def _drop_each(streams: list[Stream]) -> tuple[list[str], bool]:
    """Drop each session at its node; return the errors and whether any node dropped something."""
    errors: list[str] = []
    dropped_any = False
    for stream in streams:
        try:
            result = mediaservers.adapter_for(stream.node).drop(stream)
        except mediaservers.MediaServerError as exc:
            errors.append(str(exc)[:150])
            continue
        dropped_any = dropped_any or result.dropped > 0
        close_cut_stream(stream.pk)
    return errors, dropped_any


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


# --- cuts that nobody waits for ------------------------------------------------------------


def cut_in_background(action_id: int, *, node_id: int | None) -> None:
    """Make the action's first drop on the cut threads, in its node's lane; a failure retries as any cut does.

    The gate's replacement cuts go here, so a publish is answered without waiting on the old
    session's node, and a frozen node holds only its own lane (moderation/cut_threads.py).
    """
    cut_threads.submit(node_id, perform_cut, action_id)
