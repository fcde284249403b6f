"""The console's onboarding pages: the manual verification review queue, its scans (staff only), the agreement."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import require_role
from console.file_responses import stored_file_response
from console.forms.blacklist import ExportForm
from console.forms.verification import AgreementForm, VerificationDecisionForm
from moderation import actions, permissions, queries
from moderation.identity_cipher import IdentityCipherError
from moderation.models import FilingExport, Publisher, VerificationDocument, VerificationReview


@never_cache
@require_role(*permissions.roles_for("verification.read"))
def review_list(request: HttpRequest) -> HttpResponse:
    """List manual verification reviews, open ones first; new ones arrive over the console's WebSocket."""
    status = request.GET.get("status") or ""
    if status not in VerificationReview.Status.values:
        status = ""
    reviews = list(queries.verification_reviews_for_console(status or None)[:200])
    return render(
        request,
        "console/verification_reviews.html",
        {
            "reviews": reviews,
            "status": status,
            "statuses": VerificationReview.Status.choices,
            "open_count": queries.open_verification_review_count(),
        },
    )


@never_cache
@require_role(*permissions.roles_for("verification.read"))
def review_detail(request: HttpRequest, review_id: int) -> HttpResponse:
    """Show a review with its scans; a compliance admin approves or rejects it (four-eyes for organisations)."""
    review = queries.verification_reviews_for_console().filter(pk=review_id).first()
    if review is None:
        raise Http404
    open_statuses = (VerificationReview.Status.PENDING, VerificationReview.Status.FIRST_APPROVED)
    may_decide = permissions.may(request.user, "verification.review") and review.status in open_statuses
    form = VerificationDecisionForm() if may_decide else None
    status = 200
    if request.method == "POST":
        if not may_decide:
            return HttpResponse(status=403)
        form = VerificationDecisionForm(request.POST)
        if form.is_valid():
            try:
                actions.decide_verification_review(
                    review,
                    actor=request.user,
                    approve=form.cleaned_data["decision"] == "approve",
                    note=form.cleaned_data["note"],
                )
            except actions.ModerationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Review decided; the platform is notified."))
                return redirect("console:verification-review", review_id=review.pk)
        status = 400
    return render(
        request,
        "console/verification_review.html",
        {
            "review": review,
            "documents": list(review.documents.all()),
            "reports": list(review.publisher.verification_reports.order_by("-performed_at", "-id")[:20]),
            "form": form,
            "second_needed": review.status == VerificationReview.Status.FIRST_APPROVED,
            "approved_once_here": review.first_approved_by_id == request.user.pk,
        },
        status=status,
    )


@require_GET
@require_role(*permissions.roles_for("verification.read"))
def review_document(request: HttpRequest, document_id: int) -> FileResponse:
    """Serve one scan to staff who may read verification records, never from a public directory."""
    document = VerificationDocument.objects.filter(pk=document_id).first()
    if document is None or not document.file:
        raise Http404
    try:
        handle = document.file.open("rb")
    except (OSError, IdentityCipherError):  # missing, or changed on disk since it was encrypted
        raise Http404 from None
    name = document.file.name.rsplit("/", 1)[-1]
    return stored_file_response(
        handle, content_type=document.content_type, filename=name, cache_control="private, no-store"
    )


# --- the service agreement (服务协议, Art. 13) ---------------------------------------------------


@never_cache
@require_role(*permissions.roles_for("agreement.read"))
def agreements(request: HttpRequest) -> HttpResponse:
    """List agreement versions with how many accounts accepted each; a compliance admin publishes a new one."""
    may_publish = permissions.may(request.user, "agreement.manage")
    form = AgreementForm() if may_publish else None
    status = 200
    if request.method == "POST":
        if not may_publish:
            return HttpResponse(status=403)
        form = AgreementForm(request.POST)
        if form.is_valid():
            try:
                actions.publish_agreement(actor=request.user, **form.cleaned_data)
            except actions.ModerationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("New agreement version published."))
                return redirect("console:agreements")
        status = 400
    rows = queries.agreements_for_console()
    latest = rows[0]["agreement"] if rows else None
    return render(
        request,
        "console/agreements.html",
        {
            "rows": rows,
            "latest": latest,
            "not_accepted": queries.publishers_not_accepting(latest.version) if latest else 0,
            "form": form,
        },
        status=status,
    )


# --- 分类备案: the filing export for the provincial office ---------------------------------------


@never_cache
@require_role(*permissions.roles_for("verification.read"))
def filing(request: HttpRequest) -> HttpResponse:
    """Export the publishers new or changed in a period for the provincial office; list earlier filings."""
    today = timezone.localdate()
    form = ExportForm(request.POST or None, initial={"period_start": today.replace(day=1), "period_end": today})
    may_export = permissions.may(request.user, "filing.export")
    if request.method == "POST":
        if not may_export:
            return HttpResponse(status=403)
        if form.is_valid():
            try:
                export = actions.export_filing(actor=request.user, **form.cleaned_data)
            except actions.ModerationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("Filed %(count)s publisher(s); they are marked filed.") % {"count": export.publisher_count},
                )
                return redirect("console:filing")
    return render(
        request,
        "console/filing.html",
        {
            "form": form,
            "may_export": may_export,
            "exports": FilingExport.objects.select_related("created_by")[:50],
            "unfiled": Publisher.objects.filter(
                verification=Publisher.Verification.VERIFIED, filing=Publisher.Filing.NOT_FILED
            ).count(),
        },
    )


@require_GET
@require_role(*permissions.roles_for("verification.read"))
def filing_file(request: HttpRequest, export_id: int, part: str) -> HttpResponse:
    """Download a filing's CSV, XLSX or SHA-256 manifest."""
    export = FilingExport.objects.filter(pk=export_id).first()
    if export is None:
        raise Http404
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


@require_POST
@require_role(*permissions.roles_for("filing.manage"))
def publisher_filing_category(request: HttpRequest, publisher_id: int) -> HttpResponse:
    """Correct the category a publisher is filed under; the change goes into the next filing export."""
    publisher = Publisher.objects.filter(pk=publisher_id).first()
    if publisher is None:
        raise Http404
    try:
        actions.set_filing_category(publisher, category=request.POST.get("category", ""), actor=request.user)
    except actions.ModerationError:
        messages.error(request, _("Choose one of the filing categories."))
    else:
        messages.success(request, _("Filing category saved; the next filing export carries it."))
    return redirect("console:publisher", publisher_id=publisher.pk)
