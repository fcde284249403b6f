"""The stream page's live player: a real stream, published by ffmpeg to Debian's nginx-rtmp with HLS on,
plays in Chromium through the console's relay; the stream key never reaches the browser."""

from __future__ import annotations

import pytest

from moderation import actions
from moderation.models import Stream
from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401
from tests.media import nginx_rtmp_asgi_fixture, wait_until  # noqa: F401 (the nginx_rtmp_asgi fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.media_server,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_stream_page_plays_the_node_hls_without_the_key(
    asgi_server,  # noqa: F811
    nginx_rtmp_asgi,
    browser_page,  # noqa: F811
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
    page = browser_page
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
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
