"""The fields of a console WebSocket frame: each read, checked and refused with the error the client sees."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from moderation.models import ModerationAction

REQUEST_ID = re.compile(r"[A-Za-z0-9_\-:.]{1,64}")


class FrameError(Exception):
    """A frame the console cannot act on: ``code`` and the message go back to the client as an error frame."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def int_field(message: dict, name: str, *, default, minimum: int, maximum: int):
    value = message.get(name, default)
    if value is None and default is None:
        raise FrameError("missing_field", f"{name} is required")
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        raise FrameError("bad_field", f"{name} must be an integer between {minimum} and {maximum}")
    return value


def request_id(message: dict) -> str:
    request_id = message.get("request_id")
    if not isinstance(request_id, str) or not REQUEST_ID.fullmatch(request_id):
        raise FrameError("missing_field", "request_id: 1–64 letters, digits, - _ : .")
    return request_id


def id_field(message: dict, name: str) -> int:
    value = message.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise FrameError("missing_field", f"{name} must be an id")
    return value


def note(message: dict, limit: int) -> str:
    note = message.get("note", "")
    if not isinstance(note, str) or len(note) > limit:
        raise FrameError("bad_field", f"note must be text of at most {limit} characters")
    return note


def ack(action: ModerationAction, request_id: str, received: float) -> dict:
    """The acknowledgement of an action: what the node said so far and the server's timings."""
    stamps = dict(getattr(action, "stamps", None) or {})  # one copy: a cut thread may still add to it
    return {
        "type": "ack",
        "request_id": request_id,
        "replayed": bool(getattr(action, "replayed", False)),
        "action": {"id": action.pk, "kind": action.kind, "media_status": action.media_status},
        "timings": {name: round((at - received) * 1000, 2) for name, at in stamps.items()},
    }
