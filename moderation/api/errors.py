"""One error shape for the REST API: {"error": {"code", "message", "fields"?}}."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from moderation.actions import ModerationError

# Domain error codes that are the client's input (or not found / forbidden) rather than a conflict
# with the current state; anything else is 409.
ERROR_STATUS = {
    "forbidden": 403,
    "not_found": 404,
    "bad_field": 400,
    "bad_text": 400,
    "missing_field": 400,
    "bad_window": 400,
    "bad_url": 400,
    "missing_sources": 400,
    "appeal_kind_unsupported": 400,
    "wrong_publisher": 400,
    "not_appealable": 400,
    "unknown_agreement": 400,
    "four_eyes": 403,
    "duplicate_version": 409,
    "stream_not_live": 409,
}


def exception_handler(exc, context):
    """Map DRF errors and domain errors to a clear 4xx with a stable shape."""
    if isinstance(exc, ModerationError):
        error = {"code": exc.code, "message": str(exc)}
        if getattr(exc, "reference", None):  # a refused registration: the blacklist entry's reference only
            error["reference"] = exc.reference
        return Response({"error": error}, status=ERROR_STATUS.get(exc.code, 409))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    if isinstance(exc, Http404):
        code = "not_found"
    elif isinstance(exc, PermissionDenied):
        code = "permission_denied"
    else:
        # A code given where the error was raised (scope_missing, token_expired) names it best.
        given = getattr(getattr(exc, "detail", None), "code", None)
        code = given if isinstance(given, str) and given else getattr(exc, "default_code", "error")
    if isinstance(detail, dict) and set(detail) == {"detail"}:
        body = {"error": {"code": code, "message": str(detail["detail"])}}
    else:
        body = {"error": {"code": code, "message": str(getattr(exc, "default_detail", "invalid")), "fields": detail}}
    response.data = body
    return response
