"""The gate's HTTP protocol for each media-server kind, independent of the web framework.

nginx-rtmp: form-encoded POST to /gate/nginx-rtmp/<node>/<secret>/<hook>; 2xx allows, 403 denies.
SRS:        JSON POST to /gate/srs/<node>/<secret>/; HTTP 200 with {"code": 0} allows, anything
            else denies.

Two thin adapters call these functions: the Django views in moderation/gate/views.py (tests, WSGI) and the
lean ASGI app in moderation/gate/asgi.py that serves /gate/ in production without the session, CSRF
and locale middleware a machine callback does not need. The node is authenticated by the secret in
the path on every callback, and by its address when the node has an allow-list (gate/nodes.py).
Malformed callbacks get 400 and a deny; nothing here turns an error into an allow. The one allow
without a decision is the rules' own: nginx-rtmp's on_update for a running session while the
database is unavailable, for at most LIVEWARD_GATE_UPDATE_GRACE_SECONDS from the outage's start
(moderation/gate/faults.py); on_publish, and SRS's on_publish, are denied.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

from moderation import actions, text_input
from moderation.gate import faults, rules
from moderation.models import GateDecision, MediaServer

logger = logging.getLogger(__name__)
Reason = GateDecision.Reason

# What a stream key, app and client id may look like, whole (fullmatch: a trailing newline is not
# part of a key); anything else is a malformed callback. Free text (title, addr, param) follows
# moderation/text_input.py: one line, no control characters, no lone surrogates.
_KEY_RE = re.compile(r"[A-Za-z0-9_\-.~]{1,128}")
_APP_RE = re.compile(r"[A-Za-z0-9_\-.]{1,64}")
_CLIENT_RE = re.compile(r"[A-Za-z0-9_\-.:]{1,64}")
_TITLE_MAX = 200
# Node names are slugs (register_media_server); anything else is no node of ours, asked of no database.
_NODE_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")

NGINX_HOOKS = {
    # hook in the URL: the `call` values nginx-rtmp sends with it (seen from Debian's module 1.2.2)
    "on_publish": ("publish",),
    "on_publish_done": ("publish_done",),
    "on_update": ("update_publish",),
}


@dataclass(frozen=True)
class GateReply:
    status: int
    body: bytes
    content_type: str


class BadCallback(ValueError):
    """The callback is malformed; the message says which field."""


def _field(data: dict, name: str, pattern: re.Pattern, *, required: bool = True) -> str:
    value = data.get(name, "")
    if not isinstance(value, str):
        raise BadCallback(f"{name} must be a string")
    if not value and not required:
        return ""
    if not pattern.fullmatch(value):
        raise BadCallback(f"{name} missing or malformed")
    return value


def _text(value: object, name: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadCallback(f"{name} must be a string")
    try:
        text_input.check_text(value, name)
    except text_input.TextRefused as exc:
        raise BadCallback(str(exc)) from None
    return value.strip()[:limit]


def _shown_node(node_name: str) -> str:
    """The node name as the record keeps it: a slug as it is, anything else escaped (repr), never raw."""
    return node_name[:64] if _NODE_RE.fullmatch(node_name) else repr(node_name[:64])[:64]


def _known_node(node_name: str, secret: str, kind: str, addr: str) -> MediaServer | str | None:
    """The node this callback names and authenticates, None, or rules.ADDRESS_REFUSED."""
    if not _NODE_RE.fullmatch(node_name):
        return None
    return rules.authenticate_node(node_name, secret, kind, addr)


def _node_refusal(node: str | None, node_name: str, addr: str) -> tuple[str, str]:
    """The reason and detail recorded for a callback whose node did not authenticate."""
    if node == rules.ADDRESS_REFUSED:
        return Reason.NODE_ADDRESS, f"{_shown_node(node_name)} from {addr or '?'}"
    return Reason.UNKNOWN_NODE, _shown_node(node_name)


# --- nginx-rtmp -----------------------------------------------------------------------------


def _text_reply(status: int, text: str) -> GateReply:
    return GateReply(status, text.encode(), "text/plain; charset=utf-8")


def _nginx_deny(status: int, reason: str, detail: str = "") -> GateReply:
    return _text_reply(status, f"denied: {reason}" + (f" ({detail})" if detail else ""))


def _parse_form(body: bytes) -> dict[str, str]:
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=100)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadCallback(f"not a form body ({exc})") from None
    data: dict[str, str] = {}
    for name, value in pairs:
        data.setdefault(name, value)  # the first occurrence wins: nginx-rtmp puts its own fields first
    return data


def nginx_callback(node_name: str, secret: str, hook: str, body: bytes | None, addr: str) -> GateReply:
    """Answer an nginx-rtmp notify callback; ``body`` None means it was larger than allowed."""
    try:
        return _nginx_callback(node_name, secret, hook, body, addr)
    except Exception as exc:
        # Even the node's lookup needs the database: a running session keeps its grace (faults).
        if hook == "on_update" and faults.keeps_session_through(exc):
            logger.warning("on_update on node %.64s kept on air: database unavailable", node_name)
            return _text_reply(200, "allowed: database unavailable")
        raise


def _nginx_callback(node_name: str, secret: str, hook: str, body: bytes | None, addr: str) -> GateReply:
    if hook not in NGINX_HOOKS:
        return _nginx_deny(404, "unknown hook")
    decision_hook = GateDecision.Hook.UPDATE if hook == "on_update" else GateDecision.Hook.PUBLISH
    addr = addr[:64]
    node = _known_node(node_name, secret, MediaServer.Kind.NGINX_RTMP, addr)
    if not isinstance(node, MediaServer):
        reason, detail = _node_refusal(node, node_name, addr)
        rules.record_rejected_callback(hook=decision_hook, node=None, reason=reason, detail=detail, addr=addr)
        return _nginx_deny(403, reason)
    try:
        if body is None:
            raise BadCallback("body too large")
        data = _parse_form(body)
        call = data.get("call", "")
        if call and call not in NGINX_HOOKS[hook]:
            raise BadCallback(f"call={call[:20]!r} does not match {hook}")
        publish = rules.PublishRequest(
            node=node,
            key_name=_field(data, "name", _KEY_RE),
            app=_field(data, "app", _APP_RE),
            client_id=_field(data, "clientid", _CLIENT_RE),
            addr=_text(data.get("addr"), "addr", 64),
            title=_text(data.get("title"), "title", _TITLE_MAX),
            args={k[:40]: v[:200] for k, v in data.items() if k not in {"name", "app", "clientid", "addr", "call"}},
        )
    except BadCallback as exc:
        if hook != "on_publish_done":
            rules.record_rejected_callback(
                hook=decision_hook, node=node, reason=Reason.BAD_REQUEST, detail=str(exc), addr=addr
            )
        return _nginx_deny(400, Reason.BAD_REQUEST, str(exc))

    if hook == "on_publish_done":
        return _publish_done(publish) or _text_reply(200, "ok")
    outcome = rules.decide_publish(publish) if hook == "on_publish" else rules.decide_update(publish)
    if outcome.allowed:
        return _text_reply(200, "allowed")
    return _nginx_deny(403, outcome.reason, outcome.detail)


def _publish_done(publish: rules.PublishRequest) -> GateReply | None:
    """Close the session's stream; a reply only when that failed (the node may retry)."""
    try:
        actions.end_stream_session(node=publish.node, client_id=publish.client_id, key_name=publish.key_name)
    except Exception:
        logger.exception("could not close stream for %s/%s", publish.node.name, publish.client_id)
        return _text_reply(503, "try again")
    return None


