"""The server-error page: 503 with Retry-After while the database is unreachable, 500 otherwise.

Django calls ``server_error`` (``handler500`` in console/urls.py) for any exception a view or a
middleware did not handle, from inside the ``except`` block, so the exception in flight tells a
database outage (the connection refused, reset or timed out) from a fault of our own. An outage
is the service being unavailable, not broken: the answer says so and when to try again, in the
page's language or, for the API, as the API's usual error shape. Neither answer touches the
database (no context processors, no session).
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _

RETRY_AFTER_SECONDS = 5


def database_unreachable(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) is the database being unreachable, not a bad query."""
    while exc is not None:
        if isinstance(exc, (OperationalError, InterfaceError)):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def server_error(request: HttpRequest) -> HttpResponse:
    if database_unreachable(sys.exc_info()[1]):
        return _unavailable(request)
    if request.path_info.startswith("/api/"):
        return JsonResponse({"error": {"code": "server_error", "message": _("Server error")}}, status=500)
    return HttpResponse(loader.get_template("500.html").render(), status=500)


def _unavailable(request: HttpRequest) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        message = _("The database is unreachable; try again in a moment.")
        response: HttpResponse = JsonResponse({"error": {"code": "unavailable", "message": message}}, status=503)
    else:
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
