"""The patrol wall in Chromium.

Two kinds of test. The client-side ones route the page's WebSocket to a stand-in that speaks
docs/console-protocol.md (Playwright's ``route_web_socket``), so they pin what the client does with
each frame: snapshot, coalesced deltas, a seq gap, actions, acks, errors, a retry after a reconnect.
The end-to-end one runs against the real consumer under uvicorn.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest

from moderation import actions
from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401
from tests.conftest import NODE_SECRET

# transaction=True: the uvicorn subprocess must see what the test writes. serialized_rollback: the flush
# after a test like this one would otherwise leave no role groups or permissions for the next.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def screenshot(page, name: str) -> None:
    """Keep a screenshot when WALL_SCREENSHOT_DIR is set (for a person to look at)."""
    directory = os.environ.get("WALL_SCREENSHOT_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(directory) / f"{name}.png"), full_page=True)


def card(number: int, **fields) -> dict:
    base = {
        "id": number,
        "title": f"直播间{number:02d}",
        "publisher": {"id": 100 + number, "name": f"主播{number:02d}号", "credit_level": "A"},
        "category": {"slug": "entertainment", "name": "娱乐", "is_news": False},
        "tier": 3,
        "priority": 1000 - number,
        "viewers": 10 * number,
        "started_at": "2026-01-01T08:00:00+08:00",
        "last_patrolled_at": None,
        "last_patrolled_by": None,
        "claimed_by": None,
        "open_reports": 0,
        "review_flag": "",
        "review_score": None,
        "snapshot_url": None,
        "state": "live",
        "node": "edge-1",
    }
    return {**base, **fields}


class StandIn:
    """A console server that follows the protocol document, for the client's side of it."""

    def __init__(self, page, cards: list[dict], *, seq: int = 40) -> None:
        self.cards = cards
        self.epoch = "epoch-1"
        self.seq = seq
        self.received: list[dict] = []
        self.sockets: list = []
        self.silent: set = set()  # sockets that answer nothing, as a dead connection
        self.auto_ack = True
        self.auto_resync = True
        page.route_web_socket("**/ws/console/", self.accept)

    def accept(self, ws) -> None:
        self.sockets.append(ws)
        ws.on_message(lambda message: self.receive(ws, message))
        hello = {
            "type": "hello", "user": "patroller", "roles": ["patroller"], "live": len(self.cards),
            "epoch": self.epoch, "seq": self.seq,
        }  # fmt: skip
        self.send(hello)
        self.send(self.snapshot())

    def snapshot(self, offset: int = 0, filters: dict | None = None) -> dict:
        return {
            "type": "snapshot", "epoch": self.epoch, "seq": self.seq, "total": len(self.cards), "offset": offset,
            "streams": self.cards, "filters": filters or {},
        }  # fmt: skip

    def send(self, frame: dict) -> None:
        self.sockets[-1].send(json.dumps(frame, ensure_ascii=False))

    def delta(self, event: str, stream: dict, *, seq: int | None = None) -> None:
        self.seq = seq if seq is not None else self.seq + 1
        self.send({"type": "delta", "epoch": self.epoch, "seq": self.seq, "event": event, "stream": stream})

    def receive(self, ws, message: str) -> None:
        frame = json.loads(message)
        self.received.append(frame)
        if ws in self.silent:
            return
        if frame["type"] == "ping":
            ws.send(json.dumps({"type": "pong", "id": frame.get("id")}))
        elif frame["type"] == "resync" and self.auto_resync:
            filters = {key: frame[key] for key in ("category", "tier") if key in frame}
            ws.send(json.dumps(self.snapshot(frame.get("offset", 0), filters), ensure_ascii=False))
        elif frame["type"] == "action" and self.auto_ack:
            ws.send(json.dumps(self.ack(frame)))

    @staticmethod
    def ack(frame: dict) -> dict:
        media = "confirmed" if frame["kind"] in {"block", "suspend", "close"} else "n/a"
        timings = {"stored": 3.2, "broadcast": 4.0}
        if media == "confirmed":
            timings["media_confirmed"] = 18.4
        return {
            "type": "ack", "request_id": frame["request_id"],
            "action": {"id": 1, "kind": frame["kind"], "media_status": media}, "timings": timings,
        }  # fmt: skip

    def frames(self, type_: str) -> list[dict]:
        return [frame for frame in self.received if frame["type"] == type_]


