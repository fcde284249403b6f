"""The ingest gate's throughput and latency against its floor, in one run.

    .venv/bin/python bench/gate.py [--keys 2000] [--workers 2] [--concurrency 50] [--duration 10]

Creates (or reuses) a PostgreSQL database, migrates it, seeds it through the actions (one
agreement, one category, one nginx-rtmp node with a known secret, K verified publishers with a key
each), counts the SQL statements of one decision in a subprocess, then starts uvicorn as the run
command does and drives on_publish / on_publish_done pairs from CONCURRENCY keep-alive callers,
each on its own keys. The same load then goes to the floor, /bench/floor: a sync Django view that
answers "ok" through the same middleware, with a POST body of the same size.

Then the lean floor: the same closed-loop load on the gate's own ASGI path with a hook it does not
know (answered 404 on a gate thread before any query), the cost of the path around a decision. And
the open loop (bench/open_loop.py): on_publish / on_publish_done pairs offered at OPEN_RATE requests
a second (Poisson arrivals, a pair's publish timed from its scheduled send), then the lean floor at
the same rate, each OPEN_DURATION seconds; and the open-loop client's own ceiling.

The last line printed is one JSON object: gate_rps, floor_rps, ratio, p50_ms, p99_ms,
queries_per_decision, lean_floor_rps, ratio_to_lean, open_rate, open_p50_ms, open_p99_ms,
open_errors, the open floor's and the client's figures, the load average and the run's parameters.
Goals on a 2-core machine (issue 17): gate_rps >= 1,000 (ratio_to_lean >= 0.2); at open_rate 300,
open_p99_ms <= 20 with no errors; queries_per_decision <= 3.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

# Run as a script, Python puts bench/ first on the path, where queue.py would shadow the standard
# library's queue module; the repository root goes there instead.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import common, open_loop  # noqa: E402

NODE_NAME = "bench-edge"
NODE_SECRET = "bench-node-secret-0123456789"
KEY_PREFIX = "bench-key-"
FORM = "application/x-www-form-urlencoded"
LEAN_HOOK = "on_bench_floor"  # a hook the gate does not know: the lean floor
LEAN_STATUS = 404  # the lean path's answer to it, "denied: unknown hook", before any query

SEED = r"""
import json
from django.db import transaction
from moderation import actions
from moderation.models import Category, MediaServer, Publisher, ServiceAgreement, StreamKey, hash_stream_key

keys, extra, node_name, node_secret, prefix = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
created = 0
with transaction.atomic():
    agreement = ServiceAgreement.objects.order_by("-effective_at").first()
    if agreement is None:
        agreement = actions.publish_agreement("bench-1", title="Bench agreement")
    category = Category.objects.filter(slug="bench").first() or actions.create_category("bench", name="Bench")
    node = MediaServer.objects.filter(name=node_name).first()
    if node is None:
        node, _secret = actions.register_media_server(
            node_name, kind=MediaServer.Kind.NGINX_RTMP, control_url="http://127.0.0.1:9/control", secret=node_secret
        )
    elif not node.secret_matches(node_secret):
        raise SystemExit(f"node {node_name} exists with another secret; drop the bench database or rename the node")
    wanted = [hash_stream_key(f"{prefix}{index:06d}") for index in range(keys)]
    have = set(StreamKey.objects.filter(key_hash__in=wanted).values_list("key_hash", flat=True))
    for index in range(keys):
        key = f"{prefix}{index:06d}"
        if hash_stream_key(key) in have:
            continue
        publisher = actions.register_publisher(
            f"bench-{index:06d}", display_name=f"Bench {index}", agreement_version=agreement.version
        )
        publisher = actions.set_publisher_verification(
            publisher, verification=Publisher.Verification.VERIFIED, actor=None
        )
        actions.issue_stream_key(publisher, category=category, key=key)
        created += 1
    for index in range(extra):
        actions.record_gate_decision(
            hook="publish", allowed=True, reason="allowed", node=node, key_name=f"{prefix}{index % keys:06d}",
            client_id=f"history-{index}", addr="198.51.100.7",
        )
