"""The news pages (docs/news.md): the review queue, one application, the licences."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from accounts.roles import require_role
from console.forms.news import DECISIONS, DecisionForm, PlatformLicenceForm
from moderation import actions, licences, permissions, queries
from moderation.actions import news as actions_news
from moderation.actions.news import TRANSITIONS
from moderation.models import Comment, LicenceScope, NewsApplication, PlatformLicence, PublisherLicence

# What a refused decision says on the page, by error code.
ERROR_TEXTS = {
    "conflict": _("Someone decided this application first; it is now: %(status)s."),
    "forbidden": _("Your role may not take this decision."),
    "missing_field": _("This decision needs a note."),
    "licence_invalid": _("A licence does not count: %(detail)s"),
    "bad_window": _("The window is over."),
}


LICENCE_ERROR_TEXTS = {
    "missing_field": _("Give a note: why the licence is withdrawn."),
    "conflict": _("Someone changed this licence first; the page shows it as it is now."),
}


# An application whose window opens within this many minutes is marked "about to open".
SOON_MINUTES = 60


def window_urgency(application: NewsApplication, now) -> dict | None:
    """Say how pressing an undecided application is: its window open, or opening soon (news.js does the same)."""
    if application.status not in queries.OPEN_NEWS_STATUSES or application.window_end <= now:
        return None
    if application.window_start <= now:
        minutes = max(1, int((now - application.window_start).total_seconds() // 60))
        return {"kind": "open", "text": _("Window open for %(minutes)s min") % {"minutes": minutes}}
    minutes = max(1, -int(-(application.window_start - now).total_seconds() // 60))
    if minutes <= SOON_MINUTES:
        return {"kind": "soon", "text": _("Opens in %(minutes)s min") % {"minutes": minutes}}
    return None


def decisions_for(user, application: NewsApplication | None = None) -> list[dict]:
    """The decisions this user may take (on this application, when given), with key and label."""
    offered = []
    for kind, key, label in DECISIONS:
        if not permissions.may(user, permissions.news_decision_capability(kind)):
            continue
        if application is not None and application.status not in TRANSITIONS[kind].from_statuses:
            continue
        offered.append(
            {
                "kind": kind,
                "key": key,
                "label": str(label),
                "note_required": TRANSITIONS[kind].note_required,
                "from_statuses": sorted(TRANSITIONS[kind].from_statuses),
            }
        )
    return offered


def queue_strings() -> dict[str, str]:
    texts = {
        "empty": _("No application awaits a decision."),
        "no_comments": _("No comment is held."),
        "note": _("Note"),
        "note_required": _("Note (required)"),
        "confirm": _("Confirm"),
        "cancel": _("Cancel"),
        "release": _("Release"),
        "reject": _("Reject"),
        "sources": _("Sources"),
        "credit": _("Credit %(level)s"),
        "error_conflict": _("Someone decided first."),
        "error_forbidden": _("Your role may not do this."),
        "error_missing_field": _("This decision needs a note."),
        "error_licence_invalid": _("A licence does not count."),
        "error_other": _("The server refused the request (%(code)s)."),
        "done": _("Done: %(status)s"),
        "licence": _("Licence %(number)s until %(until)s"),
        "no_licence": _("No news licence in force"),
        "news_streams": _("%(count)s news streams so far"),
        "urgency_open": _("Window open for %(minutes)s min"),
        "urgency_soon": _("Opens in %(minutes)s min"),
        "decisions_label": _("Decide"),
    }
    return {key: str(text) for key, text in texts.items()}


@never_cache
@require_role(*permissions.roles_for("news.review"))
def news_queue(request: HttpRequest) -> HttpResponse:
    """Show the review queue (新闻直播审核): open applications and held comments, live over the WebSocket."""
    applications = list(queries.news_applications_for_queue())
    now = timezone.now()
    for application in applications:
        application.offered = decisions_for(request.user, application)
        application.urgency = window_urgency(application, now)
    return render(
        request,
        "console/news_queue.html",
        {
            "applications": applications,
            "open_count": sum(1 for application in applications if application.status in queries.OPEN_NEWS_STATUSES),
            "held_comments": list(queries.held_comments(reasons=[Comment.HoldReason.NEWS_PRE_REVIEW])),
            "decisions": decisions_for(request.user),
            "queue_config": {
                "strings": queue_strings(),
                "decisions": decisions_for(request.user),
                "applicationUrl": reverse("console:news-application", args=[0]),
                "rows": [queries.news_application_row(application) for application in applications],
                "timeZone": settings.TIME_ZONE,  # times drawn in the console's zone, as the page's
                "soonMinutes": SOON_MINUTES,
            },
        },
    )


@never_cache
@require_role(*permissions.roles_for("news.read"))
def news_application(request: HttpRequest, application_id: int) -> HttpResponse:
    """Show one application with the publisher's licences, credit and news history; decide it (POST)."""
    application = queries.news_application_for_page(application_id)
    if application is None:
        raise Http404
    form = DecisionForm(request.POST or None)
    if request.method == "POST":
        if not permissions.may(request.user, "news.review"):
            return HttpResponse(status=403)
        if form.is_valid():
            try:
                actions.decide_news_application(
                    application, kind=form.cleaned_data["decision"], actor=request.user, note=form.cleaned_data["note"]
                )
            except actions.ModerationError as exc:
                current = NewsApplication.objects.get(pk=application.pk)
                text = ERROR_TEXTS.get(exc.code, _("Not allowed: %(detail)s"))
                form.add_error(None, str(text) % {"status": current.get_status_display(), "detail": str(exc)})
                application = queries.news_application_for_page(application_id)
            else:
                messages.success(request, _("Decision recorded."))
                return redirect("console:news-application", application_id=application.pk)
    streams, history = queries.publisher_news_history(application.publisher_id)
    now = timezone.now()
    return render(
        request,
        "console/news_application.html",
        {
            "application": application,
            "publisher": application.publisher,
            "licences": queries.publisher_licences(application.publisher_id),
            "platform_licence": licences.valid_platform_licence(now),
            "news_streams": streams,
            "history": [item for item in history if item.pk != application.pk],
            "decisions": decisions_for(request.user, application),
            "form": form,
            "needed_scope": LicenceScope(application.needed_scope).label,
            "now": now,
            # Back to the queue for its reviewers; a compliance admin or an inspector back to the records.
            "may_review": permissions.may(request.user, "news.review"),
        },
        status=400 if form.errors else 200,
    )


