"""The audits at scale on PostgreSQL: patrol coverage, reconciliation, and the purge while the gate works.

    .venv/bin/python bench/audits.py [--streams 10000] [--comments 1000000] [--gate-concurrency 8]

Recreates a PostgreSQL database (default ``liveward_h15_bench``), migrates it and seeds it: STREAMS
live streams on one node, 1 % of them unwatched past their patrol interval (bulk-created rows: the
bench measures the audits, not the gate), and COMMENTS comments received 70 days ago (past the
60-day retention), inserted by doubling a first batch with INSERT … SELECT. Then:

1. **coverage**: the ``patrol_coverage`` audit, as the worker runs it (``audits.run_audit``), over
   the STREAMS live streams (it writes a finding per overdue stream);
2. **reconcile**: the ``reconciliation`` audit against a stand-in nginx-rtmp node (an HTTP server in
   the same process) whose ``/stat`` lists the same STREAMS sessions;
3. **purge**: the ``retention_purge`` audit deleting the expired comments (set-based ``DELETE``s of
   50,000 rows, keyset by id), in a subprocess, while callers drive the
   gate (on_publish / on_publish_done pairs over HTTP, uvicorn as the run command starts it); the
   gate's p99 is taken over the purge's duration only.

The last line printed is one JSON object: coverage_streams, coverage_s, reconcile_s, purge_rows,
purge_s, gate_p99_during_purge_ms, and the floor: gate_p99_floor_ms, the same gate load just before
the purge; and the load average (1, 5, 15 min) when the purge ended. Goals: coverage_s <= 2,
reconcile_s <= 2, purge_s <= 60, gate_p99_during_purge_ms <= 100.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import common  # noqa: E402
from bench.gate import KEY_PREFIX, NODE_NAME, NODE_SECRET, SEED, gate_script  # noqa: E402

SEED_AUDITS = r"""
import json
from datetime import timedelta
from django.db import connection, transaction
from django.utils import timezone
from moderation import actions
from moderation.models import (
    Category, Comment, MediaServer, Publisher, ServiceAgreement, Stream, StreamKey, hash_stream_key,
)

streams, comments = int(sys.argv[1]), int(sys.argv[2])
now = timezone.now()
agreement = ServiceAgreement.objects.order_by("-effective_at").first()
category = actions.create_category("bench-live", name="Bench live", risk_tier=2)
node, _secret = actions.register_media_server(
    "bench-audits", kind=MediaServer.Kind.NGINX_RTMP, control_url="http://127.0.0.1:9/", secret="bench-audits-secret"
)
publisher = actions.register_publisher("bench-audits", display_name="Bench audits", agreement_version=agreement.version)
keys = StreamKey.objects.bulk_create(
    [
        StreamKey(key_hash=hash_stream_key(name), key_prefix=name[:6], publisher=publisher, category=category)
        for name in (f"audit-key-{index:06d}" for index in range(streams))
    ],
    batch_size=5000,
)
overdue_every = 100
rows = [
    Stream(
        key=key, published_name=f"audit-key-{index:06d}", publisher=publisher, category=category, node=node,
        app="live", client_id=str(index + 1),
        started_at=now - timedelta(minutes=20 if index % overdue_every == 0 else 5),
    )
    for index, key in enumerate(keys)
]
Stream.objects.bulk_create(rows, batch_size=5000)
first = list(Stream.objects.filter(node=node).values_list("pk", flat=True)[:100])
old = now - timedelta(days=70)
seed = min(comments, 10000)
Comment.objects.bulk_create(
    [
        Comment(stream_id=first[index % len(first)], external_id=f"bench-c-{index}", viewer_id="v", text="弹幕",
                posted_at=old, received_at=old, status=Comment.Status.PUBLISHED)
        for index in range(seed)
    ],
    batch_size=5000,
)
columns = [f.column for f in Comment._meta.concrete_fields if f.column not in ("id", "external_id")]
have, generation = seed, 0
with connection.cursor() as cursor:
    cursor.execute("SET statement_timeout = 0")  # seeding a million rows takes longer than the console's limit
    while have < comments:
        generation += 1
        take = min(have, comments - have)
        cursor.execute(
            f"INSERT INTO moderation_comment (external_id, {', '.join(columns)}) "
            f"SELECT external_id || '-g{generation}', {', '.join(columns)} "
            "FROM moderation_comment ORDER BY id LIMIT %s",
            [take],
        )
        have += take
    cursor.execute("ANALYZE")
print(json.dumps({"streams": Stream.objects.live().filter(node=node).count(), "comments": have, "node": node.pk}))
"""

MEASURE = r"""
import json, threading, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from moderation import audits
from moderation.models import MediaServer, Stream

