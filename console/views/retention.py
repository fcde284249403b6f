"""The records pages (docs/records.md): exports for inspections, with their progress and download."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from accounts.roles import require_role
from console.forms.retention import InspectionExportForm, LegalHoldForm, RetentionForm
from moderation import actions, permissions, retention
from moderation.models import InspectionExport, LegalHold, RecordKind


@never_cache
@require_role(*permissions.roles_for("records.export"))
def exports(request: HttpRequest) -> HttpResponse:
    """List the exports for inspections and request a new one (a period and the kinds of record)."""
    form = InspectionExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        export = actions.request_inspection_export(
            actor=request.user,
            period_start=form.cleaned_data["period_start"],
            period_end=form.cleaned_data["period_end"],
            kinds=form.cleaned_data["kinds"],
        )
        messages.success(request, _("The export is being built; this page offers it when it is ready."))
        return redirect(f"{request.path}#export-{export.pk}")
    listed = InspectionExport.objects.select_related("requested_by").order_by("-requested_at", "-id")[:50]
    return render(
        request,
        "console/exports.html",
        {"form": form, "exports": list(listed)},
        status=400 if form.errors else 200,
    )


@never_cache
@require_role(*permissions.roles_for("records.export"))
def export_progress(request: HttpRequest, export_id: int) -> JsonResponse:
    """The export's status and progress, for the page's poll."""
    export = get_object_or_404(InspectionExport, pk=export_id)
    return JsonResponse(
        {
            "id": export.pk,
            "status": export.status,
            "percent": export.progress_percent,
            "finished": export.status in {InspectionExport.Status.READY, InspectionExport.Status.FAILED},
        }
    )


@require_role(*permissions.roles_for("records.export"))
def export_download(request: HttpRequest, export_id: int) -> HttpResponse:
    """Download a ready export (the download is logged)."""
    export = get_object_or_404(InspectionExport, pk=export_id)
    try:
        actions.record_export_download(export, actor=request.user)
    except actions.ModerationError:
        raise Http404 from None
    return FileResponse(export.file.open("rb"), as_attachment=True, filename=f"liveward-export-{export.pk}.zip")


HOLD_ERRORS = {
    "unknown_target": _("No such publisher or stream: nothing is held."),
    "unbounded": _("Give both the start and the end of the period."),
    "reversed": _("The period ends before it starts."),
    "missing_field": _("A legal hold needs a reason."),
}


@never_cache
@require_role(*permissions.roles_for("retention.read"))
def retention_page(request: HttpRequest) -> HttpResponse:
    """Show how long each kind of record is kept and the legal holds; compliance admins change them."""
    may_manage = permissions.may(request.user, "records.manage")
    which = request.POST.get("form")
    rule_form = RetentionForm(request.POST if which == "rule" else None)
    hold_form = LegalHoldForm(request.POST if which == "hold" else None)
    if request.method == "POST":
        if not may_manage:
            return HttpResponse(status=403)
        if which == "rule" and rule_form.is_valid():
            actions.set_retention(
                rule_form.cleaned_data["kind"], days=rule_form.cleaned_data["days"], actor=request.user
            )
            messages.success(request, _("Retention saved."))
            return redirect("console:retention")
        if which == "hold" and hold_form.is_valid():
            data = hold_form.cleaned_data
            try:
                actions.place_legal_hold(
                    data["scope"],
                    actor=request.user,
                    reason=data["reason"],
                    publisher_id=data["publisher"],
                    stream_id=data["stream"],
                    period_start=data["period_start"],
                    period_end=data["period_end"],
                )
            except actions.ModerationError as exc:
                hold_form.add_error(None, HOLD_ERRORS.get(exc.code, str(exc)))
            else:
                messages.success(request, _("Legal hold placed."))
                return redirect("console:retention")
        if which == "release":
            try:
                actions.release_legal_hold(int(request.POST.get("hold", "0") or 0), actor=request.user)
            except (actions.ModerationError, ValueError):
                messages.error(request, _("No such legal hold in force."))
            else:
                messages.success(request, _("Legal hold released."))
            return redirect("console:retention")
    days = retention.retention_days()
    return render(
        request,
        "console/retention.html",
        {
            "rules": [(kind, label, days[kind]) for kind, label in RecordKind.choices],
            "holds": list(LegalHold.objects.select_related("publisher", "stream", "created_by", "released_by")[:100]),
            "rule_form": rule_form,
            "hold_form": hold_form,
            "may_manage": may_manage,
        },
        status=400 if rule_form.errors or hold_form.errors else 200,
    )
