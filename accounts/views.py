"""Staff pages of the accounts app: log out, shifts (值班) and their handover notes (交接班)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import LogoutView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import actions
from accounts.models import Shift
from accounts.roles import SHIFT_ROLES, has_role, require_role


@never_cache
@require_role()
def shifts(request: HttpRequest) -> HttpResponse:
    """Show who is on duty, the user's own shift and the recent handover notes."""
    return _render_shifts(request)


@require_POST
@require_role(*SHIFT_ROLES)
def check_in(request: HttpRequest) -> HttpResponse:
    """Start the user's shift."""
    try:
        actions.check_in(request.user, ip=actions.client_ip(request))
    except actions.ShiftError as exc:
        return _render_shifts(request, error=str(exc), status=400)
    messages.success(request, _("You are checked in. Your shift has started."))
    return redirect(_next_page(request) or "accounts:shifts")


def _next_page(request: HttpRequest) -> str | None:
    """The page a form asked to go back to (the wall's check-in), when it is one of ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return None


@require_POST
@require_role(*SHIFT_ROLES)
def check_out(request: HttpRequest) -> HttpResponse:
    """End the user's shift with a handover note."""
    note = request.POST.get("handover_note", "")
    try:
        actions.check_out(request.user, handover_note=note, ip=actions.client_ip(request))
    except actions.ShiftError as exc:
        return _render_shifts(request, error=str(exc), handover_note=note, status=400)
    messages.success(request, _("You are checked out. Your handover note is shown to the next shift."))
    return redirect("accounts:shifts")


def _render_shifts(
    request: HttpRequest, *, error: str = "", handover_note: str = "", status: int = 200
) -> HttpResponse:
    my_shift = Shift.objects.filter(user=request.user, ended_at__isnull=True).first()
    return render(
        request,
        "accounts/shifts.html",
        {
            "on_duty": actions.on_duty(),
            "my_shift": my_shift,
            "may_check_in": has_role(request.user, *SHIFT_ROLES),
            "handover_notes": actions.recent_handover_notes(),
            "handover_note": handover_note,
            "handover_note_max": actions.HANDOVER_NOTE_MAX_CHARS,
            "error": error,
            "now": timezone.now(),
        },
        status=status,
    )


@never_cache
@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    """Let the user choose a new password (the old one first); forced for a temporary password."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.change_password(
                request.user, new_password=form.cleaned_data["new_password1"], ip=actions.client_ip(request)
            )
        except ValueError as exc:
            form.add_error("new_password1", str(exc))
        else:
            update_session_auth_hash(request, request.user)  # this session stays, every other one ends
            messages.success(request, _("Your password is changed."))
            return redirect("console:home")
    return render(
        request,
        "accounts/password_change.html",
        {"form": form, "forced": request.user.must_change_password},
        status=400 if form.errors else 200,
    )


def locked_out(request: HttpRequest, response: HttpResponse | None = None, credentials: dict | None = None):
    """Answer a login refused by the lockout (django-axes calls this): 429 and when to try again."""
    from django.conf import settings

    return render(
        request,
        "accounts/locked_out.html",
        {"minutes": round(settings.AXES_COOLOFF_TIME * 60)},
        status=429,
    )


class StaffLogoutView(LogoutView):
    """Log out (POST only, as Django's view) and say so on the login page."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        was_logged_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if was_logged_in:
            # Stored in the message cookie, so it survives the session being flushed.
            messages.success(request, _("You are logged out."))
        return response
