"""The platform app's report filing as production serves it: ahead of Django, on threads of its own.

At a breaking incident the platform's users report by the hundred a second, and each report must
reach the console within a second (issue 16's figure: 200 reports/s). Like the registration check
(moderation/gate/registration.py) a JSON filing with a platform token skips the session, CSRF,
locale and message middleware and DRF's request wrapping, and runs on long-lived threads that keep
their database connections — a pool of its own, so a flood of reports never delays a gate decision.
The rules and the answers are the DRF view's (moderation/api/reports.py): both file through
``moderation.report_api.file_app_report``. What this front does not take — another method, a body
that is not JSON, one without a Content-Length or larger than the gate's limit (reports carrying
images), a request without a token (a staff session) — goes to Django unchanged.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

from accounts.roles import Scope
from moderation import text_input
from moderation.gate import limits
from moderation.gate.protocols import GateReply
from moderation.gate.registration import platform_token_problem, token_refusal

PATH = "/api/v1/reports/"
_JSON = "application/json"


def takes(scope: dict) -> bool:
    """Tell whether this front answers the request (else Django does, with the same rules)."""
    if scope.get("method") != "POST":
        return False
    headers = dict(scope.get("headers", []))
    content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    length = headers.get(b"content-length")
    authorization = headers.get(b"authorization", b"")
    return (
        content_type == _JSON.encode()
        and length is not None
        and not limits.body_too_large(content_length=length)
        and authorization[:6].lower() == b"token "
    )


def _language(accept_language: str) -> str:
    """The language the answer's labels are in: the first of Accept-Language that we speak, else the default."""
    for code, _quality in parse_accept_lang_header(accept_language[:255]):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def _reply(status: int, body: dict) -> GateReply:
    return GateReply(status, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(), _JSON)


def answer(authorization: str, accept_language: str, body: bytes | None) -> GateReply:
    """File one report: 201 with its receipt, 4xx for bad input or a bad token, 429 over the limits."""
    from moderation.report_api import error, file_app_report  # DRF's serializers: loaded with Django ready

    with translation.override(_language(accept_language)):
        problem = platform_token_problem(authorization, Scope.REPORTS)
        if problem is not None:
            return _reply(*error(*token_refusal(problem, Scope.REPORTS)))
        if body is None:
            return _reply(*error(413, "too_large", "The request body is too large."))
        try:
            data = text_input.load_json(body or b"null", strings=False)
        except text_input.JSONRefused as exc:
            return _reply(*error(400, "parse_error", f"{str(exc)[:1].upper()}{str(exc)[1:]}."))
        return _reply(*file_app_report(data))
