"""Fan-out: 1,000 consoles connected across the ASGI workers, one block's delta delivered to all of them.

    .venv/bin/python bench/fanout.py [--clients 1000] [--rounds 5]

Starts the ASGI server as the run command does on a fresh PostgreSQL database, connects CLIENTS
console WebSockets (one patroller's session, as many tabs; the kernel spreads them over the
workers), and for each round has one console send a block; the clock runs from sending the block
frame to each console receiving the `stream.blocked` delta. The node's control port is closed, so
the cut itself stays pending: this measures the broadcast, not the media server.

The client's own ceiling is measured the same way in the same run: the same client, the same
number of sockets, against a minimal WebSocket server (the websockets library alone, one process,
no Django, no channel layer) that answers each trigger frame by broadcasting a frame the size of a
real delta. Its figures (``client_floor_*``) are what this client can measure at best on this
machine; ``client_deliveries_per_s`` is how many frames a second it took in there.

The last line is one JSON object: {"clients", "p50_ms", "p99_ms", "client_floor_p99_ms", …,
"loadavg_1m"}. Goal: p99 <= 300 ms with the client's floor far below it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

# Run as a script, Python puts bench/ first on the path, where queue.py would shadow the standard
# library's queue module; the repository root goes there instead.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import common  # noqa: E402

PATROLLER = ("bench-patroller", "lantern-quiet-river-4821")

SEED = r"""
import json
from accounts.actions import create_staff_user
from moderation import actions
from moderation.models import MediaServer, Publisher, Stream

rounds, username, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
actions.publish_agreement("bench-1", title="Bench agreement")
category = actions.create_category("bench", name="Bench", risk_tier=2)
node, _secret = actions.register_media_server(
    "bench-node", kind=MediaServer.Kind.NGINX_RTMP, control_url="http://127.0.0.1:9/"
)
create_staff_user(username, role="patroller", password=password)
ids = []
for index in range(rounds):
    publisher = actions.register_publisher(
        f"f-{index}", display_name=f"主播{index}", agreement_version="bench-1"
    )
    key = actions.issue_stream_key(publisher, category=category, key=f"f{index:04d}")
    stream = actions.open_stream(
        key, published_name=key.issued_key, node=node, app="live", client_id=str(index), addr="", title=f"直播{index}"
    )
    ids.append(stream.pk)
print(json.dumps({"streams": ids}))
"""

# The client's floor: hello and snapshot on connect, then a delta-sized broadcast per trigger frame.
FLOOR_SERVER = r"""
import asyncio, json, sys
import websockets

port, size = int(sys.argv[1]), int(sys.argv[2])
connected = set()

async def handler(ws):
    connected.add(ws)
    try:
        await ws.send(json.dumps({"type": "hello"}))
        await ws.send(json.dumps({"type": "snapshot", "streams": []}))
        async for text in ws:
            frame = json.loads(text)
            card = {"id": frame["stream"], "padding": "x" * size}
            websockets.broadcast(connected, json.dumps({"type": "delta", "event": "stream.blocked", "stream": card}))
    finally:
        connected.discard(ws)

async def main():
    async with websockets.serve(handler, "127.0.0.1", port, max_queue=None, compression=None):  # as the console
        print("ready", flush=True)
        await asyncio.Future()

asyncio.run(main())
"""
DELTA_BYTES = 1500  # about a blocked stream's card as the console sends it


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/liveward_bench_fanout")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    return parser.parse_args()


async def wait_delta(ws, stream_id: int, arrived: list[float]) -> None:
    """Read frames until this stream's block delta; note when it came."""
    while True:
        frame = json.loads(await ws.recv())
        if frame.get("type") == "delta" and frame["event"] == "stream.blocked" and frame["stream"]["id"] == stream_id:
            arrived.append(time.perf_counter())
            return


async def run(base: str, session: str, clients: int, stream_ids: list[int], *, path: str = "/ws/console/"):
    """Connect the clients, then time each round; return the latencies and the rounds' spans (first to last)."""
    import websockets

    headers = {"Cookie": f"sessionid={session}", "Origin": base}
    url = base.replace("http", "ws") + path
    sockets = []
    for start in range(0, clients, 10):  # connect in waves, as a shift logging in would
        wave = range(start, min(clients, start + 10))
        sockets += await asyncio.gather(
            *[websockets.connect(url, additional_headers=headers, max_queue=None, open_timeout=60) for _ in wave]
        )
    for ws in sockets:  # hello and snapshot
        await ws.recv()
        await ws.recv()
    common.say(f"{len(sockets)} consoles connected")
    latencies: list[float] = []
    spans: list[float] = []
    for stream_id in stream_ids:
        arrived: list[float] = []
        waiting = [asyncio.create_task(wait_delta(ws, stream_id, arrived)) for ws in sockets]
        sent = time.perf_counter()
        frame = {"type": "action", "request_id": uuid.uuid4().hex, "kind": "block", "stream": stream_id}
        await sockets[0].send(json.dumps({**frame, "reason": "fraud"}))
        await asyncio.wait_for(asyncio.gather(*waiting), timeout=60)
        latencies += [at - sent for at in arrived]
        spans.append(max(arrived) - min(arrived))
        common.say(f"round for stream {stream_id}: last console after {(max(arrived) - sent) * 1000:.1f} ms")
        await asyncio.sleep(0.5)
    for ws in sockets:
        await ws.close()
    return latencies, spans


def client_floor(clients: int, rounds: int) -> tuple[list[float], list[float]]:
    """The same client against a minimal broadcasting server: what it can measure at best here."""
    port = common.free_port()
    server = subprocess.Popen(
        [common.PYTHON, "-c", FLOOR_SERVER, str(port), str(DELTA_BYTES)], stdout=subprocess.PIPE, start_new_session=True
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == b"ready"
        return asyncio.run(run(f"http://127.0.0.1:{port}", "-", clients, list(range(1, rounds + 1)), path="/"))
    finally:
        common.stop_process(server)


def main() -> None:
    args = parse_args()
    common.raise_on_sigterm()
    env = common.django_env(DATABASE_URL=args.database_url, REDIS_URL=args.redis_url)
    try:
        common.recreate_postgres_database(args.database_url)
        common.manage(["migrate", "--no-input", "-v", "0"], env)
        seeded = common.run_django_script(SEED, env, args=[str(args.rounds), *PATROLLER])
        with common.console_server(env, name="fanout", workers=args.workers) as base:
            session = common.login(base, *PATROLLER)
            latencies, _spans = asyncio.run(run(base, session, args.clients, seeded["streams"]))
        common.say("the client's floor: the same client against a minimal broadcasting server")
        floor_latencies, floor_spans = client_floor(args.clients, args.rounds)
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    summary = common.latency_summary(latencies)
    floor = common.latency_summary(floor_latencies)
    print(
        json.dumps(
            {
                "clients": args.clients,
                "p50_ms": summary["p50_ms"],
                "p99_ms": summary["p99_ms"],
                "max_ms": summary["max_ms"],
                "deliveries": len(latencies),
                "rounds": args.rounds,
                "workers": args.workers,
                "client_floor_p50_ms": floor["p50_ms"],
                "client_floor_p99_ms": floor["p99_ms"],
                "client_deliveries_per_s": round(args.clients / max(sum(floor_spans) / len(floor_spans), 1e-6)),
                "loadavg_1m": round(os.getloadavg()[0], 2),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
