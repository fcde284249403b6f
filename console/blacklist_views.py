"""The blacklist's pages (黑名单): search, add, an entry with its removal, the export to the office.

Compliance admins change the blacklist; inspectors read it and download the exports. Every change
goes through moderation.actions; a refused change is a form error and writes nothing.
"""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.roles import has_role, require_role
from moderation import actions, queries
from moderation.identity import RESIDENT_ID, IdentityError, Kind, hash_of
from moderation.models import BlacklistEntry, BlacklistExport, ModerationAction, Publisher, ReasonCode

READ = actions.BLACKLIST_READ_ROLES
CHANGE = actions.BLACKLIST_CHANGE_ROLES
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


class EntryForm(forms.Form):
    """Add an entry: the identity, why, and for how long."""

    kind = forms.ChoiceField(label=_("Identity kind"), choices=BlacklistEntry.Kind.choices)
    document_type = forms.ChoiceField(
        label=_("Document type"),
        choices=Publisher.DocumentType.choices,
        initial=RESIDENT_ID,
        required=False,
        help_text=_("Only for an identity document."),
    )
    value = forms.CharField(
        label=_("Identity"),
        max_length=140,
        required=False,
        help_text=_(
            "ID number, mobile number (+86 if no country code), device id or platform account. "
            "Leave empty to take it from the source action's publisher."
        ),
    )
    reason = forms.ChoiceField(
        label=_("Reason"), choices=[(v, label) for v, label in ReasonCode.choices if v != ReasonCode.PATROLLED]
    )
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000)
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for a permanent entry."),
    )
    source_action = forms.IntegerField(label=_("Source action (number)"), required=False, min_value=1)

    def clean_source_action(self):
        number = self.cleaned_data.get("source_action")
        if number is None:
            return None
        action = ModerationAction.objects.select_related("publisher").filter(pk=number).first()
        if action is None:
            raise forms.ValidationError(_("No moderation action has this number."))
        return action

    def clean(self):
        data = super().clean()
        kind, value, source = data.get("kind"), data.get("value"), data.get("source_action")
        if kind and not value:
            value = data["value"] = self._publisher_identity(kind, source)
            data["document_type"] = (
                source.publisher.document_type if value and kind == Kind.ID_DOCUMENT else (data.get("document_type"))
            )
            if not value:
                self.add_error("value", _("Give the identity, or a source action whose publisher holds one."))
        if kind and value:
            try:
                hash_of(kind, value, document_type=data.get("document_type") or RESIDENT_ID)
            except IdentityError as exc:
                self.add_error("value", str(exc))
        expires_on = data.get("expires_on")
        if expires_on is not None and expires_on <= timezone.localdate():
            self.add_error("expires_on", _("The expiry must be after today."))
        return data

    @staticmethod
    def _publisher_identity(kind: str, source: ModerationAction | None) -> str:
        """The source publisher's raw value of this kind: the admin blacklists it without seeing it."""
        publisher = source.publisher if source is not None else None
        if publisher is None:
            return ""
        return {
            Kind.ID_DOCUMENT: publisher.document_number,
            Kind.PHONE: publisher.phone,
            Kind.PLATFORM_ACCOUNT: publisher.platform_account_id,
        }.get(kind, "")


class RemovalRequestForm(forms.Form):
    reason = forms.CharField(label=_("Reason for removal"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class ExportForm(forms.Form):
    period_start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_("To (inclusive)"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The period ends before it starts."))
        if start and start > timezone.localdate():
            self.add_error("period_start", _("The period starts in the future."))
        return data


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
@require_role(*READ)
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
            "may_change": has_role(request.user, *CHANGE),
        },
    )


@never_cache
@require_role(*CHANGE)
def blacklist_add(request: HttpRequest) -> HttpResponse:
    """Add an entry; every matching account is closed and cut at once."""
    form = EntryForm(request.POST or None, initial={"source_action": request.GET.get("action")})
    if request.method == "POST" and form.is_valid():
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
        else:
            messages.success(
                request,
                _("Blacklisted as %(reference)s; %(count)s account(s) closed.")
                % {"reference": entry.reference, "count": len(entry.closed_publisher_ids)},
            )
            return redirect("console:blacklist_entry", reference=entry.reference)
    return render(request, "console/blacklist_add.html", {"form": form})


@never_cache
@require_role(*READ)
def blacklist_entry(request: HttpRequest, reference: str) -> HttpResponse:
    """Show an entry, the accounts it closed and its removal; admins request or decide a removal."""
    entry = get_object_or_404(
        BlacklistEntry.objects.select_related(
            "author", "source_action", "source_publisher", "removal_requested_by", "removed_by", "export"
        ),
        reference=reference,
    )
    closures = entry.closures.select_related("publisher", "action").order_by("closed_at", "pk")
    may_change = has_role(request.user, *CHANGE)
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
@require_role(*CHANGE)
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
    return redirect("console:blacklist_entry", reference=entry.reference)


@never_cache
@require_role(*READ)
def blacklist_export(request: HttpRequest) -> HttpResponse:
    """Export a period's blacklistings for the provincial office; list earlier exports."""
    today = timezone.localdate()
    form = ExportForm(request.POST or None, initial={"period_start": today.replace(day=1), "period_end": today})
    may_change = has_role(request.user, *CHANGE)
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
                return redirect("console:blacklist_export")
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
@require_role(*READ)
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
