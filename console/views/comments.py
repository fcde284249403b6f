"""The comment pages: the hold queue (评论审核) and the sensitive-term list (敏感词库) with its versions,
import, export and test box.

Compliance admins change the list; inspectors read it. Every change goes through moderation.actions
(a new list version each time); a refused change is a form error or a message and writes nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.roles import require_role
from console.forms.comments import (
    DeleteCommentsForm,
    MuteForm,
    TermChangeForm,
    TermForm,
    TermImportForm,
    TermTestForm,
    UnmuteForm,
)
from moderation import actions, permissions, queries, sensitive_terms
from moderation.models import Comment, ReasonCode, SensitiveTerm, Stream, TermListVersion, ViewerMute

PAGE_SIZE = 100


def _filters(request: HttpRequest) -> dict:
    category = request.GET.get("category", "")
    action = request.GET.get("action", "")
    enabled = request.GET.get("enabled", "")
    return {
        "q": request.GET.get("q", "")[:64],
        "category": category if category in SensitiveTerm.Category.values else "",
        "action": action if action in SensitiveTerm.Action.values else "",
        "enabled": enabled if enabled in ("1", "0") else "",
    }


def _explain(sample: str) -> dict:
    """The test box's answer: the normalised text with its matched stretches marked, and the verdict."""
    explained = sensitive_terms.current_matcher().explain(sample)
    normalised = explained["normalised"]
    marks = [False] * len(normalised)
    for span in explained["spans"]:
        for position in range(span["start"], span["end"]):
            marks[position] = True
    pieces, start = [], 0
    for position in range(1, len(normalised) + 1):
        if position == len(normalised) or marks[position] != marks[start]:
            pieces.append({"text": normalised[start:position], "matched": marks[start]})
            start = position
    seen, hits = set(), []
    for span in explained["spans"]:
        if span["term"] not in seen:
            seen.add(span["term"])
            hits.append(span)
    return {**explained, "pieces": pieces, "hits": hits}


@never_cache
@require_role(*permissions.roles_for("terms.read"))
def terms(request: HttpRequest) -> HttpResponse:
    """List and search the sensitive terms; add one, import a file, try a sample text."""
    may_manage = permissions.may(request.user, "terms.manage")
    form = TermForm()
    if request.method == "POST":
        if not may_manage:
            return render(request, "403.html", status=403)
        form = TermForm(request.POST)
        if form.is_valid():
            try:
                term = actions.add_term(
                    form.cleaned_data["term"],
                    category=form.cleaned_data["category"],
                    action=form.cleaned_data["action"],
                    actor=request.user,
                )
            except actions.ModerationError as error:
                form.add_error("term", str(error))
            else:
                messages.success(
                    request,
                    _("Added %(term)s; the list is now version %(version)s.")
                    % {"term": term.term, "version": term.changed_in_version},
                )
                return redirect("console:terms")
    filters = _filters(request)
    listed = queries.sensitive_terms_for_page(**filters)
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    test = TermTestForm(request.GET if "sample" in request.GET else None)
    explained = _explain(test.cleaned_data["sample"]) if test.is_bound and test.is_valid() else None
    return render(
        request,
        "console/terms.html",
        {
            "page": page,
            "filters": filters,
            "form": form,
            "import_form": TermImportForm(),
            "test_form": test,
            "explained": explained,
            "versions": queries.term_list_versions()[:20],
            "version": sensitive_terms.stored_version(),
            "categories": SensitiveTerm.Category.choices,
            "term_actions": SensitiveTerm.Action.choices,
            "may_manage": may_manage,
        },
    )


@require_POST
@require_role(*permissions.roles_for("terms.manage"))
def term_change(request: HttpRequest, term_id: int) -> HttpResponse:
    """Change a term's category, action, or enable or disable it."""
    term = get_object_or_404(SensitiveTerm, pk=term_id)
    form = TermChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The change was not saved: choose a category and an action."))
        return redirect("console:terms")
    try:
        term = actions.change_term(
            term,
            category=form.cleaned_data["category"],
            action=form.cleaned_data["action"],
            enabled=form.cleaned_data["enabled"],
            actor=request.user,
        )
    except actions.ModerationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Saved %(term)s.") % {"term": term.term})
    return redirect(request.POST.get("next") if _safe_next(request) else "console:terms")


