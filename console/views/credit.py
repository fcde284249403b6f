"""The console's credit pages: publisher page (score chart, events, actions, appeals), policy, appeals."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.roles import require_role
from console.credit_chart import score_chart
from console.error_text import error_text
from console.forms.credit import (
    AppealDecisionForm,
    CreditAdjustmentForm,
    CreditLevelFormSet,
    CreditPolicyForm,
    RevealIdentityForm,
    level_initial,
)
from moderation import actions, permissions, queries
from moderation import credit_policy as policy_cache
from moderation.actions.credit import CHARGEABLE_KINDS
from moderation.identity import masked_publisher_identity
from moderation.models import Appeal, Category, ModerationAction, Publisher


@never_cache
@require_role()
def publisher_detail(request: HttpRequest, publisher_id: int) -> HttpResponse:
    """Show a publisher: identity masked, credit level and its rules, score chart, events, actions, appeals."""
    publisher = queries.publisher_for_page(publisher_id)
    if publisher is None:
        raise Http404
    return render(request, "console/publisher.html", _publisher_context(request, publisher))


def _publisher_context(
    request: HttpRequest, publisher, adjust_form: CreditAdjustmentForm | None = None, **extra
) -> dict:
    identity = masked_publisher_identity(publisher) | {"document_type": publisher.get_document_type_display()}
    may_adjust = permissions.may(request.user, "credit.manage")
    return {
        "publisher": publisher,
        "identity": identity,
        "level": policy_cache.level_rules(publisher),
        "chart": score_chart(publisher, publisher.page_events, now=timezone.now()),
        "events": list(reversed(publisher.page_events)),
        "actions": publisher.page_actions,
        "appeals": publisher.page_appeals,
        "live_streams": publisher.page_live_streams,
        "may_adjust": may_adjust,
        "may_read_appeals": permissions.may(request.user, "credit.read"),
        "adjust_form": adjust_form or (CreditAdjustmentForm() if may_adjust else None),
        # A running cooling-off (on any key) or suspension, and whether this user may lift it.
        "cooling_off_ends": publisher.cooling_off_ends(publisher.stream_keys.order_by("-denied_until").first()),
        "suspended": publisher.is_suspended(),
        "may_lift": permissions.may(request.user, "action.lift"),
        "may_file": permissions.may(request.user, "filing.manage"),
        "filing_categories": Publisher.FilingCategory.choices,
        "reveal_form": RevealIdentityForm() if permissions.may(request.user, "identity.reveal") else None,
        **extra,
    }


@never_cache
@require_POST
@require_role(*permissions.roles_for("identity.reveal"))
def reveal_publisher_identity(request: HttpRequest, publisher_id: int) -> HttpResponse:
    """Show one full identity value to a compliance admin who gave a reason; the staff action log keeps it."""
    publisher = queries.publisher_for_page(publisher_id)
    if publisher is None:
        raise Http404
    form = RevealIdentityForm(request.POST)
    if form.is_valid():
        field = form.cleaned_data["field"]
        try:
            value = actions.reveal_identity(
                publisher, field=field, reason=form.cleaned_data["reason"], actor=request.user
            )
        except actions.ModerationError as exc:
            form.add_error(None, error_text(exc))
        else:
            revealed = {"label": dict(form.fields["field"].choices)[field], "value": value}
            return render(request, "console/publisher.html", _publisher_context(request, publisher, revealed=revealed))
    context = _publisher_context(request, publisher)
    return render(request, "console/publisher.html", context | {"reveal_form": form}, status=400)


@require_POST
@require_role(*permissions.roles_for("credit.manage"))
def adjust_publisher_credit(request: HttpRequest, publisher_id: int) -> HttpResponse:
    """Add or take points by hand, with a reason (compliance admin)."""
    publisher = queries.publisher_for_page(publisher_id)
    if publisher is None:
        raise Http404
    form = CreditAdjustmentForm(request.POST)
    if form.is_valid():
        try:
            event = actions.adjust_credit(
                publisher, actor=request.user, points=form.cleaned_data["points"], reason=form.cleaned_data["reason"]
            )
        except actions.ModerationError as exc:
            form.add_error(None, error_text(exc))
        else:
            messages.success(
                request,
                _("Credit adjusted by %(points)+d: score %(score)s, level %(level)s.")
                % {"points": event.points, "score": event.score_after, "level": event.level_after},
            )
            return redirect("console:publisher", publisher_id=publisher.pk)
    return render(request, "console/publisher.html", _publisher_context(request, publisher, form), status=400)


# --- policy -----------------------------------------------------------------------------------


@never_cache
@require_role(*permissions.roles_for("credit.read"))
def credit_policy(request: HttpRequest) -> HttpResponse:
    """Show the current credit policy and the earlier versions."""
    current = policy_cache.fresh_policy()
    labels = dict(ModerationAction.Kind.choices)
    names = dict(Category.objects.values_list("slug", "name"))
    return render(
        request,
        "console/credit_policy.html",
        {
            "policy": current,
            "costs": [(labels[kind], current.cost_of(kind)) for kind in CHARGEABLE_KINDS],
            # Categories by their names, not their slugs (an unknown slug shows as stored).
            "level_rows": [
                (level, str(_(", ")).join(names.get(slug, slug) for slug in sorted(level.allowed_categories)))
                for level in current.levels
            ],
            "history": queries.credit_policy_history(),
            "may_edit": permissions.may(request.user, "credit.manage"),
        },
    )


@never_cache
@require_role(*permissions.roles_for("credit.manage"))
def credit_policy_edit(request: HttpRequest) -> HttpResponse:
    """A new credit policy version (compliance admin): check counts the level changes, publish stores it.

    The recomputation of every level runs in the worker after the commit, not in this request.
    """
    current = policy_cache.fresh_policy()
    changes = None
    if request.method == "POST":
        form = CreditPolicyForm(request.POST)
        levels = CreditLevelFormSet(request.POST, initial=level_initial(current), prefix="levels")
        if form.is_valid() and levels.is_valid():
            if "publish" in request.POST:
                try:
                    policy = actions.publish_credit_policy(
                        actor=request.user,
                        levels=levels.specs(),
                        action_costs=form.action_costs(),
                        score_min=form.cleaned_data["score_min"],
                        score_max=form.cleaned_data["score_max"],
                        earn_back_points_per_hour=form.cleaned_data["earn_back_points_per_hour"],
                        earn_back_nightly_cap=form.cleaned_data["earn_back_nightly_cap"],
                        note=form.cleaned_data["note"],
                    )
                except actions.ModerationError as exc:
                    form.add_error(None, error_text(exc))
                else:
                    messages.success(
                        request,
                        _("Credit policy version %(version)s is in force; publishers' levels are being recomputed.")
                        % {"version": policy.version},
                    )
                    return redirect("console:credit-policy")
            else:
                changes = _check_policy_form(form, levels)
        status = 200 if changes is not None else 400
    else:
        form = CreditPolicyForm(initial=CreditPolicyForm.initial_from(current))
        levels = CreditLevelFormSet(initial=level_initial(current), prefix="levels")
        status = 200
    return render(
        request,
        "console/credit_policy_edit.html",
        {"policy": current, "form": form, "levels": levels, "changes": changes},
        status=status,
    )


def _check_policy_form(form: CreditPolicyForm, levels) -> dict | None:
    """Check the version as publishing would; return the level changes it makes, or None with the errors set."""
    data, specs = form.cleaned_data, levels.specs()
    lowest = min(levels.kept_forms(), key=lambda level_form: level_form.cleaned_data["min_score"])
    if lowest.cleaned_data["min_score"] > data["score_min"]:
        lowest.add_error(
            "min_score", error_text(actions.ModerationError("the lowest level must start at the lowest score"))
        )
        return None
    try:
        actions.check_credit_policy(
            levels=specs,
            score_min=data["score_min"],
            score_max=data["score_max"],
            action_costs=form.action_costs(),
            per_hour=data["earn_back_points_per_hour"],
            cap=data["earn_back_nightly_cap"],
        )
    except actions.ModerationError as exc:
        form.add_error(None, error_text(exc))
        return None
    found = actions.preview_level_changes(specs, score_min=data["score_min"], score_max=data["score_max"])
    return {"total": sum(found.values()), "moves": sorted(found.items())}


# --- appeals ----------------------------------------------------------------------------------

APPEALS_PER_PAGE = 50


@never_cache
@require_role(*permissions.roles_for("credit.read"))
def appeal_list(request: HttpRequest) -> HttpResponse:
    """List appeals, pending first, fifty a page."""
    status = request.GET.get("status") or ""
    if status not in Appeal.Status.values:
        status = ""
    page = Paginator(queries.appeals_for_console(status or None), APPEALS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "console/appeals.html",
        {
            "appeals": page.object_list,
            "page": page,
            "status": status,
            "statuses": Appeal.Status.choices,
            "pending_count": Appeal.objects.filter(status=Appeal.Status.PENDING).count(),
        },
    )


@never_cache
@require_role(*permissions.roles_for("credit.read"))
def appeal_detail(request: HttpRequest, appeal_id: int) -> HttpResponse:
    """Show an appeal; a compliance admin who did not act decides it."""
    appeal = queries.appeal_for_page(appeal_id)
    if appeal is None:
        raise Http404
    may_decide = permissions.may(request.user, "credit.manage") and appeal.status == Appeal.Status.PENDING
    form = AppealDecisionForm() if may_decide else None
    status = 200
    if request.method == "POST":
        if not permissions.may(request.user, "credit.manage"):
            return HttpResponse(status=403)
        form = AppealDecisionForm(request.POST)
        if form.is_valid():
            try:
                actions.decide_appeal(
                    appeal,
                    actor=request.user,
                    uphold=form.cleaned_data["decision"] == "uphold",
                    note=form.cleaned_data["note"],
                )
            except actions.ModerationError as exc:
                form.add_error(None, error_text(exc))
            else:
                messages.success(request, _("Appeal decided; the platform is notified."))
                return redirect("console:appeal", appeal_id=appeal.pk)
        status = 400
        may_decide = True
    event = appeal.credit_event
    acted_by: set[int] = set()
    if event is not None:
        acted_by = {event.actor_id, event.action.actor_id if event.action is not None else None} - {None}
    return render(
        request,
        "console/appeal.html",
        {
            "appeal": appeal,
            "event": event,
            "form": form if may_decide else None,
            "acted_here": request.user.pk in acted_by,
        },
        status=status,
    )