which = sys.argv[1]
node = MediaServer.objects.get(name="bench-audits")
if which == "coverage":
    started = time.perf_counter()
    summary = audits.run_audit("patrol_coverage", task_id=str(uuid.uuid4()))
    print(json.dumps({"seconds": time.perf_counter() - started, "summary": summary}))
elif which == "reconcile":
    sessions = list(Stream.objects.live().filter(node=node).values_list("published_name", "client_id"))
    clients = "".join(
        f"<stream><name>{key}</name><client><id>{client}</id><address>198.51.100.1</address>"
        f"<time>60000</time><publishing/></client></stream>"
        for key, client in sessions
    )
    body = f"<rtmp><server><application><name>live</name><live>{clients}</live></application></server></rtmp>".encode()

    class Stat(BaseHTTPRequestHandler):
        def do_GET(self):
            answer = body if self.path.startswith("/stat") else b"0"
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Stat)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    MediaServer.objects.exclude(pk=node.pk).update(enabled=False)
    MediaServer.objects.filter(pk=node.pk).update(control_url=f"http://127.0.0.1:{server.server_address[1]}/")
    started = time.perf_counter()
    summary = audits.run_audit("reconciliation", task_id=str(uuid.uuid4()))
    print(json.dumps({"seconds": time.perf_counter() - started, "summary": summary}))
elif which == "purge":
    started = time.perf_counter()
    summary = audits.run_audit("retention_purge", task_id=str(uuid.uuid4()))
    print(json.dumps({"seconds": time.perf_counter() - started, "summary": summary}))
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/liveward_h15_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--streams", type=int, default=10_000)
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--gate-keys", type=int, default=200)
    parser.add_argument("--gate-concurrency", type=int, default=8)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    common.raise_on_sigterm()
    env = common.django_env(DATABASE_URL=args.database_url, REDIS_URL=args.redis_url)
    common.recreate_postgres_database(args.database_url)
    common.say("migrating")
    common.manage(["migrate", "--no-input", "-v", "0"], env)
    common.say(f"seeding {args.gate_keys} gate publishers through the actions")
    common.run_django_script(SEED, env, args=[str(args.gate_keys), "0", NODE_NAME, NODE_SECRET, KEY_PREFIX])
    common.say(f"seeding {args.streams} live streams and {args.comments} expired comments")
    seeded = common.run_django_script(SEED_AUDITS, env, args=[str(args.streams), str(args.comments)])
    common.say(f"seeded: {seeded}")

    coverage = common.run_django_script(MEASURE, env, args=["coverage"])
    common.say(f"coverage: {coverage['seconds']:.2f} s, {coverage['summary']}")
    reconcile = common.run_django_script(MEASURE, env, args=["reconcile"])
    common.say(f"reconcile: {reconcile['seconds']:.2f} s, {reconcile['summary']}")

    keys = [f"{KEY_PREFIX}{index:06d}" for index in range(args.gate_keys)]
    latencies: list[float] = []
    with common.console_server(env, name="audits", workers=1) as base:
        host, port = "127.0.0.1", int(base.rsplit(":", 1)[1])
        script = gate_script(host, port, keys, args.gate_concurrency)
        # Floor: the same gate load with no purge running.
        floor = common.run_load(host, port, concurrency=args.gate_concurrency, warmup=1.0, duration=3.0, script=script)
        floor_gate = common.latency_summary(floor.all_latencies)
        output = tempfile.TemporaryFile()  # noqa: SIM115 (the purge subprocess writes to it while we read it after)
        purge = subprocess.Popen(
            [common.PYTHON, "-c", "import django, sys\ndjango.setup()\n" + MEASURE, "purge"],
            env=env, cwd=common.BASE_DIR, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
        while purge.poll() is None:
            result = common.run_load(
                host, port, concurrency=args.gate_concurrency, warmup=0.0, duration=3.0, script=script
            )
            latencies.extend(result.all_latencies)  # every chunk started while the purge ran
        output.seek(0)
        lines = [line for line in output.read().decode().splitlines() if line.strip()]
        if purge.returncode != 0:
            raise SystemExit("purge failed:\n" + "\n".join(lines[-20:]))
        purged = json.loads(lines[-1])
    gate = common.latency_summary(sorted(latencies))
    common.say(f"purge: {purged['seconds']:.1f} s, {purged['summary']}; gate during it: {gate}")
    print(
        json.dumps(
            {
                "coverage_streams": coverage["summary"]["live"],
                "coverage_s": round(coverage["seconds"], 3),
                "reconcile_s": round(reconcile["seconds"], 3),
                "purge_rows": purged["summary"].get("comments", 0),
                "purge_s": round(purged["seconds"], 2),
                "gate_p99_during_purge_ms": gate["p99_ms"],
                "gate_requests_during_purge": len(latencies),
                "gate_p99_floor_ms": floor_gate["p99_ms"],
                "load_average": [round(value, 2) for value in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
