"""End to end: a patroller cuts a real stream from the wall, and a second console sees it go.

Everything is real: Debian's nginx with the RTMP module calls the gate on the live uvicorn server
(the ``nginx_rtmp_asgi`` fixture), ffmpeg publishes a lavfi test picture under a verified publisher's
key, and two Chromium contexts (a patroller and the compliance admin) log in through the login page
and watch the wall over the console WebSocket. The patroller blocks with the keyboard alone
(j, b, a number key, Enter); the drop closes ffmpeg's connection at nginx; the admin's wall, without
a reload, shows the card ended after stream.blocked (cut_pending), stream.cut_confirmed and
stream.ended; the key cannot come back.
"""

from __future__ import annotations

import json
import os
import time

import pytest

from moderation.models import GateDecision, ModerationAction, ReasonCode, Stream, hash_stream_key
from tests.browser import _asgi_server_process, asgi_server, browser, log_in, new_page  # noqa: F401
from tests.media import nginx_rtmp_asgi_fixture, wait_until  # noqa: F401 (the nginx_rtmp_asgi fixture)

# transaction=True: uvicorn (the gate and the console) must see what the test writes, and the test what
# uvicorn writes. serialized_rollback: the flush after it would otherwise leave no role groups behind.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.media_server,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

MediaStatus = ModerationAction.MediaStatus
SCREENSHOT = os.environ.get("BLOCK_E2E_SCREENSHOT", "/tmp/e2e-blocked.png")
# The picker lists ReasonCode in order; the number key picks one (violence_terror is the 8th).
REASON = ReasonCode.VIOLENCE_TERROR
REASON_KEY = str(list(ReasonCode).index(REASON) + 1)


def record_deltas(page) -> list[dict]:
    """Collect the delta frames the page's console WebSocket receives, in order."""
    deltas: list[dict] = []

    def on_frame(payload) -> None:
        try:
            frame = json.loads(payload)
        except (TypeError, ValueError):
            return
        if isinstance(frame, dict) and frame.get("type") == "delta":
            deltas.append(frame)

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame) if ws.url.endswith("/ws/console/") else None)
    return deltas


def pump_until(page, condition, *, timeout: float = 10.0, message: str = "condition") -> None:
    """Let Playwright deliver events (WebSocket frames) until ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {message}")
        page.wait_for_timeout(50)


def open_wall(page, server, user) -> None:
    log_in(page, server, user)
    page.wait_for_selector('#live-indicator[data-state="live"]')
    page.wait_for_function("() => window.liveward && window.liveward.seq !== null")  # the first snapshot is in


def deltas_for(deltas: list[dict], stream_id: int) -> list[dict]:
    """The stream's deltas, leaving out stream.updated (viewer counts, snapshots: they may come any time)."""
    return [d for d in deltas if (d.get("stream") or {}).get("id") == stream_id and d.get("event") != "stream.updated"]


def events_for(deltas: list[dict], stream_id: int) -> list[str]:
    return [d["event"] for d in deltas_for(deltas, stream_id)]