def wait_for(page, predicate, *, timeout: float = 5.0, message: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"timed out waiting for {message}")


@pytest.fixture
def wall(asgi_server, browser_page, patroller):  # noqa: F811
    """A patroller's wall with the socket routed to a stand-in holding three cards."""
    stand_in = StandIn(browser_page, [card(1), card(2, review_flag="porn", review_score=0.93), card(3)])
    log_in(browser_page, asgi_server, patroller)
    browser_page.wait_for_selector("#card-3")
    return browser_page, stand_in


# --- the client against the protocol stand-in ---------------------------------------------------


def test_the_snapshot_renders_cards_in_the_servers_order_with_their_facts(wall):
    page, _stand_in = wall
    assert page.eval_on_selector_all(".wall-card", "cards => cards.map(c => c.dataset.stream)") == ["1", "2", "3"]
    first = page.inner_text("#card-1")
    for text in ["直播间01", "主播01号", "娱乐", "3 级", "10 人观看", "尚未巡查", "直播中"]:
        assert text in first, text
    assert "机审：色情 0.93" in page.inner_text("#card-2")  # the vendor's label in the console's words
    assert page.inner_text("#window-text") == "第 1–3 条，共 3 条"
    screenshot(page, "wall-stand-in")


def test_deltas_are_coalesced_into_a_few_repaints(wall):
    page, stand_in = wall
    before = page.evaluate("window.liveward.paints")
    started = time.monotonic()
    for viewers in range(1, 301):
        stand_in.delta("stream.updated", card(2, viewers=viewers))
    wait_for(page, lambda: "300 人观看" in page.inner_text("#card-2"), message="the last delta painted")
    elapsed = time.monotonic() - started
    paints = page.evaluate("window.liveward.paints") - before
    assert paints <= elapsed * 4 + 2, (paints, elapsed)  # at most ~4 a second, never one per delta
    assert paints < 300


def test_a_new_stream_is_slotted_by_priority_and_an_ended_one_is_marked(wall):
    page, stand_in = wall
    stand_in.delta("stream.opened", card(9, title="新开的直播", priority=999, category={
        "slug": "news", "name": "新闻", "is_news": True}, tier=1))  # fmt: skip
    page.wait_for_selector("#card-9")
    order = page.eval_on_selector_all(".wall-card", "cards => cards.map(c => c.dataset.stream)")
    assert order == ["1", "9", "2", "3"]  # priorities 999, 998, 997: after 1, before 2
    assert page.is_visible("#card-9 .tag.news")
    stand_in.delta("stream.ended", {"id": 3})
    page.wait_for_selector('#card-3[data-state="ended"]')
    assert "已结束" in page.inner_text("#card-3")
    stand_in.delta("stream.blocked", card(1, state="cut_pending"))
    page.wait_for_selector('#card-1[data-state="cut_pending"]')
    assert "断流中" in page.inner_text("#card-1")


def test_a_gap_in_seq_sends_resync_and_stale_deltas_are_dropped(wall):
    page, stand_in = wall
    stand_in.delta("stream.updated", card(1, title="旧消息"), seq=stand_in.seq)  # not above the snapshot's
    stand_in.delta("stream.updated", card(1, viewers=5), seq=stand_in.seq + 3)  # a gap
    wait_for(page, lambda: stand_in.frames("resync"), message="a resync after the gap")
    assert "旧消息" not in page.inner_text("#card-1")
    assert page.url.endswith("/")  # no reload


def test_a_delta_of_a_new_epoch_is_applied_and_resyncs_though_its_seq_is_lower(wall):
    page, stand_in = wall
    stand_in.auto_resync = False  # its snapshot would not hold the change
    stand_in.epoch = "epoch-2"  # the server's Redis lost the sequence: numbers start again
    stand_in.delta("stream.updated", card(1, title="重启后的消息"), seq=1)
    wait_for(page, lambda: stand_in.frames("resync"), message="a resync on the new epoch")
    page.wait_for_function("() => document.querySelector('#card-1').textContent.includes('重启后的消息')")
    assert page.evaluate("[window.liveward.epoch, window.liveward.seq]") == ["epoch-2", 1]
    stand_in.delta("stream.updated", card(2, title="接着编号"), seq=2)  # numbered on from there
    page.wait_for_function("() => document.querySelector('#card-2').textContent.includes('接着编号')")
    assert page.evaluate("window.liveward.seq") == 2