def _safe_next(request: HttpRequest) -> bool:
    target = request.POST.get("next", "")
    return target.startswith("/comments/terms/") and "//" not in target


@require_POST
@require_role(*permissions.roles_for("terms.manage"))
def terms_import(request: HttpRequest) -> HttpResponse:
    """Import a term file: all of it, or none of it with every bad line named."""
    form = TermImportForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("console:terms")
    try:
        outcome = actions.import_terms(
            form.cleaned_data["file"].read(),
            default_category=form.cleaned_data["default_category"],
            default_action=form.cleaned_data["default_action"],
            actor=request.user,
        )
    except actions.TermFileRefused as refused:
        messages.error(request, _("The file was not imported; nothing changed."))
        for line, problem in refused.problems[:20]:
            messages.error(request, _("Line %(line)s: %(problem)s") % {"line": line, "problem": problem})
    except actions.ModerationError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Imported: %(added)s added, %(changed)s changed, %(unchanged)s unchanged; version %(version)s.")
            % {
                "added": outcome.added,
                "changed": outcome.changed,
                "unchanged": outcome.unchanged,
                "version": outcome.version,
            },
        )
    return redirect("console:terms")


@never_cache
@require_role(*permissions.roles_for("terms.read"))
def terms_version_file(request: HttpRequest, number: int) -> HttpResponse:
    """Download the enabled terms as they were in one version of the list."""
    version = get_object_or_404(TermListVersion, number=number)
    header = f"# Liveward sensitive terms, version {version.number} ({version.created_at:%Y-%m-%d %H:%M} UTC)\n"
    response = HttpResponse((header + version.terms_file).encode(), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="liveward-terms-v{version.number}.txt"'
    return response


@never_cache
@require_role(*permissions.roles_for("terms.read"))
def terms_export(request: HttpRequest) -> HttpResponse:
    """Download the whole list as a term file (logged)."""
    content = actions.export_terms(actor=request.user)
    response = HttpResponse(content, content_type="text/plain; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="liveward-terms-{stamp}.txt"'
    return response


def hold_queue_strings() -> dict:
    """The hold queue's texts for its script, translated for the page's language."""
    return {
        "release": str(_("Release")),
        "reject": str(_("Reject")),
        "release_stream": str(_("Release all of this stream")),
        "reject_stream": str(_("Reject all of this stream")),
        "empty": str(_("No comment is held.")),
        "no_frame": str(_("No frame yet")),
        "decided": str(_("%(count)s comment(s) decided.")),
        "error_forbidden": str(_("Your role may not decide this hold.")),
        "mute": str(_("Mute viewer")),
        "delete_comments": str(_("Delete viewer's recent comments")),
        "muted": str(_("%(viewer)s is muted until %(until)s.")),
        "deleted": str(_("%(count)s comment(s) deleted.")),
        "error_other": str(_("Refused: %(code)s")),
        "reasons": {value: str(label) for value, label in Comment.HoldReason.choices if value},
    }


@never_cache
@require_role(*permissions.roles_for("comments.queue"))
def hold_queue(request: HttpRequest) -> HttpResponse:
    """Show the held comments of every hold reason, grouped by stream, live over the WebSocket."""
    held = list(queries.held_comments(limit=500))
    rows = [queries.comment_row(comment) for comment in held]
    may_decide = permissions.decidable_hold_reasons(request.user)
    return render(
        request,
        "console/hold_queue.html",
        {
            "held": held,
            "config": {
                "strings": hold_queue_strings(),
                "rows": rows,
                "mayDecide": may_decide,
                "mayMeasure": permissions.may(request.user, "viewer.measure"),
            },
            "may_measure": permissions.may(request.user, "viewer.measure"),
            "reasons": [(value, label) for value, label in ReasonCode.choices if value != ReasonCode.PATROLLED],
        },
    )


@never_cache
@require_role(*permissions.roles_for("viewer.measure"))
def viewer_mutes(request: HttpRequest) -> HttpResponse:
    """List the mutes in force with their expiry; mute a viewer (on a stream or everywhere)."""
    form = MuteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        stream = None
        if form.cleaned_data["stream"]:
            stream = Stream.objects.filter(pk=form.cleaned_data["stream"]).first()
            if stream is None:
                form.add_error("stream", _("No such stream."))
        if not form.errors:
            try:
                mute = actions.mute_viewer(
                    form.cleaned_data["viewer_id"],
                    stream=stream,
                    minutes=form.cleaned_data["minutes"],
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                    actor=request.user,
                )
            except actions.ModerationError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    _("%(viewer)s is muted until %(until)s.")
                    % {"viewer": mute.viewer_id, "until": timezone.localtime(mute.until).strftime("%Y-%m-%d %H:%M")},
                )
                return redirect("console:viewer-mutes")
    query = request.GET.get("viewer", "")[:64]
    return render(
        request,
        "console/viewer_mutes.html",
        {"form": form, "mutes": queries.active_mutes(viewer_id=query or None)[:500], "query": query},
    )


@require_POST
@require_role(*permissions.roles_for("viewer.measure"))
def viewer_unmute(request: HttpRequest, mute_id: int) -> HttpResponse:
    """Lift a mute, with the reason given."""
    mute = get_object_or_404(ViewerMute, pk=mute_id)
    form = UnmuteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the mute is lifted."))
        return redirect("console:viewer-mutes")
    try:
        actions.unmute_viewer(mute, note=form.cleaned_data["note"], actor=request.user)
    except actions.ModerationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The mute of %(viewer)s is lifted.") % {"viewer": mute.viewer_id})
    return redirect("console:viewer-mutes")


@require_POST
@require_role(*permissions.roles_for("viewer.measure"))
def stream_viewer_measure(request: HttpRequest, stream_id: int) -> HttpResponse:
    """From the stream page: mute a viewer on this stream, or delete their recent comments on it."""
    stream = get_object_or_404(Stream, pk=stream_id)
    delete = request.POST.get("measure") == "delete"
    form = DeleteCommentsForm(request.POST) if delete else MuteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The measure was not taken: check the viewer, minutes and reason."))
        return redirect("console:stream", stream_id=stream.pk)
    fields = form.cleaned_data
    try:
        if delete:
            removed = actions.delete_recent_comments(
                fields["viewer_id"],
                stream=stream,
                minutes=fields["minutes"],
                reason=fields["reason"],
                actor=request.user,
            )
            messages.success(request, _("%(count)s comment(s) deleted.") % {"count": len(removed)})
        else:
            actions.mute_viewer(
                fields["viewer_id"],
                stream=stream,
                minutes=fields["minutes"],
                reason=fields["reason"],
                note=fields["note"],
                actor=request.user,
            )
            messages.success(request, _("%(viewer)s is muted on this stream.") % {"viewer": fields["viewer_id"]})
    except actions.ModerationError as error:
        messages.error(request, str(error))
    return redirect("console:stream", stream_id=stream.pk)


def comment_pressure_for_page(stream: Stream) -> dict:
    """The stream page's comment figures: rate and shares, and whether they pass the pressure threshold."""
    pressure = queries.comment_pressure(stream.pk, at=timezone.now())
    pressure["under_pressure"] = pressure["per_minute"] >= settings.LIVEWARD_COMMENT_PRESSURE_PER_MINUTE
    pressure["threshold"] = settings.LIVEWARD_COMMENT_PRESSURE_PER_MINUTE
    return pressure


@require_POST
@require_role(*permissions.roles_for("comments.slow_mode"))
def stream_slow_mode(request: HttpRequest, stream_id: int) -> HttpResponse:
    """Switch a stream's comments to hold-all (slow mode) and back."""
    stream = get_object_or_404(Stream, pk=stream_id)
    hold_all = request.POST.get("hold_all") == "1"
    try:
        actions.set_comment_slow_mode(
            stream, hold_all=hold_all, note=request.POST.get("note", "")[:300], actor=request.user
        )
    except actions.ModerationError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Every comment is now held for review.") if hold_all else _("Comments are filtered as usual again."),
        )
    return redirect("console:stream", stream_id=stream.pk)
