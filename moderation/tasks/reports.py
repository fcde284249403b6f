"""The beat check for public reports: record those whose first response is overdue."""

from celery import shared_task

from moderation import actions


@shared_task(name="moderation.tasks.reports.find_overdue_reports", acks_late=True, ignore_result=True)
def find_overdue_reports() -> int:
    """Record every report past its first-response deadline (idempotent: each is recorded once)."""
    return len(actions.find_overdue_reports())
