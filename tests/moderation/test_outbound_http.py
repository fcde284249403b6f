"""Outbound HTTP (moderation/outbound_http.py): one request, a deadline, typed errors; and how callers map them."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from moderation import outbound_http, webhook_signing
from moderation.mediaservers import MediaServerBadAnswer, MediaServerError, transport

BODY = b"x" * 10_000


@pytest.fixture
def server():
    """A local HTTP server answering every request with BODY (a 404 under /missing)."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self.send_response(404 if self.path.startswith("/missing") else 200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)

        do_GET = do_POST = _answer

        def log_message(self, *args) -> None:
            pass

    running = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{running.server_address[1]}"
    running.shutdown()
    running.server_close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_whole_answer_is_read_up_to_its_limit(server):
    with outbound_http.exchange("GET", f"{server}/stat", timeout=5) as reply:
        assert reply.status == 200 and reply.read(max_bytes=len(BODY)) == BODY


def test_an_answer_larger_than_the_limit_raises(server):
    with pytest.raises(outbound_http.AnswerTooLarge), outbound_http.exchange("GET", server, timeout=5) as reply:
        reply.read(max_bytes=len(BODY) - 1)


def test_an_excerpt_stops_at_its_limit_and_never_raises(server):
    with outbound_http.exchange("GET", f"{server}/missing", timeout=5) as reply:
        excerpt = reply.read_excerpt(max_bytes=4096)
    assert reply.status == 404 and 4096 <= len(excerpt) < len(BODY)


@pytest.mark.parametrize("url", ["ftp://example.org/", "http:///path", "http://127.0.0.1:99999/"])
def test_a_url_that_cannot_be_sent_to_is_refused_before_connecting(url):
    with pytest.raises(outbound_http.BadURL), outbound_http.exchange("GET", url, timeout=1):
        pass


def test_a_refused_connection_is_unreachable_and_keeps_its_cause():
    url = f"http://127.0.0.1:{closed_port()}/"
    with pytest.raises(outbound_http.Unreachable) as raised, outbound_http.exchange("GET", url, timeout=1):
        pass
    assert isinstance(raised.value.__cause__, ConnectionRefusedError)


def test_a_node_answer_larger_than_the_limit_is_a_bad_answer(server, monkeypatch, settings):
    settings.LIVEWARD_MEDIA_SERVER_TIMEOUT = 5
    monkeypatch.setattr(transport, "MAX_BODY_BYTES", 100)
    with pytest.raises(MediaServerBadAnswer, match="answer larger than 100 bytes"):
        transport.request("GET", server, "stat", node="edge-1")


def test_a_control_url_with_a_bad_port_is_a_media_server_error(settings):
    settings.LIVEWARD_MEDIA_SERVER_TIMEOUT = 5
    with pytest.raises(MediaServerError, match="has a bad port"):
        transport.request("GET", "http://127.0.0.1:99999/", "stat", node="edge-1")


def test_a_webhook_to_a_url_with_a_bad_port_reports_instead_of_raising():
    result = webhook_signing.post("http://127.0.0.1:99999/hooks", b"{}", {}, timeout=1)
    assert not result.ok and result.error == "not an http(s) URL: http://127.0.0.1:99999/hooks"


def test_a_refused_webhook_reads_only_an_excerpt_of_the_answer(server):
    result = webhook_signing.post(f"{server}/missing", b"{}", {}, timeout=5)
    assert not result.ok and result.status == 404
    assert result.error.startswith("HTTP 404 xxx") and len(result.error) <= 300
