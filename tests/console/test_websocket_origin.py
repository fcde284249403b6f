"""The console's WebSocket opens only from the console's own origin: scheme, host and port (issue 12)."""

from __future__ import annotations

import pytest

from console.asgi import application
from console.websocket_origin import origin_allowed
from tests.console.communicator import WebsocketCommunicator


def scope(origin: str | None, host: str = "console.example.com", *, scheme: str = "ws", **headers: str) -> dict:
    pairs = [(b"host", host.encode())]
    if origin is not None:
        pairs.append((b"origin", origin.encode()))
    pairs += [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
    return {"type": "websocket", "scheme": scheme, "headers": pairs}


@pytest.fixture(autouse=True)
def _hosts(settings):
    settings.ALLOWED_HOSTS = ["console.example.com", "127.0.0.1"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://ops.example.com"]


def test_the_consoles_own_origin_opens():
    assert origin_allowed(scope("http://console.example.com"))
    assert origin_allowed(scope("http://console.example.com:80"))
    assert origin_allowed(scope("http://127.0.0.1:8000", host="127.0.0.1:8000"))
    assert origin_allowed(scope("https://console.example.com", scheme="wss"))
    assert origin_allowed(scope("HTTPS://Console.Example.com:443", host="console.example.com:443", scheme="wss"))
    assert origin_allowed(scope("https://ops.example.com"))  # trusted by name


def test_another_port_scheme_or_host_is_refused():
    assert not origin_allowed(scope("http://console.example.com:8080"))
    assert not origin_allowed(scope("https://console.example.com"))  # the page was plain http
    assert not origin_allowed(scope("http://console.example.com", scheme="wss"))  # the page was https
    assert not origin_allowed(scope("http://127.0.0.1:9000", host="127.0.0.1:8000"))
    assert not origin_allowed(scope("http://evil.example"))
    assert not origin_allowed(scope("http://console.example.com.evil.example"))
    assert not origin_allowed(scope("null"))
    assert not origin_allowed(scope(None))
    assert not origin_allowed(scope("http://console.example.com:99999"))
    assert not origin_allowed(scope("http://console.example.com/path"))
    # A host the console does not serve is refused even when Origin matches it.
    assert not origin_allowed(scope("http://evil.example", host="evil.example"))


def test_behind_a_tls_proxy_the_forwarded_scheme_counts(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert origin_allowed(scope("https://console.example.com", x_forwarded_proto="https"))
    assert not origin_allowed(scope("http://console.example.com", x_forwarded_proto="https"))
    assert not origin_allowed(scope("https://console.example.com"))  # no header: plain http
    settings.SECURE_PROXY_SSL_HEADER = None
    assert not origin_allowed(scope("https://console.example.com", x_forwarded_proto="https"))  # not trusted


@pytest.mark.parametrize("origin", [b"http://127.0.0.1:8001", b"https://127.0.0.1:8000", b"http://evil.example"])
async def test_the_asgi_application_refuses_the_handshake_before_any_session(origin):
    headers = [(b"origin", origin), (b"host", b"127.0.0.1:8000")]
    ws = WebsocketCommunicator(application, "/ws/console/", headers=headers)
    connected, _code = await ws.connect(timeout=5)
    assert not connected
