"""Snapshots on schedule: beat finds the streams due one, a worker grabs each frame."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from celery import shared_task

from moderation import credit_policy, frame_grabber
from moderation.models import Stream


@shared_task(name="moderation.tasks.snapshots.schedule_due_snapshots", ignore_result=True)
def schedule_due_snapshots() -> int:
    """Enqueue a capture for every live stream due a snapshot that no one has claimed yet."""
    claimed = frame_grabber.claim_due_snapshots()
    for stream_id, seconds in claimed:
        # A capture still queued after its interval is stale: the next tick claims the stream afresh.
        capture_stream_snapshot.apply_async((stream_id,), expires=max(seconds, 1))
    return len(claimed)


@shared_task(name="moderation.tasks.snapshots.capture_stream_snapshot", acks_late=True, ignore_result=True)
def capture_stream_snapshot(stream_id: int) -> int | None:
    """Grab and record one frame of a live stream; return the snapshot's id, None if none was taken."""
    stream = (
        Stream.objects.select_related("node", "key", "category", "publisher", "latest_snapshot")
        .filter(pk=stream_id)
        .first()
    )
    if stream is None or not stream.is_live:
        return None
    latest = stream.latest_snapshot
    interval = credit_policy.snapshot_interval_for(
        category_seconds=stream.category.snapshot_interval_seconds, level_code=stream.publisher.credit_level
    )
    # Run twice (a redelivery), the second run finds the first one's frame and stops.
    if latest is not None and latest.taken_at > timezone.now() - timedelta(seconds=interval / 2):
        return None
    snapshot = frame_grabber.capture_snapshot(stream)
    return snapshot.pk if snapshot is not None else None