print(json.dumps({"created": created, "agreement": agreement.version}))
"""

COUNT_QUERIES = r"""
import json
from urllib.parse import urlencode
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from moderation import actions
from moderation.gate import rules
from moderation.models import MediaServer

samples, node_name, node_secret, prefix = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
node = MediaServer.objects.get(name=node_name)

CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")

def counted(captured, control=False):
    # SQL statements, leaving out transaction control (BEGIN/COMMIT and savepoints) unless asked.
    return sum(1 for q in captured.captured_queries if control or not q["sql"].upper().startswith(CONTROL))

publish, done, round_trips = [], [], []
for index in range(samples):
    key, client_id = f"{prefix}{index:06d}", f"q{index}"
    request = rules.PublishRequest(node=node, key_name=key, app="live", client_id=client_id, addr="10.0.0.1")
    with CaptureQueriesContext(connection) as captured:
        outcome = rules.decide_publish(request)
    if not outcome.allowed:
        raise SystemExit(f"{key} was denied: {outcome.reason}")
    publish.append(counted(captured))
    round_trips.append(counted(captured, control=True))
    with CaptureQueriesContext(connection) as captured:
        actions.end_stream_session(node=node, client_id=client_id, key_name=key)
    done.append(counted(captured))

# The same through the view (node authentication, body parsing, middleware), as a cross-check.
client, view = Client(HTTP_HOST="127.0.0.1"), []
for index in range(samples):
    key, client_id = f"{prefix}{index:06d}", f"v{index}"
    form = {"app": "live", "name": key, "addr": "10.0.0.1", "clientid": client_id, "call": "publish", "type": "live"}
    base = f"/gate/nginx-rtmp/{node_name}/{node_secret}/"
    with CaptureQueriesContext(connection) as captured:
        response = client.post(base + "on_publish", urlencode(form), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.content
    view.append(counted(captured))
    form["call"] = "publish_done"
    client.post(base + "on_publish_done", urlencode(form), content_type="application/x-www-form-urlencoded")

mean = lambda values: round(sum(values) / len(values), 2)
print(json.dumps({
    "publish": mean(publish), "done": mean(done), "publish_view": mean(view), "publish_round_trips": mean(round_trips)
}))
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/liveward_bench")
    parser.add_argument(
        "--redis-url", default="redis://127.0.0.1:6379/9", help='a Redis URL, or "embedded" for a throw-away one'
    )
    parser.add_argument("--keys", type=int, default=2000, help="publishers with one key each (default 2000)")
    parser.add_argument("--extra-decisions", type=int, default=0, help="gate decisions to pre-fill the history with")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default 2)")
    parser.add_argument("--concurrency", type=int, default=50, help="concurrent callers (default 50)")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per target (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first (default 2)")
    parser.add_argument("--single-duration", type=float, default=5.0, help="seconds of the one-caller run")
    parser.add_argument("--query-samples", type=int, default=50, help="decisions to count queries over")
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="extra server environment (repeatable)"
    )
    parser.add_argument("--no-ceiling", action="store_true", help="skip measuring the load client's own ceiling")
    parser.add_argument(
        "--open-rate", type=float, default=300.0, help="open loop: gate requests offered per second (default 300)"
    )
    parser.add_argument("--open-duration", type=float, default=10.0, help="open loop: measured seconds per target")
    parser.add_argument(
        "--connection-cap", type=int, default=open_loop.DEFAULT_CONNECTION_CAP, help="open loop: most connections"
    )
    args = parser.parse_args()
    if args.keys < args.concurrency:
        parser.error("--keys must be at least --concurrency so that callers never share a key")
    return args


