"""Keep a logged-in staff member whose account is not set up on the pages that set it up.

An account created with a temporary password may only choose its own. Everything else answers with
a redirect to that page (pages) or 403 ``account_setup_required`` (the API), so nothing is reachable
before the account is set up, whatever the URL.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

# Paths an account that is not set up may still reach: logging out, static files, the language switch.
ALWAYS_OPEN_PREFIXES = ("/accounts/logout/", "/static/", "/i18n/", "/healthz")


def setup_step(user) -> str:
    """Return the URL name of the page the user must pass first, or "" when the account is set up."""
    if not getattr(user, "is_authenticated", False):
        return ""
    if getattr(user, "must_change_password", False):
        return "accounts:password-change"
    return ""


class AccountSetupRequired:
    """Send a user whose account is not set up to the page that sets it up, and nowhere else."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        step = setup_step(request.user)
        if not step or request.path.startswith(ALWAYS_OPEN_PREFIXES):
            return self.get_response(request)
        target = reverse(step)
        if request.path == target:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            error = {"code": "account_setup_required", "message": "finish setting up the account first"}
            return JsonResponse({"error": error}, status=403)
        return redirect(target)
