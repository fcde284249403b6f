"""Keep a logged-in staff member whose account is not set up on the pages that set it up, and end
sessions left idle.

An account must pass its second factor after the password (enrolling one first if it has none),
and an account created with a temporary password must then choose its own. Until then everything
else answers with a redirect to that page (pages) or 403 with a code (the API):
``second_factor_required`` or ``account_setup_required``; nothing is reachable, whatever the URL.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts import second_factor, staff_sessions

# Paths an account that is not set up may still reach: logging out, static files, the language switch.
ALWAYS_OPEN_PREFIXES = ("/accounts/logout/", "/static/", "/i18n/", "/healthz")
SECOND_FACTOR_STEPS = ("accounts:two-factor", "accounts:two-factor-enrol")


def setup_step(user) -> str:
    """Return the URL name of the page the user must pass first, or "" when the account is set up."""
    if not getattr(user, "is_authenticated", False):
        return ""
    if second_factor.needs_second_factor(user) and not _verified(user):
        return "accounts:two-factor" if second_factor.authenticator(user) else "accounts:two-factor-enrol"
    if getattr(user, "must_change_password", False):
        return "accounts:password-change"
    return ""


def setup_step_without_request(user, session) -> str:
    """Return setup_step for a WebSocket's user: the second factor is read from its session."""
    if not getattr(user, "is_authenticated", False):
        return ""
    if second_factor.needs_second_factor(user) and not second_factor.session_is_verified(user, session):
        return "accounts:two-factor"
    if getattr(user, "must_change_password", False):
        return "accounts:password-change"
    return ""


def _verified(user) -> bool:
    # OTPMiddleware gives request.user is_verified(); a user without it (no middleware) is not verified.
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified()) if callable(is_verified) else False


class AccountSetupRequired:
    """Send a user whose account is not set up to the page that sets it up, and nowhere else."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        step = setup_step(request.user)
        if not step or request.path.startswith(ALWAYS_OPEN_PREFIXES):
            return self.get_response(request)
        target = reverse(step)
        if request.path == target or (step in SECOND_FACTOR_STEPS and request.path == reverse("accounts:session")):
            return self.get_response(request)
        if request.path.startswith("/api/"):
            if step in SECOND_FACTOR_STEPS:
                error = {"code": "second_factor_required", "message": "pass the second factor of the login first"}
            else:
                error = {"code": "account_setup_required", "message": "finish setting up the account first"}
            return JsonResponse({"error": error}, status=403)
        if request.method == "GET" and step in SECOND_FACTOR_STEPS:
            return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return redirect(target)


class IdleSessionEnd:
    """End a session after LIVEWARD_IDLE_MINUTES without activity; record activity otherwise."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            if staff_sessions.idle_seconds_left(request.session) <= 0:
                minutes = staff_sessions.idle_limit_seconds() // 60
                staff_sessions.end_idle_session(request)
                messages.info(
                    request,
                    _("You were logged out after %(minutes)d minutes without activity. Log in again to continue.")
                    % {"minutes": minutes},
                )
            elif staff_sessions.counts_as_activity(request):
                staff_sessions.mark_active(request.session)
        return self.get_response(request)
