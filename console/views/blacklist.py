"""The blacklist's pages (黑名单): search, add, an entry with its removal, the export to the office.

Compliance admins change the blacklist; inspectors read it and download the exports. Every change
goes through moderation.actions; a refused change is a form error and writes nothing.
"""

from __future__ import annotations

from datetime import datetime, time

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.roles import require_role
from console.forms.blacklist import EntryForm, ExportForm, RemovalRequestForm
from moderation import actions, permissions, queries
from moderation.identity import RESIDENT_ID, IdentityError, Kind, hash_of
from moderation.models import BlacklistEntry, BlacklistExport

PAGE_SIZE = 50

# Domain error codes → what the form says.
_ERROR_TEXT = {
    "duplicate_entry": _("This identity is blacklisted already."),
    "same_admin": _("A second compliance admin must decide this removal."),
    "removal_pending": _("A removal is requested already."),
    "removal_not_requested": _("No removal is requested for this entry."),
    "missing_field": _("Give a reason."),
    "forbidden": _("Only a compliance admin may change the blacklist."),
}


def _error_text(error: actions.ModerationError) -> str:
    return str(_ERROR_TEXT.get(error.code, error))


def search_entries(text: str, entries):
    """Filter by reference, or by the keyed hash of the text read as any identity kind."""
    text = text.strip()
    if not text:
        return entries
    hashes = []
    for kind in Kind.ALL:
        try:
            hashes.append(hash_of(kind, text))
        except IdentityError:
            continue
    return entries.filter(reference__iexact=text) | entries.filter(value_hash__in=hashes)


@never_cache
@require_role(*permissions.roles_for("blacklist.read"))
def blacklist(request: HttpRequest) -> HttpResponse:
    """List and search the blacklist."""
    status = request.GET.get("status", "")
    report = request.GET.get("report", "")
    status = status if status in BlacklistEntry.Status.values else ""
    report = report if report in BlacklistEntry.Report.values else ""
    query = request.GET.get("q", "")[:140]
    entries = search_entries(query, queries.blacklist_entries_for_page(status=status, report=report))
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "console/blacklist.html",
        {
            "page": page,
            "query": query,
            "status": status,
            "report": report,
            "statuses": BlacklistEntry.Status.choices,
            "reports": BlacklistEntry.Report.choices,
            "may_change": permissions.may(request.user, "blacklist.change"),
            "removals_waiting": queries.blacklist_removals_waiting(),
        },
    )


@never_cache
@require_role(*permissions.roles_for("blacklist.change"))
def blacklist_add(request: HttpRequest) -> HttpResponse:
    """Add an entry in two steps: a preview of the accounts it closes and the streams it cuts, then the confirmation."""
    form = EntryForm(request.POST or None, initial={"source_action": request.GET.get("action")})
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        preview = queries.blacklist_preview(
            data["kind"], data["value"], document_type=data["document_type"] or RESIDENT_ID
        )
        confirmed = "confirm" in request.POST and data["preview"] == preview.fingerprint
        if confirmed:
            entry = _add_entry(request, form)
            if entry is not None:
                return redirect("console:blacklist-entry", reference=entry.reference)
        else:
            if "confirm" in request.POST:
                messages.warning(request, _("Who this entry affects has changed since the preview: check it again."))
            form = EntryForm({**request.POST.dict(), "preview": preview.fingerprint})
            form.is_valid()
    return render(request, "console/blacklist_add.html", {"form": form, "preview": preview})


def _add_entry(request: HttpRequest, form: EntryForm) -> BlacklistEntry | None:
    data = form.cleaned_data
    expires_at = None
    if data["expires_on"]:
        expires_at = timezone.make_aware(datetime.combine(data["expires_on"], time.min))
    source = data["source_action"]
    try:
        entry = actions.add_blacklist_entry(
            data["kind"],
            data["value"],
            document_type=data["document_type"] or RESIDENT_ID,
            actor=request.user,
            reason=data["reason"],
            note=data["note"],
            expires_at=expires_at,
            source_action=source,
            source_publisher=source.publisher if source else None,
        )
    except actions.ModerationError as error:
        form.add_error(None, _error_text(error))
        return None
    messages.success(
        request,
        _("Blacklisted as %(reference)s; %(count)s account(s) closed.")
        % {"reference": entry.reference, "count": len(entry.closed_publisher_ids)},
    )
    return entry


