"""The day's compliance report, mailed to compliance admins on beat."""

from celery import shared_task

from moderation.actions import compliance_report


@shared_task(name="moderation.tasks.compliance.mail_compliance_report", acks_late=True, ignore_result=True)
def mail_compliance_report() -> int:
    """Mail yesterday's compliance report to the compliance admins."""
    return compliance_report.mail_compliance_report()
