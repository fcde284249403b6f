"""The emergency pages (应急处置, Art. 7): declare, confirm, follow the bulk cut per stream, end."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.roles import require_role
from console.forms.emergencies import EmergencyForm, EndEmergencyForm
from moderation import actions, permissions, queries


@never_cache
@require_role(*permissions.roles_for("emergency.read"))
def emergency_list(request: HttpRequest, form: EmergencyForm | None = None, status: int = 200) -> HttpResponse:
    """List emergencies; a compliance admin declares one here."""
    may_manage = permissions.may(request.user, "emergency.manage")
    context = {
        "emergencies": queries.emergencies_for_page(),
        "form": form or (EmergencyForm() if may_manage else None),
    }
    return render(request, "console/emergencies.html", context, status=status)


@require_POST
@require_role(*permissions.roles_for("emergency.manage"))
def emergency_declare(request: HttpRequest) -> HttpResponse:
    """Declare an emergency: a scope, measures and a reason, all required."""
    form = EmergencyForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            emergency = actions.declare_emergency(
                actor=request.user,
                scope=form.scope(),
                measures=data["measures"],
                reason=data["reason"],
                reason_code=data["reason_code"],
            )
        except actions.ModerationError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("console:emergency", emergency_id=emergency.pk)
    return emergency_list(request, form=form, status=400)


def _emergency(emergency_id: int):
    emergency = queries.emergency_for_page(emergency_id)
    if emergency is None:
        raise Http404
    return emergency


@never_cache
@require_role(*permissions.roles_for("emergency.read"))
def emergency_detail(request: HttpRequest, emergency_id: int, end_form=None, status: int = 200) -> HttpResponse:
    """Show an emergency: scope, measures, who and why, and each stream's cut as it goes."""
    emergency = _emergency(emergency_id)
    may_manage = permissions.may(request.user, "emergency.manage")
    context = {
        "emergency": emergency,
        "cuts": queries.emergency_cuts(emergency.pk),
        "progress": queries.emergency_progress(emergency.pk),
        "may_manage": may_manage,
        "may_confirm": may_manage and emergency.declared_by_id != request.user.pk,
        "end_form": end_form or (EndEmergencyForm() if may_manage else None),
    }
    return render(request, "console/emergency.html", context, status=status)


@require_POST
@require_role(*permissions.roles_for("emergency.manage"))
def emergency_confirm(request: HttpRequest, emergency_id: int) -> HttpResponse:
    """Confirm an emergency whose scope is everything (a second compliance admin)."""
    emergency = _emergency(emergency_id)
    try:
        actions.confirm_emergency(emergency, actor=request.user)
    except actions.ModerationError as exc:
        messages.error(request, _("The emergency could not be confirmed: %s") % exc)
    return redirect("console:emergency", emergency_id=emergency.pk)


@require_POST
@require_role(*permissions.roles_for("emergency.manage"))
def emergency_end(request: HttpRequest, emergency_id: int) -> HttpResponse:
    """End the emergency (or cancel one awaiting confirmation), with the reason."""
    emergency = _emergency(emergency_id)
    form = EndEmergencyForm(request.POST)
    if form.is_valid():
        try:
            actions.end_emergency(emergency, actor=request.user, reason=form.cleaned_data["reason"])
        except actions.ModerationError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("console:emergency", emergency_id=emergency.pk)
    return emergency_detail(request, emergency_id, end_form=form, status=400)
