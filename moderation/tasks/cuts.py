"""Retry cuts the media server did not confirm, until confirmed or the stream is gone."""

from celery import shared_task

from moderation.actions import cuts


@shared_task(name="moderation.tasks.cuts.retry_cut", acks_late=True)
def retry_cut(action_id: int) -> str:
    """Try the drop again; a failure schedules the next attempt with backoff."""
    return cuts.perform_cut(action_id)


@shared_task(name="moderation.tasks.cuts.sweep_pending_cuts", acks_late=True)
def sweep_pending_cuts() -> int:
    """Retry cuts left pending (a process died between commit and drop, or the broker was down)."""
    action_ids = cuts.pending_cuts()
    for action_id in action_ids:
        cuts.perform_cut(action_id)
    return len(action_ids)
