"""The registration check against a million-entry blacklist, over HTTP, against its floor, in one run.

    .venv/bin/python bench/blacklist.py [--entries 1000000] [--workers 2] [--concurrency 50] [--duration 10]

Recreates a PostgreSQL database, migrates it, makes a platform-backend API client (token), and
bulk-loads ENTRIES blacklist entries with COPY in a Django subprocess: a quarter each of resident
ID numbers (valid check digits), mobile numbers, device ids and platform accounts, hashed by
moderation.identity (the production code and key), then ANALYZE. It checks that the check is one
indexed query (EXPLAIN), then starts uvicorn as the run command does and sends registration checks
(POST /api/v1/registration-check, served by the lean ASGI path in moderation/gate/asgi.py) from
CONCURRENCY keep-alive callers: half for blacklisted identities, half for clean ones, in the
formats platforms send (spaces, dashes, +86/0086, lower-case x), some with two fields. Every answer
is checked (a hit must be refused, a miss allowed). **Floor:** the same load against /bench/floor,
a sync Django view answering "ok" through the middleware; the lean path answering an empty body
(400, no query); and one caller alone (service time).

Then the open loop (bench/open_loop.py): checks offered at OPEN_RATE a second (Poisson arrivals,
each timed from its scheduled send, default 1,000/s), then the lean floor at the same rate, each
OPEN_DURATION seconds; and the open-loop client's own ceiling against a do-nothing server.

The last line printed is one JSON object: entries, p50_ms, p99_ms, rps, the floors' figures,
open_rate, open_p50_ms, open_p99_ms, open_errors, the open floor's and the client's figures and the
load average. Goals (issue 17), with 1,000,000 entries: at 1,000 checks/s offered, open_p99_ms <= 10;
rps >= 0.5 x lean_floor_rps.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

# Run as a script, Python puts bench/ first on the path, where queue.py would shadow the standard
# library's queue module; the repository root goes there instead.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import common, open_loop  # noqa: E402

PATH = "/api/v1/registration-check"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(index: int) -> str:
    """A valid 18-digit resident ID number, different for every index below ~36 million."""
    born = date(1950, 1, 1) + timedelta(days=index // 999)
    first17 = f"110105{born:%Y%m%d}{index % 999 + 1:03d}"
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def identity(kind_index: int, index: int) -> tuple[str, str]:
    """The (kind, raw value) of entry number INDEX of a kind (0 ID, 1 phone, 2 device, 3 account)."""
    if kind_index == 0:
        return "id_document", resident_id(index)
    if kind_index == 1:
        return "phone", f"139{index:08d}"
    if kind_index == 2:
        return "device", f"imei-{index:015d}"
    return "platform_account", f"bench-acct-{index:08d}"


LOAD = r"""
import io, json, time
from django.db import connection
from django.utils import timezone
from moderation.identity import identity_hash, mask, normalise
from bench.blacklist import identity