def nginx_form(key: str, client_id: str, call: str) -> bytes:
    """A callback body shaped like nginx-rtmp's (its own fields first, then the key's)."""
    return urlencode(
        {
            "app": "live",
            "flashver": "FMLE/3.0 (compatible; FMSc/1.0)",
            "swfurl": "rtmp://203.0.113.10/live",
            "tcurl": "rtmp://203.0.113.10/live",
            "pageurl": "",
            "addr": "198.51.100.23",
            "clientid": client_id,
            "call": call,
            "name": key,
            "type": "live",
        },
        quote_via=quote,
    ).encode()


def gate_script(host: str, port: int, keys: list[str], concurrency: int):
    base = f"/gate/nginx-rtmp/{NODE_NAME}/{NODE_SECRET}/"

    def script(caller: int) -> Iterator[list[tuple[str, bytes]]]:
        own = keys[caller::concurrency]  # disjoint per caller: pairs never collide
        sequence = 0
        while True:
            for key in own:
                sequence += 1
                client_id = str(caller * 10_000_000 + sequence)
                publish = nginx_form(key, client_id, "publish")
                done = nginx_form(key, client_id, "publish_done")
                yield [
                    ("publish", common.post_request(host, port, base + "on_publish", publish, FORM)),
                    ("done", common.post_request(host, port, base + "on_publish_done", done, FORM)),
                ]

    return script


def floor_script(host: str, port: int, keys: list[str]):
    # Same size as a gate callback body, so both runs move the same bytes.
    size = len(nginx_form(keys[0], "10000001", "publish"))
    body = (b"pad=" + b"x" * size)[:size]
    request = common.post_request(host, port, "/bench/floor", body, FORM)

    def script(caller: int) -> Iterator[list[tuple[str, bytes]]]:
        while True:
            yield [("floor", request), ("floor", request)]

    return script


def lean_floor_script(host: str, port: int, keys: list[str]):
    """The gate's own ASGI path with a hook it does not know: 404 on a gate thread, before any query."""
    body = nginx_form(keys[0], "10000001", "publish")
    request = common.post_request(host, port, f"/gate/nginx-rtmp/{NODE_NAME}/{NODE_SECRET}/{LEAN_HOOK}", body, FORM)

    def script(caller: int) -> Iterator[list[tuple[str, bytes]]]:
        while True:
            yield [("lean", request), ("lean", request)]

    return script


def open_gate_units(host: str, port: int, keys: list[str]) -> open_loop.Units:
    """Pairs for the open loop, cycling through every key; client ids unlike the closed loop's."""
    base = f"/gate/nginx-rtmp/{NODE_NAME}/{NODE_SECRET}/"
    for sequence, key in enumerate(itertools.cycle(keys), start=1):
        client_id = str(900_000_000 + sequence)
        publish = common.post_request(host, port, base + "on_publish", nginx_form(key, client_id, "publish"), FORM)
        done = nginx_form(key, client_id, "publish_done")
        yield [("publish", publish), ("done", common.post_request(host, port, base + "on_publish_done", done, FORM))]


def open_lean_units(host: str, port: int, keys: list[str]) -> open_loop.Units:
    """The lean floor for the open loop: pairs of the same size on the unknown hook."""
    return lean_floor_script(host, port, keys)(0)


def open_client_ceiling(keys: list[str], start_rate: float) -> open_loop.Ceiling:
    """The highest rate of pairs the open-loop client offers a do-nothing server with its schedule kept."""
    # Built for another port: the stub ignores Host, and the bytes are the same size.
    return open_loop.open_loop_ceiling(lambda: open_gate_units("127.0.0.1", 9, keys), start_rate=start_rate)


