"""Fan-out: 500 consoles connected, one block's delta delivered to all of them.

    .venv/bin/python bench/fanout.py [--clients 500] [--rounds 5]

Starts the ASGI server as the run command does on a fresh PostgreSQL database, connects CLIENTS
console WebSockets (one patroller's session, as many tabs), and for each round has one console
send a block; the clock runs from sending the block frame to each console receiving the
`stream.blocked` delta. The node's control port is closed, so the cut itself stays pending: this
measures the broadcast, not the media server. The last line is one JSON object:
{"clients", "p50_ms", "p99_ms", …}. Goal: p99 <= 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/liveward_bench_fanout")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--clients", type=int, default=500)
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


async def run(base: str, session: str, clients: int, stream_ids: list[int]) -> list[float]:
    import websockets

    headers = {"Cookie": f"sessionid={session}", "Origin": base}
    url = base.replace("http", "ws") + "/ws/console/"
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
    for stream_id in stream_ids:
        arrived: list[float] = []
        waiting = [asyncio.create_task(wait_delta(ws, stream_id, arrived)) for ws in sockets]
        sent = time.perf_counter()
        frame = {"type": "action", "request_id": uuid.uuid4().hex, "kind": "block", "stream": stream_id}
        await sockets[0].send(json.dumps({**frame, "reason": "fraud"}))
        await asyncio.wait_for(asyncio.gather(*waiting), timeout=60)
        latencies += [at - sent for at in arrived]
        common.say(f"round for stream {stream_id}: last console after {(max(arrived) - sent) * 1000:.1f} ms")
        await asyncio.sleep(0.5)
    for ws in sockets:
        await ws.close()
    return latencies


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
            latencies = asyncio.run(run(base, session, args.clients, seeded["streams"]))
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    summary = common.latency_summary(latencies)
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
                "loadavg_1m": round(os.getloadavg()[0], 2),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
