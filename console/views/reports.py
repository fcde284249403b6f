"""The report queue (投诉举报, Art. 19): open reports with their response clock, claim, resolve, dismiss."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import require_role
from console.file_responses import stored_file_response
from console.forms.reports import DismissForm, ResolveForm
from moderation import actions, permissions, queries
from moderation.identity_cipher import IdentityCipherError
from moderation.models import PublicReport, ReportImage


@never_cache
@require_role(*permissions.roles_for("report.read"))
def report_queue(request: HttpRequest) -> HttpResponse:
    """Show the open reports, the most urgent first, each with its countdown; or those of one status."""
    status = request.GET.get("status") or ""
    if status and status not in PublicReport.Status.values:
        status = ""
    return render(
        request,
        "console/reports.html",
        {
            "reports": queries.reports_for_queue(status=status or None),
            "status": status,
            "statuses": PublicReport.Status.choices,
            "open_count": queries.open_report_count(),
            "now": timezone.now(),
        },
    )


def _report(report_id: int) -> PublicReport:
    report = queries.report_for_page(report_id)
    if report is None:
        raise Http404
    return report


@never_cache
@require_role(*permissions.roles_for("report.read"))
def report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    """Show one report: what it names, the reporter's text and images, its clock, and what can be done."""
    return render(request, "console/report.html", _detail_context(request, _report(report_id)))


def _detail_context(request, report, *, resolve_form=None, dismiss_form=None) -> dict:
    may_handle = permissions.may(request.user, "report.handle") and report.is_open
    return {
        "report": report,
        "row": queries.report_row(report),
        "may_handle": may_handle,
        "resolve_form": resolve_form or (ResolveForm() if may_handle else None),
        "dismiss_form": dismiss_form or (DismissForm() if may_handle else None),
        "stream_actions": list(report.stream.actions.order_by("-at")[:20]) if report.stream_id else [],
    }


@require_POST
@require_role(*permissions.roles_for("report.handle"))
def report_claim(request: HttpRequest, report_id: int) -> HttpResponse:
    """Take the report: its first response."""
    report = _report(report_id)
    try:
        actions.claim_report(report, actor=request.user)
    except actions.ModerationError as exc:
        messages.error(request, _("The report could not be claimed: %s") % exc)
    return redirect("console:report", report_id=report.pk)


@require_POST
@require_role(*permissions.roles_for("report.handle"))
def report_resolve(request: HttpRequest, report_id: int) -> HttpResponse:
    """Resolve the report with a measure on its stream (taken now, or one taken already)."""
    report = _report(report_id)
    form = ResolveForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.resolve_report(
                report,
                actor=request.user,
                measure=data["measure"],
                reason=data["reason"],
                note=data["note"],
                action_id=data["action"],
            )
        except actions.ModerationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The report was resolved."))
            return redirect("console:report", report_id=report.pk)
    context = _detail_context(request, report, resolve_form=form)
    return render(request, "console/report.html", context, status=400)


@require_POST
@require_role(*permissions.roles_for("report.handle"))
def report_dismiss(request: HttpRequest, report_id: int) -> HttpResponse:
    """Close the report without a measure, with the reason."""
    report = _report(report_id)
    form = DismissForm(request.POST)
    if form.is_valid():
        try:
            actions.dismiss_report(report, actor=request.user, note=form.cleaned_data["note"])
        except actions.ModerationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The report was dismissed."))
            return redirect("console:report", report_id=report.pk)
    context = _detail_context(request, report, dismiss_form=form)
    return render(request, "console/report.html", context, status=400)


@require_GET
@require_role(*permissions.roles_for("report.read"))
def report_image(request: HttpRequest, image_id: int) -> FileResponse:
    """Serve a reporter's image to staff: as the image type its bytes showed, never as a page."""
    image = ReportImage.objects.filter(pk=image_id).first()
    if image is None or not image.file:
        raise Http404
    try:
        handle = image.file.open("rb")
    except (OSError, IdentityCipherError):  # missing, or changed on disk since it was encrypted
        raise Http404 from None
    name = image.file.name.rsplit("/", 1)[-1]
    return stored_file_response(
        handle, content_type=image.content_type, filename=name, cache_control="private, max-age=3600"
    )