def test_resync_needed_resyncs_and_the_indicator_shows_catching_up_until_the_snapshot(wall):
    page, stand_in = wall
    page.wait_for_selector('#live-indicator[data-state="live"]')
    stand_in.auto_resync = False
    stand_in.epoch, stand_in.seq = "epoch-2", 1
    stand_in.send({"type": "resync_needed", "epoch": "epoch-2", "seq": 1})
    wait_for(page, lambda: stand_in.frames("resync"), message="a resync on resync_needed")
    page.wait_for_selector('#live-indicator[data-state="syncing"]')
    assert page.inner_text("#live-indicator") == "正在同步…"
    stand_in.cards = [*stand_in.cards, card(4, title="漏掉的直播")]
    stand_in.send(stand_in.snapshot())
    page.wait_for_selector("#card-4")
    page.wait_for_selector('#live-indicator[data-state="live"]')
    assert page.inner_text("#live-indicator") == "在线"


def test_resync_needed_older_than_the_snapshot_is_ignored(wall):
    page, stand_in = wall
    stand_in.send({"type": "resync_needed", "epoch": stand_in.epoch, "seq": stand_in.seq})  # the snapshot had it
    stand_in.delta("stream.updated", card(1, title="之后的消息"))
    page.wait_for_function("() => document.querySelector('#card-1').textContent.includes('之后的消息')")
    assert not stand_in.frames("resync")


def test_resync_needed_during_a_resync_waits_for_its_snapshot(wall):
    page, stand_in = wall
    stand_in.auto_resync = False
    stand_in.delta("stream.updated", card(1), seq=stand_in.seq + 2)  # a gap: the wall resyncs
    wait_for(page, lambda: len(stand_in.frames("resync")) == 1, message="the resync after the gap")
    stand_in.send({"type": "resync_needed", "epoch": stand_in.epoch, "seq": stand_in.seq + 1})
    stand_in.seq += 1
    stand_in.send(stand_in.snapshot())  # numbered after the resync_needed: it has everything
    stand_in.delta("stream.updated", card(1, title="之后的消息"))
    page.wait_for_function("() => document.querySelector('#card-1').textContent.includes('之后的消息')")
    assert len(stand_in.frames("resync")) == 1

    stand_in.delta("stream.updated", card(1), seq=stand_in.seq + 2)  # another gap, another resync
    wait_for(page, lambda: len(stand_in.frames("resync")) == 2, message="the resync after the second gap")
    stand_in.send({"type": "resync_needed", "epoch": stand_in.epoch, "seq": stand_in.seq + 1})
    stand_in.send(stand_in.snapshot())  # numbered before it: not enough
    wait_for(page, lambda: len(stand_in.frames("resync")) == 3, message="a resync after the older snapshot")


def test_a_silent_connection_shows_as_lost_within_seconds_and_is_replaced(wall):
    page, stand_in = wall
    page.wait_for_selector('#live-indicator[data-state="live"]')
    stand_in.silent.add(stand_in.sockets[-1])  # open, but nothing comes back: a dead connection
    page.wait_for_selector('#live-indicator[data-state="down"]', timeout=10_000)  # was 25 s and more
    assert page.inner_text("#live-indicator") == "连接中断"
    wait_for(page, lambda: len(stand_in.sockets) == 2, timeout=10, message="a new socket")
    page.wait_for_selector('#live-indicator[data-state="live"]')
    wait_for(page, lambda: stand_in.frames("resync"), message="a resync after the reconnect")


def test_filters_are_sent_as_resync(wall):
    page, stand_in = wall
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "filter-category"
    page.select_option("#filter-tier", "3")
    wait_for(page, lambda: any(f.get("tier") == 3 for f in stand_in.frames("resync")), message="a tier resync")
    resync = stand_in.frames("resync")[-1]
    assert resync["offset"] == 0 and 0 < resync["limit"] <= 200


