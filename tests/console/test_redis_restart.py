"""The consoles through a restart of their Redis that loses every key (no persistence).

Each test runs its own redis-server on a unix socket in a temporary directory and the console
under uvicorn against it (channel layer, cache, the delta sequence), so it can stop and start that
Redis without touching the suite's. Streams open through the gate's nginx-rtmp callback, as a
node would call it. The WebSocket tests speak docs/console-protocol.md as a console does; the
browser test watches the wall itself catch up.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlencode

from django.test import Client

import pytest
from websockets.sync.client import ClientConnection, connect

from console.embedded import EmbeddedRedis
from moderation import actions
from moderation.models import Stream
from tests.browser import AsgiServer, browser, browser_page, log_in, new_page, running_asgi_server  # noqa: F401
from tests.conftest import NODE_SECRET, PASSWORD
from tests.second_factor import pass_second_factor

# transaction=True: the uvicorn subprocess must see what the test writes. serialized_rollback: the flush
# after a test like this one would otherwise leave no role groups or permissions for the next.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TIMEOUT = 10.0


@pytest.fixture
def own_redis() -> Iterator[EmbeddedRedis]:
    """A redis-server of this test's own, without persistence: a restart loses every key."""
    directory = Path(tempfile.mkdtemp(prefix="lw-redis-"))  # short: a unix socket path has ~100 bytes
    redis = EmbeddedRedis(directory / "redis.sock").start()
    try:
        yield redis
    finally:
        redis.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def console_server(transactional_db, django_db_setup, own_redis, tmp_path) -> Iterator[AsgiServer]:
    """The console under uvicorn, its channel layer, cache and delta sequence on ``own_redis``."""
    with running_asgi_server(tmp_path, redis_url=own_redis.url) as server:
        yield server


def restart_losing_every_key(redis: EmbeddedRedis) -> None:
    redis.stop()
    redis.start()


