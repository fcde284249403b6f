"""A room under pressure: live streams' comment rates kept for their cards (beat: LIVEWARD_COMMENT_PRESSURE_SECONDS)."""

from __future__ import annotations

from celery import shared_task

from moderation import actions


@shared_task(acks_late=True, ignore_result=True)
def record_comment_pressure() -> int:
    """Write the last minute's comment figures of streams past the threshold; return how many changed."""
    return actions.record_comment_pressure()
