"""Staff pages of the accounts app: the second factor of the login, the session's idle clock, log out,
shifts (值班) and their handover notes (交接班)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import LogoutView
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

import django_otp

from accounts import actions, second_factor, staff_sessions
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
    """The page a form (or the query) asked to go back to, when it is one of ours."""
    target = request.POST.get("next", "") or request.GET.get("next", "")
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
        {
            "form": form,
            "forced": request.user.must_change_password,
            "recovery_codes_left": (
                second_factor.recovery_codes_left(request.user) if second_factor.authenticator(request.user) else None
            ),
        },
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


# --- the second factor ------------------------------------------------------------------------

ENROLMENT_KEY = "liveward_enrolment_key"  # session key: the authenticator secret until it is confirmed
REFUSAL_TEXT = {
    second_factor.WRONG_CODE: _(
        "That code is not right. Check that your phone's clock is correct and enter the current code."
    ),
    second_factor.REPLAYED_CODE: _("That code was used already. Wait for the next code and enter it."),
    second_factor.USED_RECOVERY_CODE: _("That recovery code was used already. Each recovery code works only once."),
    second_factor.MALFORMED_CODE: _(
        "Enter the 6-digit code from your authenticator app, or one of your recovery codes."
    ),
}


@never_cache
@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Ask for the code of the user's authenticator (or a recovery code) after the password."""
    user = request.user
    if not second_factor.needs_second_factor(user) or user.is_verified():
        return redirect(_next_page(request) or "console:home")
    if second_factor.authenticator(user) is None:
        return redirect("accounts:two-factor-enrol")
    error = ""
    if request.method == "POST":
        try:
            device = second_factor.verify_second_factor(
                user, request.POST.get("code", ""), ip=actions.client_ip(request)
            )
        except second_factor.SecondFactorRefused as exc:
            if exc.code == second_factor.LOCKED:
                return _locked_out_of_second_factor(request)
            if exc.code == second_factor.NOT_ENROLLED:
                return redirect("accounts:two-factor-enrol")
            error = REFUSAL_TEXT[exc.code]
        else:
            django_otp.login(request, device)
            if second_factor.is_recovery_code_device(device):
                left = second_factor.recovery_codes_left(user)
                messages.warning(
                    request,
                    _("You logged in with a recovery code; %(left)d are left. Make new ones on your account page.")
                    % {"left": left},
                )
            return redirect(_next_page(request) or "console:home")
    return render(
        request,
        "accounts/two_factor.html",
        {"error": error, "next": _next_page(request) or ""},
        status=400 if error else 200,
    )


@never_cache
@login_required
def two_factor_enrol(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: its QR code and key, confirmed by one code; then the recovery codes, once."""
    user = request.user
    if not second_factor.needs_second_factor(user):
        return redirect("console:home")
    if second_factor.authenticator(user) is not None:
        return redirect("accounts:two-factor")
    key = request.session.get(ENROLMENT_KEY) or ""
    if not key:
        key = request.session[ENROLMENT_KEY] = second_factor.new_authenticator_key()
    error = ""
    if request.method == "POST":
        try:
            device, codes = second_factor.enrol_authenticator(
                user, key=key, code=request.POST.get("code", ""), ip=actions.client_ip(request)
            )
        except second_factor.SecondFactorRefused as exc:
            if exc.code == second_factor.LOCKED:
                return _locked_out_of_second_factor(request)
            if exc.code == second_factor.ENROLLED_ALREADY:
                return redirect("accounts:two-factor")
            error = REFUSAL_TEXT[exc.code]
        else:
            del request.session[ENROLMENT_KEY]
            django_otp.login(request, device)
            return _render_recovery_codes(request, codes, next_page=_next_page(request) or "")
    uri = second_factor.provisioning_uri(user, key)
    return render(
        request,
        "accounts/two_factor_enrol.html",
        {
            "qr_svg": second_factor.qr_code_svg(uri),
            "manual_key": second_factor.manual_key(key),
            "error": error,
            "next": _next_page(request) or "",
        },
        status=400 if error else 200,
    )


@require_POST
@login_required
def new_recovery_codes(request: HttpRequest) -> HttpResponse:
    """Replace the user's recovery codes with ten new ones, shown once."""
    try:
        codes = second_factor.replace_recovery_codes(request.user, ip=actions.client_ip(request))
    except second_factor.SecondFactorRefused:
        return redirect("accounts:two-factor-enrol")
    return _render_recovery_codes(request, codes, next_page="")


def _render_recovery_codes(request: HttpRequest, codes: list[str], *, next_page: str) -> HttpResponse:
    response = render(request, "accounts/recovery_codes.html", {"codes": codes, "next": next_page})
    response["Cache-Control"] = "no-store"  # shown once: not kept by the browser either
    return response


def _locked_out_of_second_factor(request: HttpRequest) -> HttpResponse:
    logout(request)
    return locked_out(request)


@never_cache
@require_POST
def preferences(request: HttpRequest) -> HttpResponse:
    """Remember one's own theme (``theme=light|dark``) and wall density (``compact=1|0``); 204, or 400."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "login_required"}, status=401)
    theme = request.POST.get("theme")
    compact = request.POST.get("compact")
    if (theme is None and compact is None) or theme not in (None, *actions.THEMES) or compact not in (None, "0", "1"):
        return JsonResponse({"error": "bad_preference"}, status=400)
    actions.set_console_preferences(request.user, theme=theme, compact=None if compact is None else compact == "1")
    return HttpResponse(status=204)


@never_cache
def session_status(request: HttpRequest) -> HttpResponse:
    """Tell the console's idle script how long the session has left (GET does not count as activity; POST does)."""
    if not request.user.is_authenticated:
        return JsonResponse({"logged_in": False, "seconds_left": 0}, status=401)
    return JsonResponse(
        {
            "logged_in": True,
            "seconds_left": round(staff_sessions.idle_seconds_left(request.session)),
            "idle_seconds": staff_sessions.idle_limit_seconds(),
            "warning_seconds": staff_sessions.WARNING_SECONDS,
        }
    )
