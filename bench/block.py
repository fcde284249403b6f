"""The block path: from the WebSocket block message to the publisher's connection closed at nginx-rtmp.

    .venv/bin/python bench/block.py [--blocks 100] [--batch 10] [--workers 2]

Starts, on loopback: a fresh PostgreSQL database (migrated and seeded through the actions), the ASGI
server as the run command does, Debian's nginx with the RTMP module whose callbacks call that
server's gate, and ffmpeg publishers. A patroller logs in and opens the console WebSocket. For each
measured stream: ffmpeg publishes, the gate lets it live; then the clock starts and either

  * block:  the console sends {"type": "action", "kind": "block", …} over its WebSocket, or
  * floor:  the bench calls nginx-rtmp's control drop for that publisher directly,

and the clock stops when the publisher's connection is closed at nginx-rtmp, seen on the publisher's
side: each ffmpeg publishes through a loopback TCP relay of its own (in this process), which notes
the moment nginx closes (or resets) its end of the connection. That is the cut itself; ffmpeg then
takes tens of milliseconds more to notice on its next write and exit, which the figures also give
as *_exit_* (the clock stopped when the ffmpeg process is gone). Block and floor alternate on the
same machine in the same run. The last line is one JSON object: {"n", "p50_ms", "p99_ms",
"floor_p50_ms", "floor_p99_ms", …}. Goal: p50 <= 30 ms, p99 <= 100 ms, p50 within 20 ms of the floor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

# Run as a script, Python puts bench/ first on the path, where queue.py would shadow the standard
# library's queue module; the repository root goes there instead.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import common  # noqa: E402

NODE_NAME = "bench-nginx"
NODE_SECRET = "bench-block-node-secret-0123456789"
PATROLLER = ("bench-patroller", "lantern-quiet-river-4821")

SEED = r"""
import json
from django.db import transaction
from accounts.actions import create_staff_user
from moderation import actions
from moderation.models import MediaServer, Publisher

keys, control_url = int(sys.argv[1]), sys.argv[2]
username, password, node_name, node_secret = sys.argv[3:7]
with transaction.atomic():
    actions.publish_agreement("bench-1", title="Bench agreement")
    category = actions.create_category("bench", name="Bench", risk_tier=2)
    actions.register_media_server(
        node_name, kind=MediaServer.Kind.NGINX_RTMP, control_url=control_url, secret=node_secret
    )
    create_staff_user(username, role="patroller", password=password, display_name="Bench patroller")
    for index in range(keys):
        publisher = actions.register_publisher(
            f"bench-block-{index}", display_name=f"Bench {index}", agreement_version="bench-1"
        )
        actions.set_publisher_verification(publisher, verification=Publisher.Verification.VERIFIED, actor=None)
        actions.issue_stream_key(publisher, category=category, key=f"blk{index:05d}", default_title=f"Bench {index}")
print(json.dumps({"keys": keys}))
"""

LIVE_STREAMS = r"""
import json
from moderation.models import Stream
rows = Stream.objects.live().values_list("pk", "published_name")
print(json.dumps({key: pk for pk, key in rows}))
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/liveward_bench_block")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--blocks", type=int, default=100, help="blocks measured (and as many floor drops)")
    parser.add_argument("--batch", type=int, default=10, help="publishers live at once")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    return parser.parse_args()


