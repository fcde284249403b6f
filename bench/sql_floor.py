"""The gate's SQL floor: the gate's own statements sent by a minimal threaded loop, without Django.

    .venv/bin/python bench/sql_floor.py [--database-url …] [--threads 8] [--duration 10]

The database is bench/gate.py's, seeded by it (run that first). A Django subprocess hands over the
three statements the gate sends, exactly as it prepares them on PostgreSQL (the key with everything
the rules read; the stream and its decision written together; a session's stream closed), with one
sample of the write's values. Then THREADS threads, each on its own psycopg2 connection in
autocommit and on its own keys, PREPARE them once and send publish / publish-done pairs: EXECUTE the
read, EXECUTE the write with the ids the read returned, EXECUTE the close. Nothing decides in
between, so this is the rate the database gives the gate's SQL on this machine: the distance from
``gate_rps`` to ``sql_floor_rps`` is what Django, the rules and HTTP cost. ``sql_floor_rps`` counts
requests as gate_rps does (a publish and a publish_done are two).

The last line printed is one JSON object: sql_floor_rps, p50_ms and p99_ms per request, threads,
client_cpu_cores (this process's CPU while it ran), loadavg_1m.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import common  # noqa: E402

STATEMENTS = r"""
import json
from datetime import UTC, datetime
from django.db import connection
from moderation.actions import gate as gate_actions
from moderation.gate.key_lookup import CompiledKeyLookup
from moderation.models import GateDecision, MediaServer, Stream, StreamKey

node_name, key_name = sys.argv[1], sys.argv[2]
node = MediaServer.objects.get(name=node_name)
lookup = CompiledKeyLookup(connection)
opening = gate_actions._open_statement(connection)
ending = gate_actions._end_session_statement(connection)
# One sample of the write's values, as the gate computes them (the published name encrypted once).
key = StreamKey(pk=0, publisher_id=0, category_id=0, default_title="")
now = datetime(2026, 1, 1, tzinfo=UTC)
stream = Stream(key=key, published_name=key_name, publisher_id=0, category_id=0, node=node, app="live",
                client_id="0", addr="198.51.100.23", title="", started_at=now)
decision = gate_actions._decision_row(hook="publish", allowed=True, reason="allowed", node=node, key_name=key_name,
                                      stream_key_id=0, publisher_id=0, client_id="0", addr="198.51.100.23", at=now)
sample = opening.values(stream, decision, connection)
columns = [f"stream.{f.attname}" for f in opening.stream_fields]
columns += [f"decision.{f.attname}" for f in opening.decision_fields]
with connection.cursor() as cursor:
    read, write, end = (s.definition(cursor) for s in (lookup.statement, opening.prepared, ending))
select = [column[0].target.attname for column in lookup.compiler.select[lookup.model_slice]]
print(json.dumps({
    "node_id": node.pk,
    "read": read,
    "write": write,
    "end": end,
    "key_columns": {name: select.index(name) for name in ("id", "publisher_id", "category_id")},
    "write_columns": columns,
    "write_sample": [getattr(value, "adapted", value) if not isinstance(value, datetime) else None for value in sample],
}))
"""


def statements(env: dict[str, str], node_name: str, key_name: str) -> dict:
    """The gate's three statements as it prepares them, from a Django subprocess."""
    return common.run_django_script(STATEMENTS, env, args=[node_name, key_name])


