"""The floor the bench scripts compare against: the cheapest view the server can answer (bench only)."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@require_POST
def floor(request: HttpRequest) -> HttpResponse:
    """Answer "ok" through the same stack as the gate: ASGI, every middleware, a sync view, POST only."""
    request.read()  # consume the body as the gate does
    return HttpResponse("ok", content_type="text/plain")