def run_open_gate(args: argparse.Namespace, host: str, port: int, keys: list[str]) -> dict:
    """The gate, then its lean floor, at the same offered rate; their figures as JSON fields."""
    pairs = args.open_rate / 2  # a unit is a pair: on_publish, then on_publish_done
    run = {"rate": pairs, "duration": args.open_duration, "warmup": args.warmup, "connection_cap": args.connection_cap}
    common.say(f"open loop: gate pairs at {args.open_rate:g} requests/s offered (Poisson), {args.open_duration:g} s")
    gate = open_loop.run_open_loop(host, port, units=open_gate_units(host, port, keys), **run)
    common.say(f"open gate: {gate.describe()}")
    common.say(f"open lean floor: the same rate on the unknown hook ({LEAN_STATUS} before any query)")
    lean = open_loop.run_open_loop(host, port, units=open_lean_units(host, port, keys), **run, seed=18)
    common.say(f"open lean floor: {lean.describe(expected=(LEAN_STATUS,))}")
    publish = common.latency_summary(gate.latencies.get("publish", []))
    return {
        "open_rate": args.open_rate,
        **gate.summary("open"),
        "open_publish_p99_ms": publish["p99_ms"],
        **{
            name.replace("open_", "open_floor_", 1): value
            for name, value in lean.summary("open", expected=(LEAN_STATUS,)).items()
            if name.endswith(("_ms", "_errors", "_late_sends", "_connections"))
        },
    }


def report(label: str, result: common.LoadResult, *, expected: int | None = None) -> None:
    summary = common.latency_summary(result.all_latencies)
    if expected is not None:  # a floor whose every answer is this status
        result.statuses[200] += result.statuses.pop(expected, 0)
    common.say(
        f"{label}: {result.rps:,.0f} req/s, p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms, "
        f"errors {result.errors} {dict(result.statuses) if result.errors else ''}, "
        f"client CPU {result.client_cpu_share:.2f} core"
    )


