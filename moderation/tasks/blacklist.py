"""The blacklist's beat sweep: accounts matching entries they were not closed for."""

from celery import shared_task

from moderation import actions


@shared_task(name="moderation.tasks.blacklist.sweep_blacklist", acks_late=True)
def sweep_blacklist() -> int:
    """Close (cut, deny) publishers found matching an entry in force since it was added; safe to run twice."""
    return len(actions.sweep_blacklist())
