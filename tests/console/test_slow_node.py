"""A frozen media server delays only its own cut: other consoles act, and other nodes cut, meanwhile.

Real nodes: two Debian nginx-rtmp servers calling the gate on the live server, ffmpeg publishing to
each; one of them is frozen (SIGSTOP: its control port accepts connections and never answers, as a
hung node does). The console's database work runs on a single thread here and the media-server
timeout is long, so a drop waiting on the frozen node on that thread would hold every console.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from django.test import Client

import pytest
from channels.db import database_sync_to_async

from console import consumers
from console.asgi import application
from moderation import actions, cut_threads
from moderation.models import CreditEvent, MediaServer, ModerationAction, StreamKey
from tests.console.communicator import WebsocketCommunicator
from tests.media import NODE_SECRET, NginxRtmp, nginx_rtmp_fixture, require_media_tools  # noqa: F401
from tests.moderation.test_block_nginx import freeze
from tests.moderation.test_mediaservers_nginx import go_live

pytestmark = [pytest.mark.media_server, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

MediaStatus = ModerationAction.MediaStatus
TIMEOUT = 10


@pytest.fixture
def healthy_nginx(live_server, nginx_rtmp):
    """A second nginx-rtmp node, ``edge-healthy``, calling the same gate."""
    nginx, ffmpeg = require_media_tools()
    port = urlsplit(live_server.url).port
    prefix = Path(tempfile.mkdtemp(prefix="liveward-nginx-"))
    prefix.chmod(0o755)  # nginx's workers run as nobody when the tests run as root
    server = NginxRtmp(
        nginx=nginx,
        ffmpeg=ffmpeg,
        prefix=prefix,
        callback_base=f"http://127.0.0.1:{port}/gate/nginx-rtmp/edge-healthy/{NODE_SECRET}",
    )
    try:
        server.start()
        server.node, _secret = actions.register_media_server(
            "edge-healthy", kind=MediaServer.Kind.NGINX_RTMP, control_url=server.control_url, secret=NODE_SECRET
        )
        yield server
    finally:
        server.stop()
        shutil.rmtree(prefix, ignore_errors=True)


@pytest.fixture
def one_console_thread(settings):
    """One console database thread, and drops that wait long on a node that does not answer."""
    settings.LIVEWARD_CONSOLE_THREADS = 1
    settings.LIVEWARD_MEDIA_SERVER_TIMEOUT = 30
    consumers.shutdown()  # the pool starts again with one thread
    yield
    consumers.shutdown()
    cut_threads.shutdown()


def key_for(publisher, category) -> StreamKey:
    return actions.issue_stream_key(publisher, category=category, default_title="另一路直播")


def cookie_of(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def open_console(cookie: bytes) -> WebsocketCommunicator:
    ws = WebsocketCommunicator(
        application,
        "/ws/console/",
        headers=[(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000"), (b"cookie", cookie)],
    )
    connected, _code = await ws.connect(timeout=TIMEOUT)
    assert connected
    return ws


async def next_ack(ws: WebsocketCommunicator, request_id: str, *, timeout: float = TIMEOUT) -> dict:
    """The ack of ``request_id``, skipping the deltas and snapshots around it."""
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.receive_from(timeout=timeout))
            if frame.get("request_id") == request_id:
                assert frame["type"] == "ack", frame
                return frame


def test_a_frozen_node_holds_only_its_own_cut(
    one_console_thread, nginx_rtmp, healthy_nginx, stream_key, publisher, entertainment, patroller, admin
):
    _frozen_publish, on_frozen = go_live(nginx_rtmp, stream_key)
    healthy_publish, on_healthy = go_live(healthy_nginx, key_for(publisher, entertainment))
    patroller_cookie, admin_cookie = cookie_of(patroller), cookie_of(admin)

    async def scenario() -> tuple[dict, dict, dict]:
        first, second = await open_console(patroller_cookie), await open_console(admin_cookie)
        try:
            await first.send_json_to(
                {"type": "action", "kind": "block", "stream": on_frozen.pk, "reason": "fraud", "request_id": "f-1"}
            )
            # Stored and committed: its drop is now waiting on the frozen node.
            blocked = ModerationAction.objects.filter(request_id="f-1", media_attempts=0)
            async with asyncio.timeout(TIMEOUT):
                while not await database_sync_to_async(blocked.exists)():
                    await asyncio.sleep(0.05)
            # Another console marks a healthy stream patrolled, then blocks it: both answered at once.
            await second.send_json_to(
                {"type": "action", "kind": "mark_patrolled", "stream": on_healthy.pk, "request_id": "h-1"}
            )
            patrolled = await next_ack(second, "h-1")
            await second.send_json_to(
                {"type": "action", "kind": "block", "stream": on_healthy.pk, "reason": "fraud", "request_id": "h-2"}
            )
            cut = await next_ack(second, "h-2")
            frozen_cut = ModerationAction.objects.filter(request_id="f-1", media_status=MediaStatus.PENDING)
            assert await database_sync_to_async(frozen_cut.exists)(), "the frozen node cannot have confirmed"
            charged_before = await database_sync_to_async(charged)()
            freeze(nginx_rtmp, signal.SIGCONT)  # the node answers the drop it was holding
            held = await next_ack(first, "f-1", timeout=TIMEOUT)
            return patrolled, cut, held, charged_before
        finally:
            await first.disconnect()
            await second.disconnect()

    freeze(nginx_rtmp, signal.SIGSTOP)
    try:
        patrolled, cut, held, charged_before = asyncio.run(scenario())
    finally:
        freeze(nginx_rtmp, signal.SIGCONT)
    assert patrolled["action"]["kind"] == "mark_patrolled"
    assert cut["action"]["media_status"] == MediaStatus.CONFIRMED and "media_confirmed" in cut["timings"]
    assert healthy_publish.wait(timeout=TIMEOUT) != 0, "the healthy node's publisher was not cut"
    assert held["action"]["media_status"] == MediaStatus.CONFIRMED
    # The frozen node's ack came last, after the node answered: everything else went on meanwhile.
    assert held["timings"]["media_confirmed"] > cut["timings"]["media_confirmed"]
    # Each block is charged once, after its own cut: the frozen node's only once it had answered.
    assert charged_before == ["h-2"]
    assert charged() == ["f-1", "h-2"]


def charged() -> list[str]:
    """The request ids of the actions charged to their publisher so far."""
    events = CreditEvent.objects.filter(kind=CreditEvent.Kind.ACTION).values_list("action__request_id", flat=True)
    return sorted(events)
