"""Django views for the gate callbacks: thin adapters over moderation.gate.protocols.

In production /gate/ is served by the lean ASGI app in moderation/gate/asgi.py; these views serve the
same protocol wherever Django's own handler runs (WSGI, the test client, the live test server).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from moderation.gate import limits, protocols


def _read_limited(request: HttpRequest) -> bytes | None:
    """Return the body, or None when it is larger than the gate accepts."""
    # WSGI servers pass an empty CONTENT_LENGTH for a request without one.
    if limits.body_too_large(content_length=request.META.get("CONTENT_LENGTH") or None):
        return None
    body = request.read(limits.max_body_bytes() + 1)
    return None if limits.body_too_large(received=len(body)) else body


def _respond(reply: protocols.GateReply) -> HttpResponse:
    return HttpResponse(reply.body, status=reply.status, content_type=reply.content_type)


@csrf_exempt
@require_POST
def nginx_rtmp_callback(request: HttpRequest, node_name: str, secret: str, hook: str) -> HttpResponse:
    """Answer an nginx-rtmp notify callback: on_publish, on_publish_done or on_update."""
    addr = request.META.get("REMOTE_ADDR") or ""
    return _respond(protocols.nginx_callback(node_name, secret, hook, _read_limited(request), addr))


@csrf_exempt
@require_POST
def srs_callback(request: HttpRequest, node_name: str, secret: str) -> HttpResponse:
    """Answer an SRS HTTP hook: on_publish or on_unpublish (JSON body)."""
    addr = request.META.get("REMOTE_ADDR") or ""
    return _respond(protocols.srs_callback(node_name, secret, _read_limited(request), addr))
