"""The console's WebSocket opens only from a page of the console itself (docs/security.md).

The browser's ``Origin`` must equal the request's own origin in scheme, host and port: the scheme
the browser used (``https`` for ``wss``, or behind a TLS proxy that says so with
``SECURE_PROXY_SSL_HEADER``), and the ``Host`` it sent, which must be one of ``ALLOWED_HOSTS``. An
origin listed in ``CSRF_TRUSTED_ORIGINS`` is accepted as well. Anything else, a missing Origin
included, is refused before the handshake.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host

from channels.security.websocket import WebsocketDenier

DEFAULT_PORTS = {"http": 80, "https": 443}


def normalised_origin(value: str) -> tuple[str, str, int] | None:
    """Return (scheme, host, port) of an origin, default ports filled in; None if it is no origin."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def _header(scope: dict, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def _secure(scope: dict) -> bool:
    if scope.get("scheme") in ("wss", "https"):
        return True
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, expected = proxy_header
        header = name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin-1")
        return _header(scope, header).split(",")[0].strip() == expected
    return False


def origin_allowed(scope: dict) -> bool:
    """Whether the handshake's Origin is the console's own (scheme, host and port) or a trusted one."""
    origin = normalised_origin(_header(scope, b"origin"))
    if origin is None:
        return False
    trusted = {normalised_origin(value) for value in settings.CSRF_TRUSTED_ORIGINS}
    if origin in trusted:
        return True
    host = _header(scope, b"host")
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    return origin == normalised_origin(f"{'https' if _secure(scope) else 'http'}://{host}")


class SameOriginWebSocket:
    """ASGI middleware: refuse a WebSocket whose Origin is not the console's own."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
