"""The stream page is a working surface: its card live over the console socket (state, frame,
patrol), the wall's actions and keys, a large frame to click. Against the real server."""

from __future__ import annotations

import urllib.request
from urllib.parse import urlencode

import pytest

from moderation import actions
from moderation.models import MediaServer, ModerationAction, ReasonCode, Stream
from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401
from tests.conftest import NODE_SECRET
from tests.console.test_wall_browser import publish_through_the_gate, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

NODE = "edge-stream-page"


def end_through_the_gate(server, key: str, client_id: str) -> None:
    """End a stream as nginx-rtmp does: its on_publish_done callback."""
    form = {"app": "live", "name": key, "addr": "203.0.113.9", "clientid": client_id, "call": "publish_done"}
    request = urllib.request.Request(
        f"{server.url}/gate/nginx-rtmp/{NODE}/{NODE_SECRET}/on_publish_done",
        data=urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


@pytest.fixture
def live_stream(asgi_server, stream_key):  # noqa: F811
    # A node of its own (the live server's gate caches nodes for a few seconds across tests); its
    # control URL answers nothing, so a cut stays pending until the node reports the publish done.
    actions.register_media_server(
        NODE, kind=MediaServer.Kind.NGINX_RTMP, control_url="http://127.0.0.1:9/", secret=NODE_SECRET
    )
    publish_through_the_gate(asgi_server, stream_key.issued_key, client_id="1", node=NODE)
    return Stream.objects.live().get()


def test_the_stream_page_follows_a_cut_made_elsewhere(asgi_server, browser_page, patroller, admin, live_stream):  # noqa: F811
    page = browser_page
    log_in(page, asgi_server, patroller, next_path=f"/streams/{live_stream.pk}/")
    page.wait_for_selector(f"#card-{live_stream.pk}")
    page.wait_for_selector('#live-indicator[data-state="live"]')
    assert page.inner_text("#stream-state") == "直播中"
    assert page.is_visible(f"#card-{live_stream.pk} button[data-action=block]")

    actions.block_stream(live_stream, actor=admin, reason=ReasonCode.VIOLENCE_TERROR, note="", request_id=None)
    page.wait_for_function("() => document.querySelector('#stream-state').textContent === '断流中'", timeout=10_000)
    end_through_the_gate(asgi_server, live_stream.published_name, client_id="1")
    page.wait_for_function("() => document.querySelector('#stream-state').dataset.state === 'ended'", timeout=10_000)
    assert page.inner_text("#stream-state") == "已断流"  # one name for the cut, everywhere
    assert page.is_disabled(f"#card-{live_stream.pk} button[data-action=block]")
    assert page.query_selector(f"#card-{live_stream.pk}") is not None  # its page keeps the ended card
    # The server-drawn sections follow: the block is in the actions table without a reload.
    page.wait_for_function("() => document.querySelector('[data-live-section=actions]').textContent.includes('断流')")
    assert "合规管理员小赵" in page.inner_text("[data-live-section=actions]")
    screenshot(page, "stream-page-ended")


def test_the_stream_page_blocks_by_key(asgi_server, browser_page, patroller, live_stream):  # noqa: F811
    page = browser_page
    log_in(page, asgi_server, patroller, next_path=f"/streams/{live_stream.pk}/")
    page.wait_for_selector(f"#card-{live_stream.pk}")
    page.wait_for_selector('#live-indicator[data-state="live"]')
    page.keyboard.press("b")  # no click first: the page's one card has the keys
    page.wait_for_selector(f"#card-{live_stream.pk} .picker")
    page.keyboard.press("8")  # the eighth reason: 暴力恐怖
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#card-{live_stream.pk} .card-result[data-kind]:not([data-kind=''])", timeout=10_000)
    page.wait_for_function("() => document.querySelector('#stream-state').dataset.state !== 'live'", timeout=10_000)
    block = ModerationAction.objects.get(stream=live_stream, kind=ModerationAction.Kind.BLOCK)
    assert block.actor == patroller and block.reason == ReasonCode.VIOLENCE_TERROR


def test_the_frame_enlarges_on_click_and_shows_its_age(asgi_server, browser_page, patroller, live_stream):  # noqa: F811
    from moderation.actions.snapshots import record_snapshot

    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
        b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    record_snapshot(live_stream, image_bytes=png, source="capture")
    page = browser_page
    log_in(page, asgi_server, patroller, next_path=f"/streams/{live_stream.pk}/")
    card = f"#card-{live_stream.pk}"
    page.wait_for_selector(f"{card} .card-shot img:not([hidden])")
    assert "画面" in page.inner_text(f"{card} [data-field=frame-age]")
    page.click(f"{card} .card-shot img")
    assert "shot-enlarged" in page.get_attribute(card, "class")
    box = page.eval_on_selector(f"{card} .card-shot", "node => node.getBoundingClientRect().width")
    assert box >= 1200  # the whole screen's width
    page.keyboard.press("Escape")
    assert "shot-enlarged" not in page.get_attribute(card, "class")


def test_a_room_under_pressure_shows_on_its_card_and_a_patroller_holds_all(
    asgi_server,  # noqa: F811
    browser_page,  # noqa: F811
    patroller,
    live_stream,
    settings,
):
    settings.LIVEWARD_COMMENT_PRESSURE_PER_MINUTE = 4
    for index in range(5):  # one of five from a viewer without a verified phone: blocked
        verified = index != 0
        actions.receive_comment(
            live_stream, external_id=f"p-{index}", viewer_id="v", text="好", viewer_phone_verified=verified, actor=None
        )
    page = browser_page
    log_in(page, asgi_server, patroller, next_path=f"/streams/{live_stream.pk}/")
    figures = f"#card-{live_stream.pk} [data-field=comments]"
    page.wait_for_selector('#live-indicator[data-state="live"]')
    assert page.is_hidden(figures)
    actions.record_comment_pressure()  # what beat does every few seconds
    page.wait_for_selector(f"{figures}:not([hidden])", timeout=10_000)
    assert page.inner_text(figures) == "评论压力大：每分钟 5 条，暂扣 0%，拦截 20%"
    page.click("[data-testid=comment-pressure] button[type=submit]")  # 暂扣全部评论（慢速模式）
    held_all = f"() => document.querySelector('{figures}')?.textContent.includes('慢速模式')"
    page.wait_for_function(held_all, timeout=10_000)
    assert Stream.objects.get(pk=live_stream.pk).comments_hold_all
