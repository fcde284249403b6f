"""Reports to the authorities (Art. 14): the list (inspectors read it), filing, states, the signed package."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import require_role
from moderation import actions, authority_package, permissions, queries
from moderation.actions.authority_reports import SUMMARY_MAX
from moderation.text_input import TextInputForm


class FileForm(TextInputForm, forms.Form):
    stream = forms.IntegerField(label=gettext_lazy("Stream number"), min_value=1)
    summary = forms.CharField(
        label=gettext_lazy("Summary of the violation"), max_length=SUMMARY_MAX, widget=forms.Textarea(attrs={"rows": 5})
    )


class AcknowledgementForm(TextInputForm, forms.Form):
    acknowledgement = forms.CharField(label=gettext_lazy("Regulator's acknowledgement"), max_length=200)


@never_cache
@require_role(*permissions.roles_for("authority_report.read"))
def authority_report_list(request: HttpRequest, form: FileForm | None = None, status: int = 200) -> HttpResponse:
    """List the reports to the authorities; a compliance admin files one here."""
    may_file = permissions.may(request.user, "authority_report.file")
    initial = {"stream": request.GET.get("stream")} if (request.GET.get("stream") or "").isdigit() else {}
    context = {
        "reports": queries.authority_reports_for_page(),
        "form": form or (FileForm(initial=initial) if may_file else None),
        "key_id": authority_package.key_id(authority_package.signing_key().public_key()),
    }
    return render(request, "console/authority_reports.html", context, status=status)


@require_POST
@require_role(*permissions.roles_for("authority_report.file"))
def authority_report_file(request: HttpRequest) -> HttpResponse:
    form = FileForm(request.POST)
    if form.is_valid():
        try:
            report = actions.file_authority_report(
                actor=request.user, stream_id=form.cleaned_data["stream"], summary=form.cleaned_data["summary"]
            )
        except actions.ModerationError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("console:authority-report", report_id=report.pk)
    return authority_report_list(request, form=form, status=400)


def _report(report_id: int):
    report = queries.authority_report_for_page(report_id)
    if report is None:
        raise Http404
    return report


@never_cache
@require_role(*permissions.roles_for("authority_report.read"))
def authority_report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    report = _report(report_id)
    may_file = permissions.may(request.user, "authority_report.file")
    context = {
        "report": report,
        "content": report.content.get("report", {}),
        "may_file": may_file,
        "ack_form": AcknowledgementForm() if may_file else None,
    }
    return render(request, "console/authority_report.html", context)


@require_POST
@require_role(*permissions.roles_for("authority_report.file"))
def authority_report_state(request: HttpRequest, report_id: int) -> HttpResponse:
    """Move the report on: submitted to the regulator, or acknowledged by it."""
    report = _report(report_id)
    try:
        if request.POST.get("to") == "submitted":
            actions.mark_authority_report_submitted(report, actor=request.user)
        elif request.POST.get("to") == "acknowledged":
            form = AcknowledgementForm(request.POST)
            acknowledgement = form.cleaned_data["acknowledgement"] if form.is_valid() else ""
            actions.mark_authority_report_acknowledged(report, actor=request.user, acknowledgement=acknowledgement)
        else:
            raise actions.ModerationError("unknown state", code="bad_field")
    except actions.ModerationError as exc:
        messages.error(request, _("The report's state could not be changed: %s") % exc)
    return redirect("console:authority-report", report_id=report.pk)


@require_GET
@require_role(*permissions.roles_for("authority_report.read"))
def authority_report_package(request: HttpRequest, report_id: int) -> HttpResponse:
    """Download the signed package (zip with manifest and signature) for the regulator's channel."""
    report = _report(report_id)
    response = HttpResponse(authority_package.build_package(report.content), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{report.reference}.zip"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@require_role(*permissions.roles_for("authority_report.read"))
def authority_report_public_key(request: HttpRequest) -> HttpResponse:
    """The packages' public key (PEM): the regulator verifies a package with it alone (docs/reports.md)."""
    response = HttpResponse(authority_package.public_key_pem(), content_type="application/x-pem-file")
    response["Content-Disposition"] = 'attachment; filename="liveward-authority-public-key.pem"'
    response["Cache-Control"] = "private, no-store"
    return response