def test_a_patroller_blocks_a_real_stream_from_the_wall_and_a_second_console_sees_it_cut(
    asgi_server,  # noqa: F811
    nginx_rtmp_asgi,
    new_page,  # noqa: F811
    patroller,
    admin,
    stream_key,
):
    from playwright.sync_api import expect

    started = time.monotonic()
    patrol_page, admin_page = new_page(), new_page()
    admin_deltas = record_deltas(admin_page)
    open_wall(patrol_page, asgi_server, patroller)
    open_wall(admin_page, asgi_server, admin)

    # ffmpeg goes live through nginx and the gate while both walls are open.
    publish = nginx_rtmp_asgi.publish(stream_key.issued_key)
    stream = wait_until(
        lambda: Stream.objects.live().filter(key=stream_key).first(),
        timeout=15,
        message=f"the gate to open a live stream (ffmpeg logs to {publish.stderr_path})",
    )
    patrol_card, admin_card = (page.locator(f"#card-{stream.pk}") for page in (patrol_page, admin_page))
    for card in (patrol_card, admin_card):
        expect(card).to_have_attribute("data-state", "live", timeout=10_000)  # no reload: a delta brought it
        expect(card).to_contain_text("深夜食堂直播")
        expect(card.locator('[data-field="state"]')).to_have_text("直播中")
    assert publish.running, publish.stderr()

    # Keyboard only: j brings the focus to the card, b opens the reason picker, a number key picks, Enter.
    patrol_page.keyboard.press("j")
    patrol_page.wait_for_function(f"() => document.activeElement && document.activeElement.id === 'card-{stream.pk}'")
    patrol_page.keyboard.press("b")
    picker = patrol_card.locator(".picker-reasons")
    expect(picker).to_be_focused()
    patrol_page.keyboard.press(REASON_KEY)
    expect(patrol_card.locator(f'[role=option][data-reason="{REASON.value}"]')).to_have_attribute(
        "aria-selected", "true"
    )
    patrol_page.keyboard.press("Enter")

    # The patroller's ack: stored, and the drop confirmed by the media server ("确认 N ms").
    result = patrol_card.locator('[data-field="result"]')
    expect(result).to_contain_text("存储", timeout=10_000)
    expect(result).to_contain_text("确认")
    expect(result).to_have_attribute("data-kind", "ok")

    # ffmpeg's connection was cut at nginx.
    assert publish.wait(timeout=10) != 0, f"ffmpeg's connection was not cut: {publish.stderr()!r}"

    # The second console, without a reload, shows the stream ended; the badge says so.
    expect(admin_card).to_have_attribute("data-state", "ended", timeout=15_000)
    expect(admin_card.locator('[data-field="state"]')).to_have_text("已断流")  # ended, and why
    expect(admin_card.locator("button[data-action]").first).to_be_disabled()
    expect(patrol_card).to_have_attribute("data-state", "ended", timeout=10_000)
    admin_page.screenshot(path=SCREENSHOT, full_page=True)
    assert admin_page.url.rstrip("/") == asgi_server.url, "the second console navigated away"

    # It got there by the protocol's deltas: stream.blocked first, then stream.cut_confirmed and
    # stream.ended in either order (nginx's on_publish_done may reach the gate before the drop's
    # answer is recorded); whichever comes last leaves the card ended. A delta carries the card as it
    # is when sent, and deltas are gathered for a few ms, so stream.blocked may already show the cut.
    wanted = {"stream.cut_confirmed", "stream.ended"}
    pump_until(admin_page, lambda: wanted <= set(events_for(admin_deltas, stream.pk)), message=f"{wanted}")
    events = events_for(admin_deltas, stream.pk)
    assert events[:2] == ["stream.opened", "stream.blocked"], events
    assert sorted(events[2:]) == sorted(wanted), events
    mine = deltas_for(admin_deltas, stream.pk)
    assert mine[1]["stream"]["state"] in {"cut_pending", "ended"}, mine[1]
    assert [d["stream"]["state"] for d in mine[2:]] == ["ended", "ended"], mine[2:]
    assert [d["seq"] for d in admin_deltas] == sorted(d["seq"] for d in admin_deltas)
    last_seq = admin_deltas[-1]["seq"]
    admin_page.wait_for_function(f"() => window.liveward.seq >= {last_seq}")
    assert admin_page.evaluate(f"window.liveward.cards.get({stream.pk}).state") == "ended"
    expect(admin_card).to_have_attribute("data-state", "ended")

    # The record: one block by the patroller, with the reason picked, its cut confirmed (or found gone).
    action = ModerationAction.objects.get(stream=stream, kind=ModerationAction.Kind.BLOCK)
    assert action.actor_id == patroller.pk and action.reason == REASON
    assert action.media_status in (MediaStatus.CONFIRMED, MediaStatus.GONE), action.media_status
    stream.refresh_from_db()
    assert stream.ended_at is not None and stream.end_reason == Stream.EndReason.CUT

    # The key cannot come back: nginx refuses the publish at connect, on the gate's word.
    last_decision = GateDecision.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    again = nginx_rtmp_asgi.publish(stream_key.issued_key)
    assert again.wait(timeout=10) != 0, f"the blocked key was let back in: {again.stderr()!r}"
    assert not Stream.objects.live().filter(key=stream_key).exists()
    assert Stream.objects.filter(key=stream_key).count() == 1
    [refused] = GateDecision.objects.filter(pk__gt=last_decision, key_hash=hash_stream_key(stream_key.issued_key))
    assert not refused.allowed and refused.node_id == nginx_rtmp_asgi.node.pk
    assert refused.reason == GateDecision.Reason.KEY_COOLING_OFF, refused.reason

    elapsed = time.monotonic() - started
    assert elapsed < 45, f"the end-to-end block took {elapsed:.1f} s"
