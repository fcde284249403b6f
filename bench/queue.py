"""The patrol queue at scale: a console's first snapshot with 100,000 live streams, and its SQL count.

    .venv/bin/python bench/queue.py [--streams 100000]

Seeds a fresh PostgreSQL database: the first 1,000 streams through the actions (publishers, keys,
streams opened as the gate opens them), the rest in bulk with the rows those actions write. Starts
the ASGI server as the run command does, logs a patroller in, and times, over several connections,
from opening the console WebSocket to its first snapshot frame. In a Django subprocess it counts
the SQL statements of building that snapshot at 1,000 and at the full count, to show the count
does not grow with the streams, and shows the plan of the window's ordered read. The last line is
one JSON object: {"streams", "snapshot_ms", "queries", "loadavg_1m", …}. Goal: snapshot_ms <= 200,
queries constant.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

# Run as a script, Python puts bench/ first on the path, where queue.py would shadow the standard
# library's queue module; the repository root goes there instead.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import common  # noqa: E402

PATROLLER = ("bench-patroller", "lantern-quiet-river-4821")

SEED = r"""
import json
from django.db import transaction
from accounts.actions import create_staff_user
from moderation import actions
from moderation.models import MediaServer, Publisher

streams, username, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
actions.publish_agreement("bench-1", title="Bench agreement")
categories = [
    actions.create_category(slug, name=slug, risk_tier=tier)
    for slug, tier in (("news", 1), ("shopping", 2), ("games", 3), ("education", 3))
]
node, _secret = actions.register_media_server(
    "bench-node", kind=MediaServer.Kind.NGINX_RTMP, control_url="http://127.0.0.1:9/"
)
create_staff_user(username, role="patroller", password=password)
through_actions = min(streams, 1000)
for start in range(0, through_actions, 1000):
    with transaction.atomic():
        for index in range(start, min(through_actions, start + 1000)):
            publisher = actions.register_publisher(
                f"q-{index}", display_name=f"主播{index}", agreement_version="bench-1"
            )
            key = actions.issue_stream_key(publisher, category=categories[index % 4], key=f"q{index:06d}")
            actions.open_stream(
                key, published_name=key.issued_key,
                node=node, app="live", client_id=str(index), addr="127.0.0.1", title=f"直播{index}"
            )
# The rest in bulk: row for row what those three actions write (the staff log's lines and the
# consoles' events aside), 5,000 to a statement, so 100,000 streams take a minute, not an hour.
from django.utils import timezone
from moderation.actions.blacklist import identity_hashes_for
from moderation.actions.queue_priority import initial_queue_priority
from moderation.models import Stream, StreamKey
from moderation.models.publishers import STREAM_KEY_PREFIX_LENGTH, hash_stream_key
for start in range(through_actions, streams, 5000):
    indexes = range(start, min(streams, start + 5000))
    now = timezone.now()
    with transaction.atomic():
        publishers = Publisher.objects.bulk_create(
            Publisher(
                **identity_hashes_for({"platform_account_id": f"q-{index}", "document_type": "resident_id"}),
                platform_account_id=f"q-{index}", display_name=f"主播{index}", agreement_version="bench-1",
                agreement_accepted_at=now, filing_category=Publisher.FilingCategory.PERSON, filing_changed_at=now,
            )
            for index in indexes
        )
        keys = StreamKey.objects.bulk_create(
            StreamKey(
                key_hash=hash_stream_key(f"q{index:06d}"), key_prefix=f"q{index:06d}"[:STREAM_KEY_PREFIX_LENGTH],
                publisher=publisher, category=categories[index % 4],
            )
            for index, publisher in zip(indexes, publishers)
        )
        Stream.objects.bulk_create(
            Stream(
                key=key, published_name=f"q{index:06d}", publisher=key.publisher, category=key.category, node=node,
                app="live", client_id=str(index), addr="127.0.0.1", title=f"直播{index}", started_at=now,
                queue_priority=initial_queue_priority(key),
            )
            for index, key in zip(indexes, keys)
        )
# Autovacuum keeps a production database's planner statistics; a table loaded a moment ago has none.
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("ANALYZE")
print(json.dumps({"streams": streams}))
"""

COUNT = r"""
import json
from django.db import connection
from django.test.utils import CaptureQueriesContext
from console.consumers import ConsoleConsumer
from moderation import queries

consumer = ConsoleConsumer()
with CaptureQueriesContext(connection) as captured:
    snapshot = consumer._snapshot(0, 100, None, None, None)
with CaptureQueriesContext(connection) as filtered:
    consumer._snapshot(0, 100, "news", None, None)
import time
from moderation.models import Stream
from moderation.queries.streams import stored_order
window = Stream.objects.live().order_by(*stored_order()).values_list("pk", flat=True)[:100]
plan = window.explain()
started = time.perf_counter()
consumer._snapshot(0, 100, None, None, None)
in_process_ms = (time.perf_counter() - started) * 1000
print(json.dumps({"queries": len(captured), "filtered_queries": len(filtered), "total": snapshot["total"],
                  "cards": len(snapshot["streams"]), "in_process_ms": round(in_process_ms, 1),
                  "window_by_index": "stream_live_queue_order" in plan, "plan": plan.splitlines()[:3]}))
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/liveward_bench_queue")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--streams", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=20, help="snapshots timed")
    parser.add_argument("--workers", type=int, default=2)
    return parser.parse_args()


async def time_snapshots(base: str, session: str, count: int) -> list[float]:
    import websockets

    headers = {"Cookie": f"sessionid={session}", "Origin": base}
    times = []
    for _ in range(count):
        started = time.perf_counter()
        async with websockets.connect(base.replace("http", "ws") + "/ws/console/", additional_headers=headers) as ws:
            while True:
                frame = json.loads(await ws.recv())
                if frame["type"] == "snapshot":
                    times.append(time.perf_counter() - started)
                    break
    return times


def main() -> None:
    args = parse_args()
    common.raise_on_sigterm()
    env = common.django_env(DATABASE_URL=args.database_url, REDIS_URL=args.redis_url)
    try:
        common.recreate_postgres_database(args.database_url)
        common.manage(["migrate", "--no-input", "-v", "0"], env)
        common.say("seeding 1,000 live streams through the actions")
        common.run_django_script(SEED, env, args=["1000", *PATROLLER])
        small = common.run_django_script(COUNT, env)
        common.say(f"at 1,000 streams: {small}")
        common.recreate_postgres_database(args.database_url)
        common.manage(["migrate", "--no-input", "-v", "0"], env)
        common.say(f"seeding {args.streams:,} live streams (1,000 through the actions, the rest in bulk)")
        common.run_django_script(SEED, env, args=[str(args.streams), *PATROLLER])
        full = common.run_django_script(COUNT, env)
        common.say(f"at {args.streams:,} streams: {full}")
        with common.console_server(env, name="queue", workers=args.workers) as base:
            session = common.login(base, *PATROLLER)
            times = asyncio.run(time_snapshots(base, session, args.connections))
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    summary = common.latency_summary(times)
    figures = {
        "streams": full["total"],
        "snapshot_ms": summary["p50_ms"],
        "snapshot_p99_ms": summary["p99_ms"],
        "queries": full["queries"],
        "queries_at_1000": small["queries"],
        "filtered_queries": full["filtered_queries"],
        "snapshot_in_process_ms": full["in_process_ms"],
        "window_by_index": full["window_by_index"],
        "cards_per_snapshot": full["cards"],
        "connections": len(times),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
