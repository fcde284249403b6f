"""The console's pages."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from accounts.roles import require_role
from moderation import queries


@require_role()
def home(request: HttpRequest) -> HttpResponse:
    """Show the live streams and the console's connection state."""
    streams = queries.live_streams_for_console()[:200]
    return render(
        request,
        "console/home.html",
        {"streams": streams, "live_count": queries.live_stream_count()},
    )


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer whether the database is reachable (for load balancers and the run command)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"ok": False, "database": False}, status=503)
    return JsonResponse({"ok": True, "database": True})