# --- SRS ------------------------------------------------------------------------------------


def _json_reply(status: int, payload: dict) -> GateReply:
    return GateReply(status, json.dumps(payload).encode(), "application/json")


def _srs_deny(status: int, reason: str, detail: str = "") -> GateReply:
    return _json_reply(status, {"code": status, "reason": reason, "detail": detail})


_SRS_OK = _json_reply(200, {"code": 0})


def srs_callback(node_name: str, secret: str, body: bytes | None, addr: str) -> GateReply:
    """Answer an SRS HTTP hook (on_publish or on_unpublish); ``body`` None means too large."""
    addr = addr[:64]
    node = _known_node(node_name, secret, MediaServer.Kind.SRS, addr)
    if not isinstance(node, MediaServer):
        reason, detail = _node_refusal(node, node_name, addr)
        rules.record_rejected_callback(
            hook=GateDecision.Hook.PUBLISH, node=None, reason=reason, detail=detail, addr=addr
        )
        return _srs_deny(403, reason)
    try:
        if body is None:
            raise BadCallback("body too large")
        try:
            data = text_input.load_json(body)
        except text_input.JSONRefused as exc:
            raise BadCallback(str(exc)) from None
        if not isinstance(data, dict):
            raise BadCallback("body is not a JSON object")
        action = data.get("action")
        if not isinstance(action, str) or action not in {"on_publish", "on_unpublish"}:
            raise BadCallback("action must be on_publish or on_unpublish")
        param = _text(data.get("param"), "param", 2000)
        args = dict(parse_qsl(param.lstrip("?"), keep_blank_values=True, max_num_fields=50)) if param else {}
        client_id = data.get("client_id")
        if isinstance(client_id, int) and not isinstance(client_id, bool):
            client_id = str(client_id)  # SRS 3 sent numbers, SRS 4+ sends strings
        publish = rules.PublishRequest(
            node=node,
            key_name=_field(data, "stream", _KEY_RE),
            app=_field(data, "app", _APP_RE),
            client_id=_field({"client_id": client_id}, "client_id", _CLIENT_RE),
            addr=_text(data.get("ip"), "ip", 64),
            title=_text(args.get("title"), "title", _TITLE_MAX),
            args={k[:40]: v[:200] for k, v in args.items()},
        )
    except (BadCallback, ValueError) as exc:
        rules.record_rejected_callback(
            hook=GateDecision.Hook.PUBLISH, node=node, reason=Reason.BAD_REQUEST, detail=str(exc)[:200], addr=addr
        )
        return _srs_deny(400, Reason.BAD_REQUEST, str(exc)[:200])

    if action == "on_unpublish":
        return _publish_done(publish) or _SRS_OK
    outcome = rules.decide_publish(publish)
    if outcome.allowed:
        return _SRS_OK
    return _srs_deny(403, outcome.reason, outcome.detail)
