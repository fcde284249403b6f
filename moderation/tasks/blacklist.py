"""The blacklist sweep, by its old task name: it runs through the audit framework (moderation/audits/)."""

from celery import shared_task

from moderation import audits


@shared_task(bind=True, name="moderation.tasks.blacklist.sweep_blacklist", acks_late=True)
def sweep_blacklist(self) -> int:
    """Close (cut, deny) publishers found matching an entry in force since it was added; safe to run twice."""
    return audits.run_audit("blacklist_sweep", task_id=self.request.id or "").get("closed", 0)
