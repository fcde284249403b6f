"""Refuse, with 400, a request whose address or form fields hold text no input may hold.

The rule is moderation/text_input.py's. Here it covers what no form or serializer sees: path
segments and query strings of every page and API call, and the form fields a view reads itself
(the handover note, a licence's note) or that are not ours (the admin, the login). Form fields may
be multi-line; an address may not. Nothing reaches a view, so nothing is changed.

The gate's callbacks are left to the gate's own parsing (moderation/gate/protocols.py), which
answers them the same way under the lean ASGI front and under Django. API bodies are left to the
API's JSON parser and serializers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from moderation import text_input

API_PREFIX = "/api/"
GATE_PREFIX = "/gate/"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RefuseUnsafeText:
    """Answer 400 before any view when the path, the query string or a form field breaks the rule."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(GATE_PREFIX):
            return self.get_response(request)
        problem = _first_problem(_address_parts(request))
        if problem is None and _has_form_body(request):
            problem = _first_problem(_form_parts(request))
        if problem is not None:
            return _refuse(request, *problem)
        return self.get_response(request)


# Each part is (the field it belongs to, or None for the address; its text; whether it may be multi-line).
Part = tuple[str | None, str, bool]


def _address_parts(request: HttpRequest) -> Iterator[Part]:
    yield None, request.path_info, False
    for name, values in request.GET.lists():
        yield None, name, False
        for value in values:
            yield None, value, False


def _form_parts(request: HttpRequest) -> Iterator[Part]:
    for name, values in request.POST.lists():
        yield name, name, False
        for value in values:
            yield name, value, True


def _first_problem(parts: Iterator[Part]) -> tuple[str | None, text_input.Refusal] | None:
    for field, text, multiline in parts:
        found = text_input.refusal(text, multiline=multiline)
        if found is not None:
            return field, found
    return None


def _has_form_body(request: HttpRequest) -> bool:
    return (
        request.method == "POST" and not request.path_info.startswith(API_PREFIX) and request.content_type in FORM_TYPES
    )


def _refuse(request: HttpRequest, field: str | None, found: text_input.Refusal) -> HttpResponse:
    shown_field = text_input.for_export(field[:40]) if field is not None else ""
    if request.path_info.startswith(API_PREFIX):
        message = found.describe("The address" if field is None else f"The form field {shown_field!r}")
        return JsonResponse({"error": {"code": "bad_text", "message": message + "."}}, status=400)
    if field is None:
        message = _("The address contains a character that is not allowed (%(character)s); nothing was done.") % {
            "character": found.code_point
        }
    else:
        message = _(
            "The form field “%(field)s” contains a character that is not allowed (%(character)s); nothing was saved."
        ) % {"field": shown_field, "character": found.code_point}
    return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
