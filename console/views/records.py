"""The records pages (docs/records.md): exports for inspections, with their progress and download."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from accounts.roles import require_role
from console.forms.records import InspectionExportForm
from moderation import actions, permissions
from moderation.models import InspectionExport


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