def _caller(dsn: str, spec: dict, keys: list[str], stop: threading.Event, measuring: threading.Event, out: list):
    import psycopg2
    import psycopg2.errors
    from psycopg2.extras import Json

    connection = psycopg2.connect(dsn)
    connection.autocommit = True
    cursor = connection.cursor()
    for name in ("read", "write", "end"):
        cursor.execute(f"PREPARE floor_{name} AS {spec[name]}")
    columns, sample = spec["write_columns"], spec["write_sample"]
    at = {i for i, c in enumerate(columns) if c in ("stream.started_at", "decision.at")}
    client = {i for i, c in enumerate(columns) if c.endswith(".client_id")}
    position = {c: i for i, c in enumerate(columns)}
    write_marks = ", ".join(["%s"] * len(columns))
    key_columns = spec["key_columns"]
    latencies: list[float] = []
    sequence = 0
    while not stop.is_set():
        for key in keys:
            if stop.is_set():
                break
            sequence += 1
            client_id = f"{threading.get_ident() % 100_000}-{sequence}"
            key_hash = hashlib.sha256(key.encode()).hexdigest()
            started = time.perf_counter()
            now = datetime.now(UTC)
            cursor.execute("EXECUTE floor_read (%s, %s)", (key_hash, now))
            row = cursor.fetchone()
            values = [Json(v) if isinstance(v, list | dict) else v for v in sample]
            for i in at:
                values[i] = now
            for i in client:
                values[i] = client_id
            values[position["stream.key_id"]] = values[position["decision.stream_key_id"]] = row[key_columns["id"]]
            publisher = row[key_columns["publisher_id"]]
            values[position["stream.publisher_id"]] = values[position["decision.publisher_id"]] = publisher
            values[position["stream.category_id"]] = row[key_columns["category_id"]]
            values[position["decision.key_name"]] = key[:6]
            values[position["decision.key_hash"]] = key_hash
            try:
                cursor.execute(f"EXECUTE floor_write ({write_marks})", values)
            except psycopg2.errors.UniqueViolation:
                continue  # a stream of this key left live (gate.py's open loop under overload): skip the key
            cursor.fetchone()
            published = time.perf_counter()
            cursor.execute(
                "EXECUTE floor_end (%s, %s, %s, %s, %s)", (now, "unpublished", spec["node_id"], client_id, key_hash)
            )
            if cursor.fetchone() is None:
                raise RuntimeError(f"the floor's close found no live stream for {key}")
            ended = time.perf_counter()
            if measuring.is_set():
                latencies += [published - started, ended - published]
    connection.close()
    out.append(latencies)


def measure(
    database_url: str, spec: dict, keys: list[str], *, threads: int = 8, warmup: float = 1.0, duration: float = 10.0
) -> dict:
    """Drive the statements from THREADS threads on disjoint keys; return the figures."""
    stop, measuring, results = threading.Event(), threading.Event(), []
    workers = [
        threading.Thread(target=_caller, args=(database_url, spec, keys[i::threads], stop, measuring, results))
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    time.sleep(warmup)
    cpu_before, measuring_since = time.process_time(), time.perf_counter()
    measuring.set()
    time.sleep(duration)
    measuring.clear()
    elapsed, cpu = time.perf_counter() - measuring_since, time.process_time() - cpu_before
    stop.set()
    for worker in workers:
        worker.join()
    if len(results) != threads:
        raise SystemExit("a floor thread failed (see above)")
    latencies = sorted(value for result in results for value in result)
    return {
        "sql_floor_rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(common.percentile(latencies, 50) * 1000, 2) if latencies else None,
        "p99_ms": round(common.percentile(latencies, 99) * 1000, 2) if latencies else None,
        "threads": threads,
        "client_cpu_cores": round(cpu / elapsed, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/liveward_bench")
    parser.add_argument("--keys", type=int, default=2000, help="bench/gate.py's keys to use (default 2000)")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    args = parser.parse_args()
    from bench import gate

    env = common.django_env(DATABASE_URL=args.database_url, REDIS_URL="redis://127.0.0.1:6379/9")
    keys = [f"{gate.KEY_PREFIX}{index:06d}" for index in range(args.keys)]
    spec = statements(env, gate.NODE_NAME, keys[0])
    figures = measure(args.database_url, spec, keys, threads=args.threads, warmup=args.warmup, duration=args.duration)
    figures["loadavg_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