total = int(sys.argv[1])
per_kind = -(-total // 4)
now = timezone.now().isoformat()
started = time.monotonic()
columns = (
    "reference, kind, value_hash, masked_value, reason, note, removal_reason, created_at, status, report_status"
)
loaded = 0
with connection.cursor() as cursor:
    for kind_index in range(4):
        count = min(per_kind, total - loaded)
        for chunk_start in range(0, count, 100_000):
            buffer = io.StringIO()
            for index in range(chunk_start, min(count, chunk_start + 100_000)):
                kind, raw = identity(kind_index, index)
                value = normalise(kind, raw)
                buffer.write(
                    f"BLB{kind_index}-{index:08d}\t{kind}\t{identity_hash(kind, value)}\t{mask(kind, value)}\t"
                    f"fraud\t\t\t{now}\tactive\treported\n"
                )
            buffer.seek(0)
            cursor.copy_expert(f"COPY moderation_blacklistentry ({columns}) FROM STDIN", buffer)
        loaded += count
    cursor.execute("ANALYZE moderation_blacklistentry")
    cursor.execute("SELECT count(*) FROM moderation_blacklistentry")
    stored = cursor.fetchone()[0]

# The check's plan: one statement, on the partial unique index.
from django.test.utils import CaptureQueriesContext
from moderation.blacklist_matching import registration_check
with CaptureQueriesContext(connection) as captured:
    status, answer = registration_check({"phone": "139 0000 0007", "device_id": "imei-x-1"})
assert status == 200 and answer["allowed"] is False, answer
sql = captured.captured_queries[0]["sql"]
with connection.cursor() as cursor:
    cursor.execute("EXPLAIN " + sql)
    plan = " / ".join(row[0].strip() for row in cursor.fetchall())
print(json.dumps({"stored": stored, "seconds": round(time.monotonic() - started, 1), "queries": len(captured),
                  "plan": plan}))
"""

TOKEN = r"""
import json
from accounts.actions import create_machine_client
from accounts.roles import MACHINE_PLATFORM
_user, token = create_machine_client("bench-platform", kind=MACHINE_PLATFORM, actor=None)
print(json.dumps({"token": token}))
"""


REUSE = r"""
import json
from accounts.actions import issue_api_token
from accounts.models import User
# Keys are stored hashed: a reused database gives the bench client a fresh token.
_token, key = issue_api_token(User.objects.get(username="bench-platform"), actor=None)
print(json.dumps({"token": key}))
"""


def formats(kind: str, raw: str, variant: int) -> str:
    """The raw value written as a platform might send it."""
    if kind == "phone":
        return [raw, f"+86 {raw[:3]} {raw[3:7]} {raw[7:]}", f"0086-{raw}", f"({raw[:3]}) {raw[3:7]}-{raw[7:]}"][
            variant % 4
        ]
    if kind == "id_document":
        return [raw, raw.lower(), f"{raw[:6]} {raw[6:14]} {raw[14:]}"][variant % 3]
    if kind == "device":
        return raw.upper() if variant % 2 else raw
    return raw


FIELD = {"id_document": "id_number", "phone": "phone", "device": "device_id", "platform_account": "platform_account_id"}


def bodies(entries: int, count: int) -> list[tuple[bytes, bool]]:
    """COUNT request bodies with whether each must be refused: half hits, half misses, some with two fields."""
    per_kind = -(-entries // 4)
    out: list[tuple[bytes, bool]] = []
    for number in range(count):
        kind_index = number % 4
        hit = number % 2 == 0
        spread = (number * 7919) % per_kind
        index = spread if hit else per_kind + spread  # past the loaded range: not blacklisted
        kind, raw = identity(kind_index, index)
        body = {FIELD[kind]: formats(kind, raw, number)}
        if number % 5 == 0:  # a second, clean identity alongside
            extra_kind, extra_raw = identity((kind_index + 1) % 4, per_kind + number)
            body[FIELD[extra_kind]] = extra_raw
        out.append((json.dumps(body).encode(), hit))
    return out


def request_bytes(host: str, port: int, path: str, body: bytes, token: str) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Authorization: Token {token}\r\nContent-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode("latin-1") + body


def check_script(requests: list[bytes]):
    def script(caller: int) -> Iterator[list[tuple[str, bytes]]]:
        position = caller * 37
        while True:
            position = (position + 1) % len(requests)
            yield [("check", requests[position])]

    return script


def floor_script(host: str, port: int, size: int):
    body = (b"pad=" + b"x" * size)[:size]
    request = common.post_request(host, port, "/bench/floor", body, "application/x-www-form-urlencoded")

    def script(caller: int) -> Iterator[list[tuple[str, bytes]]]:
        while True:
            yield [("floor", request)]

    return script


async def verify(host: str, port: int, samples: list[tuple[bytes, bool]], token: str) -> int:
    """Send each sample once and compare the answer with what it must be; return the mismatches."""
    reader, writer = await asyncio.open_connection(host, port)
    wrong = 0
    try:
        for body, hit in samples:
            writer.write(request_bytes(host, port, PATH, body, token))
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))[15:])
            answer = json.loads(await reader.readexactly(length))
            if answer.get("allowed") is not (not hit) or (hit and not answer.get("reference")):
                wrong += 1
    finally:
        writer.close()
    return wrong


LEAN_STATUS = 400  # the lean path's answer to an empty object, before any query


def run_open_checks(args: argparse.Namespace, host: str, port: int, requests: list[bytes], token: str) -> dict:
    """The check, then its lean floor, at the same offered rate; their figures as JSON fields."""
    run = {"rate": args.open_rate, "duration": args.open_duration, "warmup": args.warmup}
    run["connection_cap"] = args.connection_cap
    common.say(f"open loop: checks at {args.open_rate:g}/s offered (Poisson), {args.open_duration:g} s")
    checks = open_loop.run_open_loop(host, port, units=([("check", r)] for r in itertools.cycle(requests)), **run)
    common.say(f"open check: {checks.describe()}")
    common.say(f"open lean floor: the same rate, an empty object ({LEAN_STATUS} before any query)")
    empty = request_bytes(host, port, PATH, b"{}", token)
    lean = open_loop.run_open_loop(host, port, units=itertools.repeat([("lean", empty)]), **run, seed=18)
    common.say(f"open lean floor: {lean.describe(expected=(LEAN_STATUS,))}")
    return {
        "open_rate": args.open_rate,
        **checks.summary("open"),
        **{
            name.replace("open_", "open_floor_", 1): value
            for name, value in lean.summary("open", expected=(LEAN_STATUS,)).items()
            if name.endswith(("_ms", "_errors", "_late_sends", "_connections"))
        },
    }


def open_client_ceiling(requests: list[bytes], start_rate: float) -> open_loop.Ceiling:
    """The highest rate of checks the open-loop client offers a do-nothing server with its schedule kept."""
    return open_loop.open_loop_ceiling(
        lambda: ([("check", r)] for r in itertools.cycle(requests)), start_rate=start_rate
    )


def report(label: str, result: common.LoadResult) -> None:
    summary = common.latency_summary(result.all_latencies)
    common.say(
        f"{label}: {result.rps:,.0f} req/s, p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms, "
        f"errors {result.errors} {dict(result.statuses) if result.errors else ''}, "
        f"client CPU {result.client_cpu_share:.2f} core"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/liveward_blacklist_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--single-duration", type=float, default=5.0)
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--reuse", action="store_true", help="keep the database of an earlier run (same --entries)")
    parser.add_argument("--open-rate", type=float, default=1000.0, help="open loop: checks offered per second")
    parser.add_argument("--open-duration", type=float, default=10.0, help="open loop: measured seconds per target")
    parser.add_argument("--connection-cap", type=int, default=open_loop.DEFAULT_CONNECTION_CAP)
    parser.add_argument("--no-ceiling", action="store_true", help="skip measuring the open-loop client's ceiling")
    args = parser.parse_args()
    common.raise_on_sigterm()
    common.say(f"load average {common.load_average()}")
    server = None
    try:
        env = common.django_env(
            DATABASE_URL=args.database_url, REDIS_URL=args.redis_url, **dict(item.split("=", 1) for item in args.env)
        )
        if args.reuse:
            common.say(f"reusing {args.database_url}")
            token = common.run_django_script(REUSE, env)["token"]
            loaded = common.run_django_script(LOAD, env, args=["0"])
        else:
            common.say(f"recreating {args.database_url}")
            common.recreate_postgres_database(args.database_url)
            common.manage(["migrate", "--no-input", "-v", "0"], env)
            token = common.run_django_script(TOKEN, env)["token"]
            common.say(f"loading {args.entries:,} entries with COPY")
            loaded = common.run_django_script(LOAD, env, args=[str(args.entries)])
        common.say(f"loaded {loaded['stored']:,} in {loaded['seconds']} s; the check: {loaded['queries']} query")
        common.say(f"plan: {loaded['plan']}")

        host, port = "127.0.0.1", common.free_port()
        log_path = Path(tempfile.gettempdir()) / f"liveward-bench-blacklist-{port}.log"
        common.say(f"starting uvicorn with {args.workers} workers on {host}:{port} (its log: {log_path})")
        server = common.start_asgi_server(env, host=host, port=port, workers=args.workers, log_path=log_path)
        common.wait_for_http(host, port, "/healthz", process=server)

        samples = bodies(args.entries, 4000)
        wrong = asyncio.run(verify(host, port, samples[:400], token))
        common.say(f"checked 400 answers against the loaded set: {wrong} wrong")
        requests = [request_bytes(host, port, PATH, body, token) for body, _hit in samples]
        load = {"concurrency": args.concurrency, "warmup": args.warmup, "duration": args.duration}
        common.say(f"registration check: {args.concurrency} callers, {args.warmup:g} s warm-up, {args.duration:g} s")
        checks = common.run_load(host, port, **load, script=check_script(requests))
        report("registration check", checks)
        common.say("floor: the same load against /bench/floor (Django, full middleware)")
        floor = common.run_load(host, port, **load, script=floor_script(host, port, len(samples[0][0])))
        report("floor", floor)
        # The lean path without the query: an empty body is refused (400) after the same token check,
        # JSON parsing and thread hop, before any SQL. What the check costs beyond the path itself.
        common.say("lean floor: the same load, an empty JSON object (400 before any query)")
        empty = [request_bytes(host, port, PATH, b"{}", token)]
        lean = common.run_load(host, port, **load, script=check_script(empty))
        report("lean floor", lean)
        common.say("registration check, one caller: service time without queueing")
        single = common.run_load(
            host, port, concurrency=1, warmup=1.0, duration=args.single_duration, script=check_script(requests)
        )
        report("one caller", single)
        opened = run_open_checks(args, host, port, requests, token)
        ceiling = None
        if not args.no_ceiling:
            ceiling = open_client_ceiling(requests, start_rate=args.open_rate)
            common.say(f"open-loop client alone (do-nothing server): {ceiling.describe()}")
    except KeyboardInterrupt:
        common.say("interrupted; stopping the server")
        raise SystemExit(130) from None
    finally:
        common.stop_process(server)

    summary = common.latency_summary(checks.all_latencies)
    floor_summary = common.latency_summary(floor.all_latencies)
    single_summary = common.latency_summary(single.all_latencies)
    figures = {
        "entries": loaded["stored"],
        "p50_ms": summary["p50_ms"],
        "p99_ms": summary["p99_ms"],
        "rps": round(checks.rps, 1),
        "floor_rps": round(floor.rps, 1),
        "floor_p50_ms": floor_summary["p50_ms"],
        "floor_p99_ms": floor_summary["p99_ms"],
        "lean_floor_rps": round(lean.rps, 1),
        "lean_floor_p50_ms": common.latency_summary(lean.all_latencies)["p50_ms"],
        "lean_floor_p99_ms": common.latency_summary(lean.all_latencies)["p99_ms"],
        "single_caller_p50_ms": single_summary["p50_ms"],
        "single_caller_p99_ms": single_summary["p99_ms"],
        "wrong_answers": wrong,
        "errors": checks.errors + floor.errors + single.errors,
        "queries_per_check": loaded["queries"],
        "workers": args.workers,
        "concurrency": args.concurrency,
        "duration_s": args.duration,
        "client_cpu_cores": round(checks.client_cpu_share, 2),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }
    figures.update(
        **opened,
        rps_to_lean=round(checks.rps / lean.rps, 3) if lean.rps else 0.0,
        open_client_ceiling_rps=round(ceiling.rate, 1) if ceiling else None,
        loadavg=common.load_average(),
    )
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
