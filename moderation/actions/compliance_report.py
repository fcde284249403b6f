"""The day's compliance report (docs/dashboard.md): its figures, and mailing it to compliance admins on beat."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import permissions, queries
from moderation.compliance_pdf import compliance_report_pdf
from moderation.errors import ModerationError
from moderation.models import GateDecision, ModerationAction


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The local day as an aware [start, end)."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def compliance_report(day: date) -> dict:
    """The figures of one local day: streams, actions by kind, gate denials, cut latency, findings, and now."""
    start, end = day_bounds(day)
    actions = queries.actions_by_hour(end, 24)
    return {
        "day": day,
        "start": start,
        "end": end,
        "streams_started": queries.streams_started(start, end),
        "actions": sorted(
            ((ModerationAction.Kind(kind).label, sum(counts)) for kind, counts in actions["series"].items()),
            key=lambda item: -item[1],
        ),
        "denials": [(GateDecision.Reason(reason).label, count) for reason, count in queries.gate_denials(start, end)],
        "cut_latency": queries.cut_latency(start, end),
        "findings": queries.findings_summary(start, end),
        "now": queries.coverage_now(timezone.now()),
    }


def report_recipients() -> list[str]:
    """The e-mail addresses of the active compliance admins."""
    roles = permissions.roles_for("compliance.report")
    users = User.objects.filter(is_active=True, groups__name__in=roles).exclude(email="").distinct()
    return sorted(users.values_list("email", flat=True))


def mail_compliance_report(day: date | None = None) -> int:
    """Mail the day's report (yesterday by default) to the compliance admins; return how many were sent."""
    day = day or timezone.localdate() - timedelta(days=1)
    recipients = report_recipients()
    if not recipients:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        report = compliance_report(day)
        context = {"report": report}
        html = render_to_string("moderation/compliance_report.html", context)
        text = render_to_string("moderation/compliance_report.txt", context)
        subject = str(translation.gettext("Liveward compliance report %(day)s") % {"day": day.isoformat()})
        try:
            pdf = compliance_report_pdf(report)
        except ModerationError:  # no font: the report still goes out, as HTML, and the log says so
            pdf = None
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, recipients)
    message.attach_alternative(html, "text/html")
    if pdf is not None:
        message.attach(f"liveward-compliance-{day.isoformat()}.pdf", pdf, "application/pdf")
    sent = message.send()
    log_staff_action(
        None, "report.mailed", data={"day": day.isoformat(), "recipients": len(recipients), "pdf": pdf is not None}
    )
    return sent