@never_cache
@require_role(*permissions.roles_for("licence.read"))
def news_licences(request: HttpRequest) -> HttpResponse:
    """Show the platform's and publishers' news licences; compliance admins record and verify them."""
    may_edit = permissions.may(request.user, "licence.manage")
    form = (
        PlatformLicenceForm(request.POST or None) if request.POST.get("form") == "platform" else PlatformLicenceForm()
    )
    page_errors: list[str] = []
    if request.method == "POST":
        if not may_edit:
            return HttpResponse(status=403)
        try:
            if request.POST.get("form") == "platform" and form.is_valid():
                actions.record_platform_licence(
                    form.cleaned_data["number"],
                    scopes=form.cleaned_data["scopes"],
                    valid_from=form.cleaned_data["valid_from"],
                    valid_until=form.cleaned_data["valid_until"],
                    actor=request.user,
                )
                messages.success(request, _("Licence recorded."))
                return redirect("console:news-licences")
            if request.POST.get("form") == "withdraw":
                licence = get_object_or_404(PlatformLicence, pk=_posted_id(request, "licence"))
                actions.withdraw_platform_licence(licence, actor=request.user, note=request.POST.get("note", "")[:300])
                messages.success(request, _("Licence withdrawn."))
                return redirect("console:news-licences")
            if request.POST.get("form") == "verify":
                licence = get_object_or_404(PublisherLicence, pk=_posted_id(request, "licence"))
                actions.verify_publisher_licence(
                    licence, actor=request.user, verified=request.POST.get("verified") == "1",
                    note=request.POST.get("note", "")[:300],
                )  # fmt: skip
                messages.success(request, _("Verification recorded."))
                return redirect("console:news-licences")
        except actions.ModerationError as exc:
            page_errors.append(str(LICENCE_ERROR_TEXTS.get(exc.code, _("Not allowed: %(detail)s")) % {"detail": exc}))
    return render(
        request,
        "console/news_licences.html",
        {
            "platform_licences": PlatformLicence.objects.select_related("recorded_by"),
            "publisher_licences": PublisherLicence.objects.select_related("publisher", "verified_by"),
            "form": form,
            "may_edit": may_edit,
            "page_errors": page_errors,
            "today": timezone.localdate(),
            "soon": timezone.localdate() + timedelta(days=actions_news.EXPIRY_ALERT_DAYS),
        },
        status=400 if form.errors or page_errors else 200,
    )


def _posted_id(request: HttpRequest, name: str) -> int:
    value = request.POST.get(name, "")
    return int(value) if value.isdigit() and len(value) < 12 else 0
