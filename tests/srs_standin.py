"""A small stand-in for SRS (which cannot run here), speaking the parts of its API the console uses.

It follows SRS 5's documented behaviour:

- HTTP API v1: ``GET /api/v1/streams?start=&count=`` lists streams (default page of 10) with
  ``publish: {"active": true, "cid": "<client id>"}``; ``GET /api/v1/clients/{cid}`` answers one
  client (``{"code": 0, "client": {"id", "url": "/app/stream", "name", "type", "publish", …}}``);
  ``DELETE /api/v1/clients/{cid}`` kicks a client and answers ``{"code": 0}``. Both answer HTTP 200
  with ``{"code": 2049}`` (ERROR_RTMP_CLIENT_NOT_FOUND) for an unknown client — SRS reports API
  errors in the body's code, not in the HTTP status. The client id is the ``client_id`` its hooks
  sent. One node may carry several publishers of one key under different apps (``live/k``,
  ``live2/k``): SRS keeps a stream per vhost, app and name.
- HTTP callbacks: a publish first POSTs ``on_publish`` (JSON: server_id, service_id, action,
  client_id, ip, vhost, app, tcUrl, stream, param, stream_url, stream_id) and goes live only on
  HTTP 200 with ``{"code": 0}`` (or a bare ``0``); an ended or kicked publish POSTs ``on_unpublish``
  with the same fields, after the client is gone.

Fixtures (import ``srs_standin_fixture`` / ``srs_live_fixture`` / ``srs_live_pair_fixture`` into a test
module): ``srs_standin`` alone; ``srs_live``, registered as a node whose hooks call the gate at
pytest-django's live_server; ``srs_live_pair``, two such nodes.

``mode`` makes the API misbehave for adapter tests: "http_500", "garbage" or "hang".
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from moderation import actions
from moderation.models import MediaServer

CLIENT_NOT_FOUND = 2049  # ERROR_RTMP_CLIENT_NOT_FOUND
DEFAULT_VHOST = "__defaultVhost__"
NODE_NAME = "srs-standin"
NODE_SECRET = "srs-node-secret-for-tests"


@dataclass
class PublishedStream:
    id: str
    vhost: str
    app: str
    name: str
    client_id: str
    ip: str
    param: str
    started: float = field(default_factory=time.monotonic)


@dataclass
class HookCall:
    action: str
    body: dict
    status: int | None
    answer: str


class SrsStandIn:
    """An SRS lookalike on a free loopback port; ``url`` is its HTTP API base (the control_url)."""

    def __init__(self, hook_url: str | None = None) -> None:
        self.hook_url = hook_url
        self.node: MediaServer | None = None  # set when registered with the console
        self.mode = "ok"
        self.server_id = "vid-" + secrets.token_hex(4)
        self.streams: dict[str, PublishedStream] = {}  # by client id
        self.hook_calls: list[HookCall] = []
        self.api_requests: list[str] = []
        self._lock = threading.Lock()
        self._hook_threads: list[threading.Thread] = []
        self._release_hang = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="srs-standin", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> SrsStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release_hang.set()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._hook_threads:
            thread.join(timeout=10)

    # --- what an encoder does to SRS ---

    def publish(self, stream: str, *, app: str = "live", ip: str = "127.0.0.1", param: str = "") -> str | None:
        """Publish like an RTMP encoder: ask on_publish; return the client id if SRS would go live."""
        client_id = secrets.token_hex(4)
        entry = PublishedStream(
            id="vid-" + secrets.token_hex(4),
            vhost=DEFAULT_VHOST,
            app=app,
            name=stream,
            client_id=client_id,
            ip=ip,
            param=param,
        )
        if not self._call_hook("on_publish", entry):
            return None
        with self._lock:
            self.streams[client_id] = entry
        return client_id

    def unpublish(self, client_id: str) -> bool:
        """End a publish as if the encoder stopped; SRS then calls on_unpublish."""
        with self._lock:
            entry = self.streams.pop(client_id, None)
        if entry is None:
            return False
        # SRS calls on_unpublish from the ending connection, after answering whoever ended it.
        thread = threading.Thread(target=self._call_hook, args=("on_unpublish", entry), daemon=True)
        self._hook_threads.append(thread)
        thread.start()
        return True

    def _call_hook(self, action: str, entry: PublishedStream) -> bool:
        if self.hook_url is None:
            return True
        body = {
            "server_id": self.server_id,
            "service_id": "standin",
            "action": action,
            "client_id": entry.client_id,
            "ip": entry.ip,
            "vhost": entry.vhost,
            "app": entry.app,
            "tcUrl": f"rtmp://127.0.0.1/{entry.app}",
            "stream": entry.name,
            "param": entry.param,
            "stream_url": f"/{entry.app}/{entry.name}",
            "stream_id": entry.id,
        }
        request = urllib.request.Request(
            self.hook_url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        status, answer = None, ""
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, answer = response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            status, answer = exc.code, exc.read().decode(errors="replace")
        except OSError as exc:
            answer = repr(exc)
        self.hook_calls.append(HookCall(action=action, body=body, status=status, answer=answer))
        return status == 200 and _code_is_zero(answer)

    # --- the HTTP API ---

    def stream_document(self, entry: PublishedStream) -> dict:
        return {
            "id": entry.id,
            "name": entry.name,
            "vhost": "vid-default",
            "app": entry.app,
            "tcUrl": f"rtmp://127.0.0.1/{entry.app}",
            "url": f"/{entry.app}/{entry.name}",
            "live_ms": int(time.time() * 1000),
            "clients": 1,
            "frames": 0,
            "send_bytes": 0,
            "recv_bytes": int((time.monotonic() - entry.started) * 60_000),
            "kbps": {"recv_30s": 480, "send_30s": 0},
            "publish": {"active": True, "cid": entry.client_id},
            "video": {"codec": "H264", "profile": "High", "level": "3.1", "width": 320, "height": 240},
            "audio": {"codec": "AAC", "sample_rate": 44100, "channel": 1, "profile": "LC"},
        }

    def list_streams(self, start: int, count: int) -> dict:
        with self._lock:
            entries = list(self.streams.values())
        page = entries[start : start + count]
        return {
            "code": 0,
            "server": self.server_id,
            "service": "standin",
            "pid": "1",
            "streams": [self.stream_document(e) for e in page],
        }

    def client_document(self, client_id: str) -> dict:
        with self._lock:
            entry = self.streams.get(client_id)
        if entry is None:
            return {"code": CLIENT_NOT_FOUND}
        client = {
            "id": entry.client_id,
            "vhost": "vid-default",
            "stream": entry.id,
            "ip": entry.ip,
            "pageUrl": "",
            "swfUrl": "",
            "tcUrl": f"rtmp://127.0.0.1/{entry.app}",
            "url": f"/{entry.app}/{entry.name}",
            "name": entry.name,
            "type": "fmle-publish",
            "publish": True,
            "alive": round(time.monotonic() - entry.started, 3),
            "send_bytes": 0,
            "recv_bytes": int((time.monotonic() - entry.started) * 60_000),
            "kbps": {"recv_30s": 480, "send_30s": 0},
        }
        return {"code": 0, "server": self.server_id, "service": "standin", "pid": "1", "client": client}

    def kick(self, client_id: str) -> dict:
        if not self.unpublish(client_id):
            return {"code": CLIENT_NOT_FOUND}
        return {"code": 0}


def _code_is_zero(answer: str) -> bool:
    try:
        document = json.loads(answer)
    except ValueError:
        return False
    if isinstance(document, dict):
        document = document.get("code")
    return document == 0 and not isinstance(document, bool)


def _client_id_in(path: str) -> str:
    """The client id of an ``/api/v1/clients/{id}`` path, or '' for any other path."""
    prefix = "/api/v1/clients/"
    return unquote(path[len(prefix) :]) if path.startswith(prefix) else ""


def _handler_for(standin: SrsStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            client_id = _client_id_in(url.path)
            if client_id:
                self._answer(lambda: standin.client_document(client_id))
                return
            if url.path.rstrip("/") != "/api/v1/streams":
                self._json(404, {"code": 404})
                return
            query = parse_qs(url.query)
            start = max(0, int(query.get("start", ["0"])[0] or 0))
            count = max(1, int(query.get("count", ["10"])[0] or 10))
            self._answer(lambda: standin.list_streams(start, count))

        def do_DELETE(self) -> None:
            client_id = _client_id_in(urlsplit(self.path).path)
            if not client_id:
                self._json(404, {"code": 404})
                return
            self._answer(lambda: standin.kick(client_id))

        def _answer(self, build) -> None:
            standin.api_requests.append(f"{self.command} {self.path}")
            if standin.mode == "http_500":
                self._json(500, {"code": 1000})
            elif standin.mode == "garbage":
                self._raw(200, b"<html>502 bad gateway, or so</html>")
            elif standin.mode == "hang":
                standin._release_hang.wait(30)
            else:
                self._json(200, build())

        def _json(self, status: int, document: dict) -> None:
            self._raw(status, json.dumps(document).encode(), "application/json")

        def _raw(self, status: int, body: bytes, content_type: str = "text/html") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:
            pass  # keep test output quiet

    return Handler


@pytest.fixture(name="srs_standin")
def srs_standin_fixture() -> Iterator[SrsStandIn]:
    """Run a stand-in that calls no hooks (for adapter-only tests)."""
    standin = SrsStandIn().start()
    yield standin
    standin.stop()


def registered_standin(server_url: str, name: str = NODE_NAME, secret: str = NODE_SECRET) -> SrsStandIn:
    """Start a stand-in registered as node ``name`` (``.node``) whose hooks call the gate at ``server_url``."""
    port = urlsplit(server_url).port
    standin = SrsStandIn(hook_url=f"http://127.0.0.1:{port}/gate/srs/{name}/{secret}/").start()
    standin.node, _secret = actions.register_media_server(
        name, kind=MediaServer.Kind.SRS, control_url=standin.url, secret=secret
    )
    return standin


@pytest.fixture(name="srs_live")
def srs_live_fixture(live_server) -> Iterator[tuple[SrsStandIn, MediaServer]]:
    """Run a stand-in registered as node ``srs-standin`` whose hooks call the gate at ``live_server``."""
    standin = registered_standin(live_server.url)
    yield standin, standin.node
    standin.stop()


@pytest.fixture(name="srs_live_pair")
def srs_live_pair_fixture(live_server) -> Iterator[tuple[SrsStandIn, SrsStandIn]]:
    """Run two registered stand-ins, ``srs-standin`` and ``srs-standin-2``, both calling the gate at ``live_server``."""
    first = registered_standin(live_server.url)
    second = registered_standin(live_server.url, f"{NODE_NAME}-2", f"{NODE_SECRET}-2")
    yield first, second
    first.stop()
    second.stop()
