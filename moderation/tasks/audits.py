"""The one task that runs every audit (docs/audits.md); beat sends it with the audit's name."""

from celery import shared_task

from moderation import audits


@shared_task(bind=True, name="moderation.tasks.audits.run_audit", acks_late=True, reject_on_worker_lost=True)
def run_audit(self, name: str) -> dict:
    """Run one audit; redelivered after a killed worker, carry on with the same run (its task id)."""
    return audits.run_audit(name, task_id=self.request.id or "")