def publish(server: AsgiServer, key: str, client_id: str) -> int:
    """Open a stream as nginx-rtmp does (its on_publish callback) and return the stream's id."""
    form = {"app": "live", "name": key, "addr": "203.0.113.9", "clientid": client_id, "call": "publish"}
    request = urllib.request.Request(
        f"{server.url}/gate/nginx-rtmp/edge-1/{NODE_SECRET}/on_publish",
        data=urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        assert response.status == 200
    return Stream.objects.live().get(key__key=key).pk


class Console:
    """One console's socket on the live server, past its hello and snapshot."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.hello = self.next("hello")
        self.snapshot = self.next("snapshot")

    def next(self, *types: str, timeout: float = TIMEOUT) -> dict:
        """Return the next frame of one of ``types``, skipping others (kept in ``skipped``)."""
        self.skipped: list[dict] = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {' or '.join(types)} frame within {timeout:g}s; got {self.skipped}")
            try:
                frame = json.loads(self.socket.recv(timeout=remaining))
            except TimeoutError:
                continue
            if frame["type"] in types:
                return frame
            self.skipped.append(frame)

    def delta_opening(self, stream_id: int) -> dict:
        while True:
            delta = self.next("delta")
            if delta["event"] == "stream.opened" and delta["stream"]["id"] == stream_id:
                return delta

    def resync(self) -> dict:
        self.socket.send(json.dumps({"type": "resync"}))
        return self.next("snapshot")

    def ping(self) -> dict:
        self.socket.send(json.dumps({"type": "ping", "id": "still-there"}))
        pong = self.next("pong")
        assert pong["id"] == "still-there" and isinstance(pong["feed"], bool), pong
        return pong

    def wait_for_feed(self, up: bool, timeout: float = 10.0) -> None:
        """Ping until the server says its deltas flow (``up``) or do not."""
        deadline = time.monotonic() + timeout
        while self.ping()["feed"] is not up:
            assert time.monotonic() < deadline, f"the pong never said feed={up}"
            time.sleep(0.2)


@pytest.fixture
def open_console(console_server) -> Iterator[Callable[[str], Console]]:
    """Log a persona in and open its console socket; closed at teardown."""
    with ExitStack() as sockets:

        def open_as(username: str) -> Console:
            client = Client()
            response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
            assert response.status_code == 302, response.content
            pass_second_factor(client, username)
            socket = connect(
                console_server.ws_url,
                origin=console_server.url,
                additional_headers={"Cookie": f"sessionid={client.cookies['sessionid'].value}"},
                proxy=None,
                open_timeout=TIMEOUT,
            )
            return Console(sockets.enter_context(socket))

        yield open_as


@pytest.fixture
def stream_keys(publisher, entertainment, agreement, nginx_node):
    return [
        actions.issue_stream_key(publisher, category=entertainment, default_title=f"直播间{number}")
        for number in range(1, 6)
    ]


def test_a_restart_that_loses_the_sequence_starts_a_new_epoch_and_the_consoles_resync(
    console_server, open_console, own_redis, patroller, admin, stream_keys
):
    patrol, audit = open_console("patroller"), open_console("admin")
    first_epoch = patrol.hello["epoch"]
    assert first_epoch and audit.hello["epoch"] == patrol.snapshot["epoch"] == first_epoch
    opened = [publish(console_server, key.key, client_id=str(number)) for number, key in enumerate(stream_keys[:3])]
    for console in (patrol, audit):
        deltas = [console.delta_opening(stream_id) for stream_id in opened]
        assert {delta["epoch"] for delta in deltas} == {first_epoch}
        assert [delta["seq"] for delta in deltas] == sorted(delta["seq"] for delta in deltas)
    last_seq = deltas[-1]["seq"]
    assert last_seq >= 3

    restart_losing_every_key(own_redis)
    patrol.ping()  # the sockets stay open through it: nothing but the numbers tells the console
    fourth = publish(console_server, stream_keys[3].key, client_id="4")

    for console in (patrol, audit):
        # The delta of the fourth stream may come (if this server process had subscribed again in
        # time) or not; resync_needed comes either way, in the new epoch, numbered below the old
        # last seq: by seq alone a console would drop it as stale.
        notice = console.next("resync_needed")
        new_epoch = notice["epoch"]
        assert new_epoch != first_epoch
        assert notice["seq"] <= last_seq
        for frame in console.skipped:
            if frame["type"] == "delta":
                assert (frame["epoch"], frame["stream"]["id"]) == (new_epoch, fourth)
                assert frame["seq"] < notice["seq"]
        snapshot = console.resync()
        assert snapshot["epoch"] == new_epoch and snapshot["seq"] >= notice["seq"]
        assert {card["id"] for card in snapshot["streams"]} == {*opened, fourth}

    fifth = publish(console_server, stream_keys[4].key, client_id="5")
    for console in (patrol, audit):
        delta = console.delta_opening(fifth)
        assert (delta["epoch"], delta["seq"]) == (new_epoch, snapshot["seq"] + 1)  # numbered on from the snapshot
    late = open_console("patroller")
    assert late.hello["epoch"] == late.snapshot["epoch"] == new_epoch


def test_events_lost_while_redis_is_down_reach_the_consoles_when_it_returns(
    console_server, open_console, own_redis, patroller, stream_keys
):
    patrol = open_console("patroller")
    first_epoch = patrol.hello["epoch"]
    first = publish(console_server, stream_keys[0].key, client_id="1")
    assert patrol.delta_opening(first)["epoch"] == first_epoch

    assert patrol.ping()["feed"] is True
    own_redis.stop()
    # The gate answers and the stream opens: sending its delta fails, and nobody waits on that.
    during = publish(console_server, stream_keys[1].key, client_id="2")
    patrol.wait_for_feed(False)  # the socket is open, but the console is told its updates do not flow
    time.sleep(1.5)  # the sender has tried Redis and dropped the delta
    own_redis.start()

    notice = patrol.next("resync_needed", timeout=15)
    assert notice["epoch"] != first_epoch
    assert not [frame for frame in patrol.skipped if frame["type"] == "delta"]  # the lost delta stays lost
    snapshot = patrol.resync()
    assert snapshot["epoch"] == notice["epoch"]
    assert {card["id"] for card in snapshot["streams"]} == {first, during}
    patrol.wait_for_feed(True)


def test_a_frozen_redis_holds_up_no_publish_and_the_consoles_resync_when_it_thaws(
    console_server, open_console, own_redis, patroller, stream_keys
):
    patrol = open_console("patroller")
    first = publish(console_server, stream_keys[0].key, client_id="1")
    last = patrol.delta_opening(first)

    os.kill(own_redis.process.pid, signal.SIGSTOP)  # up, but answering nothing: a hung failover
    try:
        # The gate answers though its deltas cannot be numbered or sent (urlopen would time out).
        during = [publish(console_server, key.key, client_id=str(n)) for n, key in enumerate(stream_keys[1:3], 2)]
        patrol.ping()
        time.sleep(3)  # the sender's tries time out; it drops the deltas
    finally:
        os.kill(own_redis.process.pid, signal.SIGCONT)

    notice = patrol.next("resync_needed", timeout=15)
    # Redis kept its keys: the same epoch, numbered on; a console resyncs on it all the same.
    assert notice["epoch"] == last["epoch"] and notice["seq"] > last["seq"]
    snapshot = patrol.resync()
    assert {card["id"] for card in snapshot["streams"]} == {first, *during}


@pytest.mark.browser
def test_the_wall_catches_up_after_its_redis_restarts_without_a_reload(
    console_server,
    own_redis,
    browser_page,  # noqa: F811
    patroller,
    stream_keys,
):
    page = browser_page
    # Three deltas before: the new epoch's first numbers are not above the wall's last one.
    before = [publish(console_server, key.key, client_id=str(number)) for number, key in enumerate(stream_keys[:3])]
    log_in(page, console_server, patroller)
    page.wait_for_selector(f"#card-{before[-1]}")
    page.wait_for_selector('#live-indicator[data-state="live"]')
    # Remember every state the indicator shows from here on, and mark this document: a reload loses both.
    page.evaluate(
        """() => {
        const indicator = document.getElementById("live-indicator");
        window.indicatorStates = [];
        new MutationObserver(() => window.indicatorStates.push(indicator.dataset.state))
            .observe(indicator, { attributes: true, attributeFilter: ["data-state"] });
    }"""
    )
    epoch = page.evaluate("window.liveward.epoch")

    own_redis.stop()
    during = publish(console_server, stream_keys[3].key, client_id="4")  # its delta is lost
    # The socket stays open; the indicator says updates are paused, not "online".
    page.wait_for_selector('#live-indicator[data-state="stale"]', timeout=15_000)
    assert page.inner_text("#live-indicator") == "更新暂停"
    own_redis.start()
    page.wait_for_selector(f"#card-{during}", timeout=15_000)
    after = publish(console_server, stream_keys[4].key, client_id="5")
    page.wait_for_selector(f"#card-{after}", timeout=TIMEOUT * 1000)

    assert page.evaluate("window.liveward.epoch") not in (None, epoch)
    states = page.evaluate("window.indicatorStates")  # undefined after a reload
    assert "syncing" in states, states
    page.wait_for_selector('#live-indicator[data-state="live"]')
    assert page.inner_text("#live-indicator") == "在线"
    assert page.locator(".wall-card").count() == 5