@never_cache
@require_role(*permissions.roles_for("blacklist.read"))
def blacklist_entry(request: HttpRequest, reference: str) -> HttpResponse:
    """Show an entry, the accounts it closed and its removal; admins request or decide a removal."""
    entry = get_object_or_404(
        BlacklistEntry.objects.select_related(
            "author", "source_action", "source_publisher", "removal_requested_by", "removed_by", "export"
        ),
        reference=reference,
    )
    closures = entry.closures.select_related("publisher", "action").order_by("closed_at", "pk")
    may_change = permissions.may(request.user, "blacklist.change")
    return render(
        request,
        "console/blacklist_entry.html",
        {
            "entry": entry,
            "closures": closures,
            "may_change": may_change,
            "in_force": entry.in_force(),
            "removal_form": RemovalRequestForm(),
            "may_decide": may_change and entry.removal_requested_by_id not in (None, request.user.pk),
        },
    )


@require_POST
@require_role(*permissions.roles_for("blacklist.change"))
def blacklist_removal(request: HttpRequest, reference: str) -> HttpResponse:
    """Request, approve or reject an entry's removal (approve/reject: not the requester)."""
    entry = get_object_or_404(BlacklistEntry, reference=reference)
    decision = request.POST.get("decision", "request")
    try:
        if decision == "approve":
            actions.approve_blacklist_removal(
                entry, actor=request.user, reopen_accounts=request.POST.get("reopen") == "1"
            )
            messages.success(request, _("The entry is removed."))
        elif decision == "reject":
            actions.reject_blacklist_removal(entry, actor=request.user)
            messages.success(request, _("The removal is turned down; the entry stays."))
        else:
            form = RemovalRequestForm(request.POST)
            if not form.is_valid():
                raise actions.ModerationError("a removal needs a reason", code="missing_field")
            actions.request_blacklist_removal(entry, actor=request.user, reason=form.cleaned_data["reason"])
            messages.success(request, _("Removal requested; a second compliance admin must approve it."))
    except actions.ModerationError as error:
        messages.error(request, _error_text(error))
    return redirect("console:blacklist-entry", reference=entry.reference)


@never_cache
@require_role(*permissions.roles_for("blacklist.read"))
def blacklist_export(request: HttpRequest) -> HttpResponse:
    """Export a period's blacklistings for the provincial office; list earlier exports."""
    today = timezone.localdate()
    form = ExportForm(request.POST or None, initial={"period_start": today.replace(day=1), "period_end": today})
    may_change = permissions.may(request.user, "blacklist.change")
    if request.method == "POST":
        if not may_change:
            return render(request, "403.html", status=403)
        if form.is_valid():
            try:
                export = actions.export_blacklist(
                    actor=request.user,
                    period_start=form.cleaned_data["period_start"],
                    period_end=form.cleaned_data["period_end"],
                )
            except actions.ModerationError as error:
                form.add_error(None, _error_text(error))
            else:
                messages.success(
                    request,
                    _("Exported %(count)s blacklisting(s); unreported ones are now marked reported.")
                    % {"count": export.entry_count},
                )
                return redirect("console:blacklist-export")
    return render(
        request,
        "console/blacklist_export.html",
        {
            "form": form,
            "may_change": may_change,
            "exports": BlacklistExport.objects.select_related("created_by")[:50],
            "overdue": queries.overdue_unreported_blacklistings().count(),
        },
    )


@never_cache
@require_role(*permissions.roles_for("blacklist.read"))
def blacklist_export_file(request: HttpRequest, export_id: int, part: str) -> HttpResponse:
    """Download an export's CSV, XLSX or SHA-256 manifest."""
    export = get_object_or_404(BlacklistExport, pk=export_id)
    if part == "manifest":
        response = HttpResponse(export.manifest, content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{export.csv_file.name.rsplit("/", 1)[-1][:-4]}.sha256"'
        )
        return response
    field = {"csv": export.csv_file, "xlsx": export.xlsx_file}.get(part)
    if field is None:
        raise Http404
    return FileResponse(field.open("rb"), as_attachment=True, filename=field.name.rsplit("/", 1)[-1])
