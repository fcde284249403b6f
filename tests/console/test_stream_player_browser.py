"""The stream page's live player: a real stream, published by ffmpeg to Debian's nginx-rtmp with HLS on,
plays in Chromium through the console's relay; the stream key never reaches the browser."""

from __future__ import annotations

import http.server
import threading
import time

import pytest

from moderation import actions
from moderation.models import MediaServer, Stream
from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401
from tests.conftest import NODE_SECRET
from tests.console.test_wall_browser import publish_through_the_gate
from tests.console.test_wall_looks_browser import screenshot
from tests.media import nginx_rtmp_asgi_fixture, wait_until  # noqa: F401 (the nginx_rtmp_asgi fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.media_server,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_stream_page_plays_the_node_hls_without_the_key(
    asgi_server,  # noqa: F811
    nginx_rtmp_asgi,
    new_page,  # noqa: F811
    patroller,
    stream_key,
):
    actions.set_media_server_watch_url(nginx_rtmp_asgi.node, watch_url=nginx_rtmp_asgi.watch_url, actor=None)
    publish = nginx_rtmp_asgi.publish(stream_key.issued_key)
    stream = wait_until(
        lambda: Stream.objects.live().filter(key=stream_key).first(),
        timeout=15,
        message=f"the gate to open a live stream (ffmpeg logs to {publish.stderr_path})",
    )
    page = new_page(viewport={"width": 1440, "height": 900})
    requested: list[str] = []
    background: list[bool] = []  # each relayed file asked as a background fetch (not activity)

    def on_request(request) -> None:
        requested.append(request.url)
        if "/watch/" in request.url:
            background.append(request.headers.get("x-requested-with") == "fetch")

    page.on("request", on_request)
    log_in(page, asgi_server, patroller, next_path=f"/streams/{stream.pk}/")
    page.wait_for_selector("#stream-player")
    # Playing: the picture has data for the current position and the clock moves on.
    page.wait_for_function("() => document.querySelector('#stream-player').readyState >= 2", timeout=30_000)
    first = page.evaluate("() => document.querySelector('#stream-player').currentTime")
    page.wait_for_function(
        f"() => document.querySelector('#stream-player').currentTime > {first} + 0.5", timeout=15_000
    )
    page.wait_for_selector('#stream-player-status[data-state="playing"]')
    assert "直播画面" in page.inner_text("#stream-player-status")
    # Through the console, and nowhere the key shows: not the page, not a URL the browser asked for.
    key = stream_key.issued_key
    assert key not in page.content()
    watched = [url for url in requested if "/watch/" in url]
    assert any(url.endswith(".ts") for url in watched), watched
    assert all(url.startswith(asgi_server.url) for url in watched)
    assert not [url for url in requested if key in url]
    assert background and all(background)  # an open player keeps no session from idling out
    screenshot(page, "stream-page")

    # The publisher stops: the page learns it over the socket and the player stops with it.
    publish.stop()
    page.wait_for_selector('#stream-player-status[data-state="ended"]', timeout=20_000)
    assert page.inner_text("#stream-player-status") == "直播已结束，播放器已停止。"


def test_an_ended_stream_has_no_player_and_its_files_are_gone(
    asgi_server,  # noqa: F811
    nginx_rtmp_asgi,
    browser_page,  # noqa: F811
    patroller,
    stream_key,
):
    actions.set_media_server_watch_url(nginx_rtmp_asgi.node, watch_url=nginx_rtmp_asgi.watch_url, actor=None)
    publish = nginx_rtmp_asgi.publish(stream_key.issued_key)
    stream = wait_until(lambda: Stream.objects.live().filter(key=stream_key).first(), timeout=15, message="live")
    publish.stop()
    wait_until(lambda: not Stream.objects.live().filter(pk=stream.pk).exists(), timeout=15, message="ended")
    page = browser_page
    log_in(page, asgi_server, patroller, next_path=f"/streams/{stream.pk}/")
    page.wait_for_selector(f"#card-{stream.pk}")
    assert page.query_selector("#stream-player") is None
    response = page.request.get(f"{asgi_server.url}/streams/{stream.pk}/watch/~.m3u8")
    assert response.status == 404


class _FlvNode(http.server.BaseHTTPRequestHandler):
    """A node's HTTP-FLV endpoint: the FLV header, then a tag every 50 ms until 40 are sent."""

    paths: list[str] = []

    def do_GET(self):
        self.paths.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "video/x-flv")
        self.end_headers()
        self.wfile.write(b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00")
        for number in range(40):
            self.wfile.write(f"tag-{number:02d};".encode())
            self.wfile.flush()
            time.sleep(0.05)

    def log_message(self, *args):
        pass


def test_http_flv_is_relayed_as_it_comes_and_the_page_loads_flv_js(
    asgi_server,  # noqa: F811
    browser_page,  # noqa: F811
    patroller,
    stream_key,
):
    node_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FlvNode)
    threading.Thread(target=node_server.serve_forever, daemon=True).start()
    try:
        actions.register_media_server(
            "edge-flv",
            kind=MediaServer.Kind.NGINX_RTMP,  # its gate path; an HTTP-FLV URL as SRS or nginx-http-flv serve it
            control_url="http://127.0.0.1:9/",
            secret=NODE_SECRET,
            watch_url=f"http://127.0.0.1:{node_server.server_port}/{{app}}/{{key}}.flv",
        )
        publish_through_the_gate(asgi_server, stream_key.issued_key, client_id="7", node="edge-flv")
        stream = Stream.objects.live().get()
        page = browser_page
        log_in(page, asgi_server, patroller, next_path=f"/streams/{stream.pk}/")
        assert page.get_attribute("#stream-player", "data-format") == "flv"
        src = page.get_attribute("#stream-player", "data-src")
        assert src == f"/streams/{stream.pk}/watch/stream.flv"
        page.wait_for_function("() => typeof window.flvjs === 'object'")
        # The whole stream, in order, through the console; the node was asked with the key.
        body = page.request.get(f"{asgi_server.url}{src}").body()
        assert body.startswith(b"FLV\x01")
        assert body.endswith(b"tag-39;") and body.count(b"tag-") == 40
        assert f"/live/{stream_key.issued_key}.flv" in _FlvNode.paths
        assert stream_key.issued_key not in page.content()
    finally:
        node_server.shutdown()
        node_server.server_close()
