"""The console's pages."""

from django.contrib import messages
from django.contrib.auth.views import LogoutView
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from accounts.roles import require_role
from moderation import queries

# The most streams one page lists; the count above the table is always the full number.
HOME_STREAM_LIMIT = 200


@never_cache
@require_role()
def home(request: HttpRequest) -> HttpResponse:
    """Show the live streams and the console's connection state."""
    streams = queries.live_streams_for_console()[:HOME_STREAM_LIMIT]
    return render(
        request,
        "console/home.html",
        {"streams": streams, "live_count": queries.live_stream_count()},
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


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer whether the database is reachable (for load balancers and the run command)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"ok": False, "database": False}, status=503)
    return JsonResponse({"ok": True, "database": True})
