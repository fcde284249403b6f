"""The gate as production serves it: the lean ASGI app in front of Django, on its own threads."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlencode

import pytest

from console.asgi import application
from moderation.gate import asgi
from moderation.models import GateDecision, Stream
from tests.conftest import NODE_SECRET

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _gate_threads():
    yield
    asgi.shutdown()  # close the gate threads' connections before the test database goes


def call(path: str, body: bytes = b"", *, method: str = "POST", content_type: str = "", chunks: int = 1):
    """Send one HTTP request through the ASGI application; return (status, headers, body)."""

    async def run():
        headers = [(b"host", b"127.0.0.1"), (b"content-length", str(len(body)).encode())]
        if content_type:
            headers.append((b"content-type", content_type.encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": headers,
            "client": ("203.0.113.5", 40000),
            "server": ("127.0.0.1", 8000),
        }
        size = max(1, -(-len(body) // chunks))
        parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
        inbox = [
            {"type": "http.request", "body": part, "more_body": index < len(parts) - 1}
            for index, part in enumerate(parts)
        ]
        sent: list[dict] = []

        async def receive():
            if inbox:
                return inbox.pop(0)
            await asyncio.Event().wait()  # the client stays connected until the response is sent

        async def send(message):
            sent.append(message)

        await application(scope, receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return start["status"], dict(start["headers"]), content

    return asyncio.run(run())


FORM = "application/x-www-form-urlencoded"


def form(key: str, client_id: str = "31", call_value: str = "publish") -> bytes:
    return urlencode(
        {"app": "live", "name": key, "addr": "203.0.113.5", "clientid": client_id, "call": call_value, "type": "live"}
    ).encode()


def test_allowed_publish_opens_the_stream_through_the_asgi_gate(nginx_node, stream_key):
    status, _headers, body = call(
        f"/gate/nginx-rtmp/edge-1/{NODE_SECRET}/on_publish", form(stream_key.key), content_type=FORM
    )
    assert status == 200 and body == b"allowed"
    stream = Stream.objects.live().get()
    assert stream.client_id == "31" and stream.addr == "203.0.113.5"
    status, _headers, _body = call(
        f"/gate/nginx-rtmp/edge-1/{NODE_SECRET}/on_publish_done", form(stream_key.key, call_value="publish_done")
    )
    assert status == 200 and not Stream.objects.live().exists()


def test_body_in_several_chunks_is_read_whole(nginx_node, stream_key):
    status, _h, _b = call(f"/gate/nginx-rtmp/edge-1/{NODE_SECRET}/on_publish", form(stream_key.key), chunks=5)
    assert status == 200 and Stream.objects.live().exists()


def test_denied_publish_is_403_with_the_reason(nginx_node, stream_key):
    status, _h, body = call(f"/gate/nginx-rtmp/edge-1/{NODE_SECRET}/on_publish", form("unknown-key"))
    assert status == 403 and b"unknown_key" in body
    assert GateDecision.objects.get().reason == GateDecision.Reason.UNKNOWN_KEY


def test_bad_secret_is_403(nginx_node, stream_key):
    status, _h, _b = call("/gate/nginx-rtmp/edge-1/wrong/on_publish", form(stream_key.key))
    assert status == 403 and not Stream.objects.exists()


def test_oversize_body_is_400_and_changes_nothing(nginx_node, stream_key):
    body = form(stream_key.key) + b"&pad=" + b"x" * 100_000
    status, _h, _b = call(f"/gate/nginx-rtmp/edge-1/{NODE_SECRET}/on_publish", body, chunks=20)
    assert status == 400 and not Stream.objects.exists()


def test_garbage_is_400(nginx_node, stream_key):
    status, _h, _b = call(f"/gate/nginx-rtmp/edge-1/{NODE_SECRET}/on_publish", b"\xff\xfe\x00\x01")
    assert status == 400


def test_get_is_405(nginx_node):
    status, headers, _b = call(f"/gate/nginx-rtmp/edge-1/{NODE_SECRET}/on_publish", method="GET")
    assert status == 405 and headers[b"allow"] == b"POST"


def test_srs_through_the_asgi_gate(srs_node, stream_key):
    payload = {
        "action": "on_publish",
        "client_id": "srs-77",
        "ip": "198.51.100.2",
        "vhost": "__defaultVhost__",
        "app": "live",
        "stream": stream_key.key,
        "param": "",
        "server_id": "vid-1",
    }
    status, _h, body = call(
        f"/gate/srs/srs-1/{NODE_SECRET}/", json.dumps(payload).encode(), content_type="application/json"
    )
    assert status == 200 and json.loads(body) == {"code": 0}
    assert Stream.objects.live().get().client_id == "srs-77"


def test_other_paths_still_reach_django(db):
    status, _h, body = call("/healthz", method="GET")
    assert status == 200 and json.loads(body)["ok"] is True
    status, _h, _b = call("/gate/unknown/thing", form("k"))
    assert status == 404


def test_a_database_failure_denies_and_the_next_call_recovers(nginx_node, stream_key, monkeypatch):
    from moderation.gate import rules

    def broken(name, secret, kind):
        raise RuntimeError("database went away")

    monkeypatch.setattr(rules, "authenticate_node", broken)
    status, _h, _b = call(f"/gate/nginx-rtmp/edge-1/{NODE_SECRET}/on_publish", form(stream_key.key))
    assert status == 503 and not Stream.objects.exists()
    monkeypatch.undo()
    status, _h, _b = call(f"/gate/nginx-rtmp/edge-1/{NODE_SECRET}/on_publish", form(stream_key.key))
    assert status == 200


def test_the_lean_front_checks_a_node_allow_list_against_the_caller_it_sees(nginx_node, stream_key):
    from moderation import actions
    from moderation.gate import rules

    path = f"/gate/nginx-rtmp/edge-1/{NODE_SECRET}/on_publish"  # the ASGI test caller is 203.0.113.5
    actions.set_media_server_networks(nginx_node, networks=["10.0.0.0/8"], actor=None)
    rules.forget_cached_nodes()
    status, _headers, body = call(path, form(stream_key.key), content_type=FORM)
    assert (status, body) == (403, b"denied: node_address")
    actions.set_media_server_networks(nginx_node, networks=["203.0.113.0/24"], actor=None)
    rules.forget_cached_nodes()
    status, _headers, _body = call(path, form(stream_key.key), content_type=FORM)
    assert status == 200
