"""The news audit, by its old task name: it runs through the audit framework (moderation/audits/)."""

from celery import shared_task

from moderation import audits


@shared_task(bind=True, name="moderation.tasks.news.audit_news", acks_late=True)
def audit_news(self) -> dict:
    """Run the news audit once as an audit run; safe to run twice."""
    return audits.run_audit("news_licences", task_id=self.request.id or "")
