"""HTTP callbacks of the media servers into the ingest gate.

nginx-rtmp: form-encoded POST to /gate/nginx-rtmp/<node>/<secret>/<hook>; 2xx allows, 403 denies.
SRS:        JSON POST to /gate/srs/<node>/<secret>/; HTTP 200 with {"code": 0} allows, anything
            else denies.

The node is authenticated by the secret in the path on every callback. Malformed callbacks get
400 and a deny; nothing in here lets an error become an allow.
"""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import parse_qsl

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from moderation import actions, gate
from moderation.models import GateDecision, MediaServer

logger = logging.getLogger(__name__)
Reason = GateDecision.Reason

# What a stream key, app and client id may look like; anything else is a malformed callback.
_KEY_RE = re.compile(r"^[A-Za-z0-9_\-.~]{1,128}$")
_APP_RE = re.compile(r"^[A-Za-z0-9_\-.]{1,64}$")
_CLIENT_RE = re.compile(r"^[A-Za-z0-9_\-.:]{1,64}$")
_TITLE_MAX = 200


class BadCallback(ValueError):
    """The callback is malformed; the message says which field."""


def _read_body(request: HttpRequest) -> bytes:
    limit = settings.LIVEWARD_GATE_MAX_BODY
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BadCallback("bad Content-Length") from None
    if length > limit:
        raise BadCallback(f"body larger than {limit} bytes")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise BadCallback(f"body larger than {limit} bytes")
    return body


def _field(data: dict, name: str, pattern: re.Pattern, *, required: bool = True) -> str:
    value = data.get(name, "")
    if not isinstance(value, str):
        raise BadCallback(f"{name} must be a string")
    if not value and not required:
        return ""
    if not pattern.match(value):
        raise BadCallback(f"{name} missing or malformed")
    return value


def _text(value: object, name: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadCallback(f"{name} must be a string")
    if "\x00" in value:
        raise BadCallback(f"{name} contains NUL")
    return value.strip()[:limit]


def _deny(status: int, reason: str, detail: str = "") -> HttpResponse:
    body = f"denied: {reason}" + (f" ({detail})" if detail else "")
    return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")


# --- nginx-rtmp -----------------------------------------------------------------------------

_NGINX_HOOKS = {
    "on_publish": ("publish",),
    "on_publish_done": ("publish_done",),
    "on_update": ("update_publish", "update"),
}


def _parse_nginx_form(body: bytes) -> dict[str, str]:
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=100)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadCallback(f"not a form body ({exc})") from None
    data: dict[str, str] = {}
    for name, value in pairs:
        data.setdefault(name, value)  # the first occurrence wins, as nginx-rtmp puts its own fields first
    return data


@csrf_exempt
@require_POST
def nginx_rtmp_callback(request: HttpRequest, node_name: str, secret: str, hook: str) -> HttpResponse:
    """Answer an nginx-rtmp notify callback: on_publish, on_publish_done or on_update."""
    if hook not in _NGINX_HOOKS:
        return _deny(404, "unknown hook")
    decision_hook = GateDecision.Hook.UPDATE if hook == "on_update" else GateDecision.Hook.PUBLISH
    addr = (request.META.get("REMOTE_ADDR") or "")[:64]
    node = gate.authenticate_node(node_name, secret, MediaServer.Kind.NGINX_RTMP)
    if node is None:
        gate.record_rejected_callback(
            hook=decision_hook, node=None, reason=Reason.UNKNOWN_NODE, detail=node_name[:64], addr=addr
        )
        return _deny(403, Reason.UNKNOWN_NODE)
    try:
        data = _parse_nginx_form(_read_body(request))
        call = data.get("call", "")
        if call and call not in _NGINX_HOOKS[hook]:
            raise BadCallback(f"call={call!r} does not match {hook}")
        publish = gate.PublishRequest(
            node=node,
            key_name=_field(data, "name", _KEY_RE),
            app=_field(data, "app", _APP_RE),
            client_id=_field(data, "clientid", _CLIENT_RE),
            addr=_text(data.get("addr"), "addr", 64),
            title=_text(data.get("title"), "title", _TITLE_MAX),
            args={k: v[:200] for k, v in data.items() if k not in {"name", "app", "clientid", "addr", "call"}},
        )
    except BadCallback as exc:
        if hook != "on_publish_done":
            gate.record_rejected_callback(
                hook=decision_hook, node=node, reason=Reason.BAD_REQUEST, detail=str(exc), addr=addr
            )
        return _deny(400, Reason.BAD_REQUEST, str(exc))

    if hook == "on_publish_done":
        return _publish_done(publish, ok=lambda: HttpResponse("ok", content_type="text/plain"))
    outcome = gate.decide_publish(publish) if hook == "on_publish" else gate.decide_update(publish)
    if outcome.allowed:
        return HttpResponse("allowed", content_type="text/plain")
    return _deny(403, outcome.reason, outcome.detail)