def test_keys_move_focus_and_block_sends_an_action_with_the_picked_reason(wall):
    page, stand_in = wall
    page.keyboard.press("j")  # the focus comes to the first card
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert page.evaluate("document.activeElement.id") == "card-2"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"  # visible focus
    page.keyboard.press("b")
    page.wait_for_selector("#card-2 .picker")
    screenshot(page, "wall-picker")
    page.keyboard.press("6")  # the sixth reason: 淫秽色情
    page.keyboard.press("Enter")
    wait_for(page, lambda: stand_in.frames("action"), message="the block frame")
    action = stand_in.frames("action")[0]
    assert action["kind"] == "block" and action["stream"] == 2 and action["reason"] == "pornography"
    assert 1 <= len(action["request_id"]) <= 64
    page.wait_for_selector("#card-2 .card-result[data-kind=ok]")
    assert page.inner_text("#card-2 .card-result") == "已断流 · 存储 3ms · 确认 18ms"
    assert page.evaluate("document.activeElement.id") == "card-2"  # focus back on the card
    screenshot(page, "wall-ack")


def test_esc_cancels_the_picker_and_keys_are_ignored_while_typing(wall):
    page, stand_in = wall
    page.keyboard.press("j")
    page.keyboard.press("s")
    page.wait_for_selector("#card-1 .picker")
    page.focus("#card-1 .picker input[name=note]")
    page.keyboard.type("jkbp")  # text, not keys
    assert page.input_value("#card-1 .picker input[name=note]") == "jkbp"
    page.keyboard.press("Escape")
    assert page.query_selector("#card-1 .picker") is None
    assert not stand_in.frames("action")


def test_suspend_sends_minutes_and_a_note(wall):
    page, stand_in = wall
    page.keyboard.press("j")
    page.keyboard.press("s")
    page.wait_for_selector("#card-1 .picker")
    page.keyboard.press("ArrowDown")
    page.fill("#card-1 .picker input[name=minutes]", "30")
    page.fill("#card-1 .picker input[name=note]", "多次违规")
    page.keyboard.press("Enter")
    wait_for(page, lambda: stand_in.frames("action"), message="the suspend frame")
    action = stand_in.frames("action")[0]
    assert action == {**action, "kind": "suspend", "reason": "state_interests", "minutes": 30, "note": "多次违规"}


def test_an_error_shows_its_chinese_text_on_the_card(wall):
    page, stand_in = wall
    stand_in.auto_ack = False
    page.keyboard.press("j")
    page.keyboard.press("w")
    page.keyboard.press("Enter")
    wait_for(page, lambda: stand_in.frames("action"), message="the warn frame")
    request_id = stand_in.frames("action")[0]["request_id"]
    stand_in.send({"type": "error", "code": "stream_ended", "message": "stream ended", "request_id": request_id})
    page.wait_for_selector("#card-1 .card-result[data-kind=error]")
    assert page.inner_text("#card-1 .card-result") == "该直播已结束。"


def test_an_unanswered_action_is_retried_after_a_reconnect_with_the_same_request_id(wall):
    page, stand_in = wall
    stand_in.auto_ack = False
    page.keyboard.press("j")
    page.keyboard.press("e")
    page.keyboard.press("Enter")
    wait_for(page, lambda: stand_in.frames("action"), message="the escalate frame")
    first = stand_in.frames("action")[0]
    stand_in.auto_ack = True
    stand_in.sockets[-1].close()  # the connection drops before the ack
    wait_for(page, lambda: len(stand_in.frames("action")) == 2, timeout=10, message="the retry")
    assert stand_in.frames("action")[1]["request_id"] == first["request_id"]
    assert stand_in.frames("resync"), "a reconnect resyncs"
    page.wait_for_selector("#card-1 .card-result[data-kind=ok]")
    assert page.inner_text("#card-1 .card-result").startswith("已上报")


def test_the_key_help_opens_with_question_mark_and_closes_with_esc(wall):
    page, _stand_in = wall
    page.keyboard.press("?")
    assert page.is_visible("#key-help")
    screenshot(page, "wall-help")
    page.keyboard.press("Escape")
    assert not page.is_visible("#key-help")


def test_enter_opens_the_stream_page(wall):
    page, _stand_in = wall
    page.keyboard.press("j")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/streams/1/")  # no such stream in the database: the console's 404
    assert "页面不存在" in page.inner_text("main")


# --- end to end, against the real consumer -----------------------------------------------------