def main() -> None:
    args = parse_args()
    common.raise_on_sigterm()
    common.say(f"load average {common.load_average()}")
    redis = server = None
    try:
        redis_url = args.redis_url
        if redis_url == "embedded":
            from console.embedded import EmbeddedRedis

            redis = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="liveward-bench-")) / "redis.sock").start()
            redis_url = redis.url
        extra = dict(item.split("=", 1) for item in args.env)
        env = common.django_env(DATABASE_URL=args.database_url, REDIS_URL=redis_url, **extra)

        if args.database_url.startswith(("postgres://", "postgresql://")) and common.ensure_postgres_database(
            args.database_url
        ):
            common.say(f"created database {args.database_url}")
        common.say("migrating")
        common.manage(["migrate", "--no-input", "-v", "0"], env)
        common.say(f"seeding {args.keys} publishers with keys through the actions")
        seeded = common.run_django_script(
            SEED, env, args=[str(args.keys), str(args.extra_decisions), NODE_NAME, NODE_SECRET, KEY_PREFIX]
        )
        common.say(f"seeded: {seeded}")
        queries = common.run_django_script(
            COUNT_QUERIES, env, args=[str(min(args.query_samples, args.keys)), NODE_NAME, NODE_SECRET, KEY_PREFIX]
        )
        common.say(
            f"SQL statements per decision (BEGIN/COMMIT/savepoints excluded): on_publish {queries['publish']} "
            f"({queries['publish_round_trips']} round trips with BEGIN/COMMIT), on_publish_done {queries['done']}, "
            f"on_publish through the view {queries['publish_view']}"
        )

        keys = [f"{KEY_PREFIX}{index:06d}" for index in range(args.keys)]
        host, port = "127.0.0.1", common.free_port()
        ceiling = None
        if not args.no_ceiling:
            ceiling = common.client_ceiling(
                concurrency=args.concurrency, duration=3.0, script=gate_script(host, port, keys, args.concurrency)
            )
            common.say(
                f"load client alone (do-nothing server): {ceiling.rps:,.0f} req/s "
                f"at {ceiling.client_cpu_share:.2f} core"
            )

        open_ceiling = None
        if not args.no_ceiling:
            open_ceiling = open_client_ceiling(keys, start_rate=max(100.0, args.open_rate / 2))
            common.say(f"open-loop client alone (do-nothing server): {open_ceiling.describe(per_unit=2)}")

        log_path = Path(tempfile.gettempdir()) / f"liveward-bench-gate-{port}.log"
        common.say(f"starting uvicorn with {args.workers} workers on {host}:{port} (its log: {log_path})")
        server = common.start_asgi_server(env, host=host, port=port, workers=args.workers, log_path=log_path)
        common.wait_for_http(host, port, "/healthz", process=server)

        load = {"concurrency": args.concurrency, "warmup": args.warmup, "duration": args.duration}
        common.say(f"gate: {args.concurrency} callers, {args.warmup:g} s warm-up, {args.duration:g} s measured")
        gate = common.run_load(host, port, **load, script=gate_script(host, port, keys, args.concurrency))
        report("gate", gate)
        common.say("floor: the same load against /bench/floor")
        floor = common.run_load(host, port, **load, script=floor_script(host, port, keys))
        report("floor", floor)
        # One caller: the time a single decision takes when nothing queues ahead of it (with 50
        # callers saturating two cores, latency is mostly waiting in line: p50 ≈ callers / rate).
        common.say("gate, one caller: service time without queueing")
        one = gate_script(host, port, keys, 1)
        single = common.run_load(host, port, concurrency=1, warmup=1.0, duration=args.single_duration, script=one)
        report("gate, one caller", single)
        common.say(f"lean floor: the same load on the gate's path, unknown hook ({LEAN_STATUS} before any query)")
        lean = common.run_load(host, port, **load, script=lean_floor_script(host, port, keys))
        report("lean floor", lean, expected=LEAN_STATUS)
        opened = run_open_gate(args, host, port, keys)
    except KeyboardInterrupt:
        common.say("interrupted; stopping the server")
        raise SystemExit(130) from None
    finally:
        common.stop_process(server)
        if redis is not None:
            redis.stop()

    summary = common.latency_summary(gate.all_latencies)
    publish = common.latency_summary(gate.latencies.get("publish", []))
    figures = {
        "gate_rps": round(gate.rps, 1),
        "floor_rps": round(floor.rps, 1),
        "ratio": round(gate.rps / floor.rps, 3) if floor.rps else 0.0,
        "p50_ms": summary["p50_ms"],
        "p99_ms": summary["p99_ms"],
        "queries_per_decision": queries["publish"],
        "queries_per_publish_done": queries["done"],
        "publish_p99_ms": publish["p99_ms"],
        "floor_p50_ms": common.latency_summary(floor.all_latencies)["p50_ms"],
        "floor_p99_ms": common.latency_summary(floor.all_latencies)["p99_ms"],
        "single_caller_p50_ms": common.latency_summary(single.all_latencies)["p50_ms"],
        "single_caller_p99_ms": common.latency_summary(single.all_latencies)["p99_ms"],
        "errors": gate.errors + floor.errors + single.errors,
        "workers": args.workers,
        "concurrency": args.concurrency,
        "duration_s": args.duration,
        "keys": args.keys,
        "client_cpu_cores": round(max(gate.client_cpu_share, floor.client_cpu_share), 2),
        "client_ceiling_rps": round(ceiling.rps, 1) if ceiling else None,
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }
    figures.update(
        lean_floor_rps=round(lean.rps, 1),
        lean_floor_p50_ms=common.latency_summary(lean.all_latencies)["p50_ms"],
        lean_floor_p99_ms=common.latency_summary(lean.all_latencies)["p99_ms"],
        lean_floor_errors=lean.errors,
        ratio_to_lean=round(gate.rps / lean.rps, 3) if lean.rps else 0.0,
        **opened,
        open_client_ceiling_rps=round(open_ceiling.rate * 2, 1) if open_ceiling else None,
        loadavg=common.load_average(),
    )
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
