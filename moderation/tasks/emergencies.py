"""The emergency's bulk cut on Celery, and the sweep that settles its pending cuts."""

from celery import shared_task

from moderation import actions


@shared_task(name="moderation.tasks.emergencies.run_emergency_cuts", acks_late=True)
def run_emergency_cuts(emergency_id: int) -> dict:
    """Cut every stream the emergency still has queued, in parallel per node."""
    return actions.run_emergency_cuts(emergency_id)


@shared_task(name="moderation.tasks.emergencies.settle_pending_emergency_cuts", acks_late=True, ignore_result=True)
def settle_pending_emergency_cuts() -> int:
    """Record as confirmed the emergency cuts whose retried drop the node has confirmed since."""
    return actions.settle_pending_emergency_cuts()