def publish_through_the_gate(server, key: str, client_id: str, node: str = "edge-1") -> None:
    """Open a stream as nginx-rtmp does: its on_publish callback to the live server's gate."""
    form = {"app": "live", "name": key, "addr": "203.0.113.9", "clientid": client_id, "call": "publish"}
    request = urllib.request.Request(
        f"{server.url}/gate/nginx-rtmp/{node}/{NODE_SECRET}/on_publish",
        data=urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
    except urllib.error.HTTPError as exc:  # say why the gate refused, not only that it did
        pytest.fail(f"the gate answered {exc.code}: {exc.read()[:300]!r}", pytrace=False)


def test_a_patroller_sees_a_new_stream_appear_and_marks_it_patrolled(
    asgi_server,  # noqa: F811
    browser_page,  # noqa: F811
    patroller,
    nginx_node,
    stream_key,
    agreement,
):
    page = browser_page
    other = actions.issue_stream_key(stream_key.publisher, category=stream_key.category, default_title="第二个直播间")
    publish_through_the_gate(asgi_server, other.issued_key, client_id="1")
    log_in(page, asgi_server, patroller)
    page.wait_for_selector(".wall-card")
    page.wait_for_selector('#live-indicator[data-state="live"]')
    assert page.inner_text("#live-indicator") == "在线"

    publish_through_the_gate(asgi_server, stream_key.issued_key, client_id="2")  # while the wall is open
    page.wait_for_selector(".wall-card >> text=深夜食堂直播", timeout=10_000)
    assert page.locator(".wall-card").count() == 2

    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    focused = page.evaluate("document.activeElement.dataset.stream")
    assert focused
    assert "尚未巡查" in page.inner_text(f"#card-{focused}")
    page.keyboard.press("p")
    page.wait_for_selector(f"#card-{focused} .card-result[data-kind=ok]", timeout=10_000)
    assert page.inner_text(f"#card-{focused} .card-result").startswith("标记已巡查 · 存储 ")
    page.wait_for_function(
        f"() => !document.querySelector('#card-{focused} [data-field=patrolled]').textContent.includes('尚未巡查')"
    )
    assert "巡查员小王" in page.inner_text(f"#card-{focused} [data-field=patrolled]")
    # After p the focus went on to the other card, and the patrolled one sorts after it now.
    other_card = page.evaluate("document.activeElement.dataset.stream")
    assert other_card and other_card != focused
    page.wait_for_function(f"() => [...document.querySelectorAll('.wall-card')].pop().dataset.stream === '{focused}'")
    screenshot(page, "wall-end-to-end")

    page.focus(f"#card-{focused}")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # the focused card's stream page
    assert page.url.endswith(f"/streams/{focused}/")
    body = page.inner_text("main")
    assert "美食小当家" in body and "王**" in body and "例行巡查，未发现问题" in body and "已放行" in body
    screenshot(page, "stream-page")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_patroller_on_shift_claims_streams_and_sees_them_marked(
    asgi_server,  # noqa: F811
    browser_page,  # noqa: F811
    patroller,
    stream_key,
):
    from accounts.actions import check_in
    from moderation.models import MediaServer, Stream

    # A node of its own: the live server's gate caches nodes for a few seconds, and the flush
    # after the previous test re-created "edge-1" under another id.
    actions.register_media_server(
        "edge-claims", kind=MediaServer.Kind.NGINX_RTMP, control_url="http://127.0.0.1:9/", secret=NODE_SECRET
    )
    check_in(patroller)
    publish_through_the_gate(asgi_server, stream_key.issued_key, client_id="1", node="edge-claims")
    stream = Stream.objects.live().get()
    log_in(browser_page, asgi_server, patroller)
    browser_page.wait_for_selector(f"#card-{stream.pk}.mine", timeout=10_000)
    assert Stream.objects.get(pk=stream.pk).claimed_by_id == patroller.pk


def test_pages_besides_the_wall_share_the_live_console_connection(
    asgi_server,  # noqa: F811
    browser_page,  # noqa: F811
    patroller,
):
    page = browser_page
    log_in(page, asgi_server, patroller)
    page.goto(f"{asgi_server.url}/accounts/shifts/")
    page.wait_for_selector('#live-indicator[data-state="live"]', timeout=10_000)
    assert page.inner_text("#live-indicator") == "在线"
