"""The news audit on beat: licences expiring or expired, news streams live without an approval."""

from celery import shared_task

from moderation.actions import news


@shared_task(name="moderation.tasks.news.audit_news", acks_late=True)
def audit_news() -> dict:
    """Run the news audit once; safe to run twice."""
    return news.audit_news_licences()