def _publish_done(publish: gate.PublishRequest, *, ok) -> HttpResponse:
    try:
        actions.end_stream_session(node=publish.node, client_id=publish.client_id, key_name=publish.key_name)
    except Exception:
        logger.exception("could not close stream for %s/%s", publish.node.name, publish.client_id)
        return HttpResponse("try again", status=503, content_type="text/plain")
    return ok()


# --- SRS ------------------------------------------------------------------------------------


def _srs_deny(status: int, reason: str, detail: str = "") -> JsonResponse:
    return JsonResponse({"code": status, "reason": reason, "detail": detail}, status=status)


def _srs_ok() -> JsonResponse:
    return JsonResponse({"code": 0})


@csrf_exempt
@require_POST
def srs_callback(request: HttpRequest, node_name: str, secret: str) -> HttpResponse:
    """Answer an SRS HTTP hook: on_publish or on_unpublish (JSON body)."""
    addr = (request.META.get("REMOTE_ADDR") or "")[:64]
    node = gate.authenticate_node(node_name, secret, MediaServer.Kind.SRS)
    if node is None:
        gate.record_rejected_callback(
            hook=GateDecision.Hook.PUBLISH, node=None, reason=Reason.UNKNOWN_NODE, detail=node_name[:64], addr=addr
        )
        return _srs_deny(403, Reason.UNKNOWN_NODE)
    try:
        body = _read_body(request)
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            raise BadCallback("body is not JSON") from None
        if not isinstance(data, dict):
            raise BadCallback("body is not a JSON object")
        action = data.get("action")
        if action not in {"on_publish", "on_unpublish"}:
            raise BadCallback("action must be on_publish or on_unpublish")
        param = _text(data.get("param"), "param", 2000)
        args = dict(parse_qsl(param.lstrip("?"), keep_blank_values=True, max_num_fields=50)) if param else {}
        client_id = data.get("client_id")
        if isinstance(client_id, int) and not isinstance(client_id, bool):
            client_id = str(client_id)  # SRS 3 sent numbers, SRS 4+ sends strings
        publish = gate.PublishRequest(
            node=node,
            key_name=_field(data, "stream", _KEY_RE),
            app=_field(data, "app", _APP_RE),
            client_id=_field({"client_id": client_id}, "client_id", _CLIENT_RE),
            addr=_text(data.get("ip"), "ip", 64),
            title=args.get("title", "")[:_TITLE_MAX],
            args={k: v[:200] for k, v in args.items()},
        )
    except BadCallback as exc:
        gate.record_rejected_callback(
            hook=GateDecision.Hook.PUBLISH, node=node, reason=Reason.BAD_REQUEST, detail=str(exc), addr=addr
        )
        return _srs_deny(400, Reason.BAD_REQUEST, str(exc))

    if action == "on_unpublish":
        return _publish_done(publish, ok=_srs_ok)
    outcome = gate.decide_publish(publish)
    if outcome.allowed:
        return _srs_ok()
    return _srs_deny(403, outcome.reason, outcome.detail)