class Relay:
    """A loopback TCP relay for one publisher: notes when nginx closes its side of the connection."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.closed_at: float | None = None
        self.closed = asyncio.Event()
        self.server: asyncio.AbstractServer | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    def _upstream_closed(self) -> None:
        if self.closed_at is None:
            self.closed_at = time.perf_counter()
            self.closed.set()

    async def _handle(self, client_reader, client_writer) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_writer.close()
            return

        async def to_upstream() -> None:
            try:
                while data := await client_reader.read(65536):
                    upstream_writer.write(data)
                    await upstream_writer.drain()
            except OSError:
                self._upstream_closed()  # a write to nginx failed: nginx closed the connection
            finally:
                upstream_writer.close()

        async def from_upstream() -> None:
            try:
                while data := await upstream_reader.read(65536):
                    client_writer.write(data)
                    await client_writer.drain()
                self._upstream_closed()  # end of file from nginx
            except OSError:
                self._upstream_closed()
            finally:
                client_writer.close()

        await asyncio.gather(to_upstream(), from_upstream(), return_exceptions=True)

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


async def wait_closed(relay: Relay, timeout: float = 10.0) -> float:
    """Wait until nginx closed the relayed publisher connection; return the moment (perf_counter)."""
    try:
        await asyncio.wait_for(relay.closed.wait(), timeout)
    except TimeoutError:
        raise TimeoutError("the publisher was not cut within 10 s") from None
    return relay.closed_at


async def wait_exit(process, timeout: float = 10.0) -> float:
    """Poll until the process exits; return the moment it did (perf_counter)."""
    deadline = time.perf_counter() + timeout
    while process.poll() is None:
        if time.perf_counter() > deadline:
            raise TimeoutError("the publisher was not cut within 10 s")
        await asyncio.sleep(0.0005)
    return time.perf_counter()


async def measure(args, base: str, nginx, env: dict) -> dict:
    import websockets

    from tests.media import start_ffmpeg

    session = common.login(base, *PATROLLER)
    headers = {"Cookie": f"sessionid={session}", "Origin": base}
    acks: dict[str, dict] = {}
    block_times: list[float] = []
    floor_times: list[float] = []
    block_exits: list[float] = []
    floor_exits: list[float] = []
    stored: list[float] = []
    confirmed: list[float] = []
    loop = asyncio.get_running_loop()
    async with websockets.connect(base.replace("http", "ws") + "/ws/console/", additional_headers=headers) as ws:

        async def reader() -> None:
            async for raw in ws:
                frame = json.loads(raw)
                if frame.get("type") in {"ack", "error"} and frame.get("request_id"):
                    acks[frame["request_id"]] = frame

        reading = asyncio.create_task(reader())
        next_key = 0
        total = args.blocks * 2
        while len(block_times) + len(floor_times) < total:
            batch = min(args.batch, total - len(block_times) - len(floor_times))
            keys = [f"blk{next_key + index:05d}" for index in range(batch)]
            next_key += batch
            relays = {key: Relay(nginx.rtmp_port) for key in keys}
            for relay in relays.values():
                await relay.start()
            publishers = {
                key: start_ffmpeg(
                    f"rtmp://127.0.0.1:{relays[key].port}/live/{key}",
                    log_dir=nginx.prefix / "logs",
                    ffmpeg=nginx.ffmpeg,
                )
                for key in keys
            }
            nginx.publishers.extend(publishers.values())
            live: dict[str, int] = {}
            deadline = time.monotonic() + 20
            while len(live) < batch and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                all_live = await loop.run_in_executor(None, common.run_django_script, LIVE_STREAMS, env)
                live = {key: all_live[key] for key in keys if key in all_live}
            for key in keys:
                if key not in live:
                    raise SystemExit(f"{key} never went live: {publishers[key].stderr()[-500:]}")
            await asyncio.sleep(0.5)  # let the publishers settle into steady streaming
            for key in keys:
                process = publishers[key].process
                as_block = (len(block_times) + len(floor_times)) % 2 == 0
                if as_block and len(block_times) >= args.blocks:
                    as_block = False
                if not as_block and len(floor_times) >= args.blocks:
                    as_block = True
                request_id = uuid.uuid4().hex
                started = time.perf_counter()
                if as_block:
                    frame = {"type": "action", "request_id": request_id, "kind": "block", "stream": live[key]}
                    await ws.send(json.dumps({**frame, "reason": "fraud"}))
                else:
                    url = f"{nginx.control_url}control/drop/publisher?app=live&name={key}"
                    await loop.run_in_executor(None, lambda url=url: urllib.request.urlopen(url, timeout=5).read())
                cut = await wait_closed(relays[key])
                ended = await wait_exit(process)
                (block_times if as_block else floor_times).append(cut - started)
                (block_exits if as_block else floor_exits).append(ended - started)
                if as_block:
                    for _ in range(2000):
                        if request_id in acks:
                            break
                        await asyncio.sleep(0.001)
                    ack = acks.get(request_id, {})
                    if ack.get("type") != "ack":
                        raise SystemExit(f"block was not acknowledged: {ack}")
                    stored.append(ack["timings"].get("stored", 0) / 1000)
                    if "media_confirmed" in ack["timings"]:
                        confirmed.append(ack["timings"]["media_confirmed"] / 1000)
            for relay in relays.values():
                relay.close()
            common.say(f"{len(block_times)} blocks, {len(floor_times)} floor drops")
        reading.cancel()
    block = common.latency_summary(block_times)
    floor = common.latency_summary(floor_times)
    return {
        "n": len(block_times),
        "p50_ms": block["p50_ms"],
        "p99_ms": block["p99_ms"],
        "floor_p50_ms": floor["p50_ms"],
        "floor_p99_ms": floor["p99_ms"],
        "floor_n": len(floor_times),
        "exit_p50_ms": common.latency_summary(block_exits)["p50_ms"],
        "floor_exit_p50_ms": common.latency_summary(floor_exits)["p50_ms"],
        "ack_stored_p50_ms": common.latency_summary(stored)["p50_ms"],
        "ack_media_confirmed_p50_ms": common.latency_summary(confirmed)["p50_ms"],
        "confirmed_in_ack": len(confirmed),
        "workers": args.workers,
    }


def main() -> None:
    args = parse_args()
    common.raise_on_sigterm()
    env = common.django_env(DATABASE_URL=args.database_url, REDIS_URL=args.redis_url)
    os.environ.update(env)  # tests.media, which runs nginx for us, imports the Django project
    import django

    django.setup()
    from tests.media import NginxRtmp, find_nginx

    nginx_binary, ffmpeg = find_nginx(), "ffmpeg"
    if not nginx_binary:
        raise SystemExit("nginx is not installed (apt-get install nginx-light libnginx-mod-rtmp ffmpeg)")
    host, port = "127.0.0.1", common.free_port()
    base = f"http://{host}:{port}"
    prefix = Path(tempfile.mkdtemp(prefix="liveward-bench-nginx-"))
    prefix.chmod(0o755)
    nginx = NginxRtmp(
        nginx=nginx_binary,
        ffmpeg=ffmpeg,
        prefix=prefix,
        callback_base=f"{base}/gate/nginx-rtmp/{NODE_NAME}/{NODE_SECRET}",
    )
    try:
        common.say(f"fresh database {args.database_url}")
        common.recreate_postgres_database(args.database_url)
        common.manage(["migrate", "--no-input", "-v", "0"], env)
        nginx.start()
        keys = args.blocks * 2 + args.batch
        common.say(f"seeding {keys} publishers, a patroller and the node through the actions")
        common.run_django_script(SEED, env, args=[str(keys), nginx.control_url, *PATROLLER, NODE_NAME, NODE_SECRET])
        with common.console_server(env, name="block", workers=args.workers, port=port):
            figures = asyncio.run(measure(args, base, nginx, env))
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    finally:
        nginx.stop()
    figures["loadavg_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
