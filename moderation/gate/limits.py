"""The gate's limit on request bodies: one check for the lean ASGI front and the Django views.

The same check serves the server's limits on every other request (console/body_limits.py).

A body larger than settings.LIVEWARD_GATE_MAX_BODY is not read past the limit: the reader hands
None to the protocol, which answers it (a 400 deny to a media server's callback, a 413 to the
registration check).
"""

from __future__ import annotations

from django.conf import settings


def max_body_bytes() -> int:
    """Return the largest request body the gate reads."""
    return settings.LIVEWARD_GATE_MAX_BODY


def body_too_large(*, content_length: str | bytes | None = None, received: int = 0, limit: int | None = None) -> bool:
    """Tell whether a body is over the limit, by its declared Content-Length or the bytes received.

    An absent Content-Length (None) says nothing, the bytes received decide; one that is not a
    number counts as too large, so a body behind a malformed header is never read. ``limit``
    defaults to the gate's; the server's limits for other requests (console/body_limits.py) pass theirs.
    """
    if limit is None:
        limit = max_body_bytes()
    if received > limit:
        return True
    if content_length is None:
        return False
    try:
        return int(content_length) > limit
    except ValueError:
        return True
