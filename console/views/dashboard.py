"""The compliance dashboard (docs/dashboard.md): charts of the last 24 hours, and the day's report."""

from __future__ import annotations

from datetime import date, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from accounts.roles import require_role
from console.dashboard_charts import bar_list, stacked_hours
from moderation import permissions, queries
from moderation.actions.compliance_report import compliance_report
from moderation.compliance_pdf import compliance_report_pdf
from moderation.errors import ModerationError
from moderation.models import Finding, GateDecision, ModerationAction


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


@never_cache
@require_role(*permissions.roles_for("dashboard.view"))
def dashboard(request: HttpRequest) -> HttpResponse:
    """Charts of the last 24 hours and the state now: what an inspection would ask first."""
    now = timezone.now()
    start = now - timedelta(hours=24)
    live = queries.live_streams_by_hour(now)
    acted = queries.actions_by_hour(now)
    acted_series = {_label(ModerationAction.Kind, kind): counts for kind, counts in acted["series"].items()}
    denials = [(_label(GateDecision.Reason, reason), count) for reason, count in queries.gate_denials(start, now)]
    findings = queries.findings_summary(start, now)
    finding_bars = [
        (f"{queries.audit_label(audit)} · {_label(Finding.Severity, severity)}", count)
        for (audit, severity), count in findings["by_audit"]
    ]
    return render(
        request,
        "console/dashboard.html",
        {
            "live_chart": stacked_hours(
                live["hours"], live["series"], title=str(_("Live streams by category and tier"))
            ),
            "actions_chart": stacked_hours(acted["hours"], acted_series, title=str(_("Actions per hour by kind"))),
            "denials_chart": bar_list(denials, title=str(_("Gate denials by reason"))),
            "findings_chart": bar_list(finding_bars, title=str(_("Audits' findings"))),
            "latency": queries.cut_latency(start, now),
            "coverage": queries.coverage_now(now),
            "findings": findings,
            "yesterday": timezone.localdate() - timedelta(days=1),
        },
    )


@never_cache
@require_role(*permissions.roles_for("dashboard.view"))
def daily_report(request: HttpRequest) -> HttpResponse:
    """The day's compliance report as a page, or (``?download=1``) as an HTML file, or (``?format=pdf``) a PDF."""
    raw = request.GET.get("day", "")
    try:
        day = date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        day = None
    if day is None or day > timezone.localdate() or day < timezone.localdate() - timedelta(days=3650):
        return render(request, "console/compliance_report.html", {"error": True}, status=400)
    report = compliance_report(day)
    if request.GET.get("format") == "pdf":
        try:
            pdf = compliance_report_pdf(report)
        except ModerationError:
            return render(
                request, "console/compliance_report.html", {"report": report, "pdf_missing": True}, status=503
            )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="liveward-compliance-{day.isoformat()}.pdf"'
        return response
    if request.GET.get("download"):
        response = HttpResponse(render_to_string("moderation/compliance_report.html", {"report": report}))
        response["Content-Disposition"] = f'attachment; filename="liveward-compliance-{day.isoformat()}.html"'
        return response
    return render(request, "console/compliance_report.html", {"report": report})
