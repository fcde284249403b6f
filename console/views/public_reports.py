"""The public report entrance (投诉举报, Art. 19): a form anyone may use, no login, and its status page.

Nothing the reporter wrote is shown back as markup (templates escape it); images are checked by
their bytes and never shown on these pages. A refused report changes nothing and says why.
"""

from __future__ import annotations

import re

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from console.forms.reports import PublicReportForm
from moderation import actions, queries, report_intake, report_proof
from moderation.models import PublicReport

_RECEIPT = re.compile(report_intake.RECEIPT_PATTERN)

REFUSALS = {
    "rate_limited": gettext_lazy("You have sent many reports in a short time. Please try again later."),
    "unavailable": gettext_lazy("Reports cannot be taken right now. Please try again later."),
    "queue_full": gettext_lazy("Reports cannot be taken right now. Please try again later."),
    "too_many_images": gettext_lazy("Attach at most three images."),
    "image_too_large": gettext_lazy("Each image may be at most 1 MB."),
    "not_an_image": gettext_lazy("Only JPEG, PNG, GIF or WebP images may be attached."),
    "unknown_target": gettext_lazy("We could not find what you are reporting. Please check the number or link."),
    "proof_missing": gettext_lazy("This page needs JavaScript to send a report. Please turn it on and try again."),
    "proof_wrong": gettext_lazy("Your browser's check did not go through. Please send the report again."),
    "proof_stale": gettext_lazy("Your browser's check has expired. Please send the report again."),
    "proof_replayed": gettext_lazy("Your browser's check was used already. Please send the report again."),
}


def _read_images(request: HttpRequest) -> list[bytes]:
    files = request.FILES.getlist("images")
    if len(files) > report_intake.MAX_IMAGES:
        raise report_intake.ReportRefused("too many images", code="too_many_images")
    contents = []
    for upload in files:
        if upload.size > report_intake.MAX_IMAGE_BYTES:
            raise report_intake.ReportRefused("image too large", code="image_too_large")
        contents.append(upload.read(report_intake.MAX_IMAGE_BYTES + 1))
    return contents


@never_cache
def report_form(request: HttpRequest) -> HttpResponse:
    """Show the report form; take a report and send the reporter to its status page."""
    status = 200
    if request.method == "POST":
        form = PublicReportForm(request.POST)
        if form.is_valid():
            try:
                # The browser's proof of work first (cheap to check, nothing stored when wrong); then the
                # limits: a flood of refused reports counts against its sender too.
                report_proof.check(request.POST.get("proof_challenge", ""), request.POST.get("proof_nonce", ""))
                report_intake.count_against_limits(address=request.META.get("REMOTE_ADDR") or "", device_id="")
                images = report_intake.check_images(_read_images(request))
                data = form.cleaned_data
                report = actions.file_report(
                    source=PublicReport.Source.WEB,
                    target_kind=data["target_kind"],
                    target=data["target"],
                    category=data["category"],
                    description=data["description"],
                    contact=data["contact"],
                    address=request.META.get("REMOTE_ADDR") or "",
                    images=images,
                )
            except report_intake.ReportRefused as exc:
                form.add_error(None, REFUSALS.get(exc.code, str(exc)))
                status = exc.status
            except actions.ModerationError as exc:
                form.add_error(None, REFUSALS.get(exc.code, _("The report could not be taken: %s") % exc))
                status = 503 if exc.code == "queue_full" else 400
            else:
                return redirect("report-status", receipt=report.receipt)
        else:
            status = 400
    else:
        form = PublicReportForm(initial={"target_kind": request.GET.get("kind", "stream")})
    return render(request, "public/report.html", {"form": form, "max_images": report_intake.MAX_IMAGES}, status=status)


@never_cache
@require_GET
def report_challenge(request: HttpRequest) -> JsonResponse:
    """A fresh signed challenge for the form's proof of work (static/js/report-proof.js); nothing is stored."""
    return JsonResponse(report_proof.new_challenge())


@never_cache
def report_status(request: HttpRequest, receipt: str) -> HttpResponse:
    """Show a report's steps to its reporter: received, being handled, handled (with what outcome)."""
    if not _RECEIPT.fullmatch(receipt):
        raise Http404
    report = queries.report_by_receipt(receipt)
    if report is None:
        raise Http404
    return render(request, "public/report_status.html", {"report": report, "steps": _steps(report)})


def _steps(report: PublicReport) -> list[dict]:
    Status = PublicReport.Status
    handled = report.status in (Status.RESOLVED, Status.DISMISSED)
    return [
        {"label": _("Received"), "at": report.received_at, "done": True},
        {"label": _("Being handled"), "at": report.first_response_at, "done": report.first_response_at is not None},
        {
            "label": report.get_status_display() if handled else _("Handled"),
            "at": report.decided_at,
            "done": handled,
        },
    ]
