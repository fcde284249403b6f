"""Security pages for compliance admins: login lockouts and their unlock."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import actions as account_actions
from accounts import second_factor
from accounts.roles import require_role
from moderation import permissions


def _locked_attempts():
    from axes.models import AccessAttempt

    since = timezone.now() - timedelta(hours=settings.AXES_COOLOFF_TIME)
    return AccessAttempt.objects.filter(attempt_time__gte=since).order_by("-attempt_time")


@never_cache
@require_role(*permissions.roles_for("security.lockouts"))
def lockouts(request: HttpRequest) -> HttpResponse:
    """List the accounts and addresses with failed logins (or refused codes) in the cool-off window; locked first."""
    limit = settings.AXES_FAILURE_LIMIT
    accounts: dict[str, int] = {}
    addresses: dict[str, int] = {}
    for attempt in _locked_attempts()[:1000]:
        if attempt.username:
            accounts[attempt.username] = accounts.get(attempt.username, 0) + attempt.failures_since_start
        if attempt.ip_address:
            addresses[attempt.ip_address] = addresses.get(attempt.ip_address, 0) + attempt.failures_since_start

    # Refused second-factor codes count toward the same limit, per account (accounts/second_factor.py).
    for username, refusals in second_factor.refusals_by_account().items():
        accounts[username] = max(accounts.get(username, 0), refusals)

    def rows(counts: dict[str, int]) -> list[dict]:
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return [{"value": value, "failures": failures, "locked": failures >= limit} for value, failures in ordered]

    context = {"accounts": rows(accounts), "addresses": rows(addresses), "limit": limit}
    return render(request, "console/lockouts.html", context)


@require_POST
@require_role(*permissions.roles_for("security.lockouts"))
def unlock(request: HttpRequest) -> HttpResponse:
    """Lift the lockout of one account or one address."""
    try:
        account_actions.unlock_login(
            username=request.POST.get("username", ""),
            address=request.POST.get("address", ""),
            actor=request.user,
            ip=account_actions.client_ip(request),
        )
    except ValueError as exc:
        messages.error(request, _("Nothing was unlocked: %(reason)s") % {"reason": exc})
        return redirect("console:lockouts")
    messages.success(request, _("Unlocked."))
    return redirect("console:lockouts")
