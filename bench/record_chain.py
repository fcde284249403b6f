"""The record chain's cost on PostgreSQL: one chained insert against the same insert unchained.

    .venv/bin/python bench/record_chain.py [--rows 2000] [--threads 4]

Recreates ``liveward_chain_bench`` (``--database-url``) and migrates it. Then, in a Django
subprocess, each of ``--threads`` threads (its own connection) runs ROWS transactions, each
``BEGIN; INSERT a staff log line; COMMIT`` as ``log_staff_action`` does inside an action,
alternating the two kinds:

  * chain: the insert through the model (advisory lock on the chain, read of its head, SHA-256);
  * floor: the same row through ``Model.save`` of Django's base class (no lock, no head, no digest).

With several threads the chain's lock serialises inserts into the same chain: the difference shows
what waiting on it costs. The last line is one JSON object: chain_p50_ms, chain_p99_ms,
floor_p50_ms, floor_p99_ms, their difference at p50, the load average. Goal: the chain adds at most
2 ms at p50 (two statements: the lock and the head).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import common  # noqa: E402

MEASURE = r"""
import json, os, threading, time
from django.db import connection, models, transaction
from accounts.models import StaffActionLog
from bench.common import latency_summary

rows, threads = int(sys.argv[1]), int(sys.argv[2])
timings = {"chain": [], "floor": []}
lock = threading.Lock()

def work(number):
    mine = {"chain": [], "floor": []}
    for index in range(rows):
        for kind in (("chain", "floor") if index % 2 else ("floor", "chain")):
            line = StaffActionLog(verb="bench.line", target_id=f"{number}-{index}", data={"i": index})
            started = time.perf_counter()
            with transaction.atomic():
                if kind == "chain":
                    line.save()
                else:
                    models.Model.save(line, force_insert=True)
            mine[kind].append(time.perf_counter() - started)
    connection.close()
    with lock:
        for kind in mine:
            timings[kind] += mine[kind]

workers = [threading.Thread(target=work, args=(number,)) for number in range(threads)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
chain, floor = latency_summary(timings["chain"]), latency_summary(timings["floor"])
print(json.dumps({"chain": chain, "floor": floor}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/liveward_chain_bench")
    parser.add_argument("--rows", type=int, default=2000, help="transactions per thread and kind")
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    env = common.django_env(DATABASE_URL=args.database_url, LIVEWARD_VAR_DIR=str(Path("/tmp") / "chain-bench"))
    common.say(f"fresh database {args.database_url}")
    common.recreate_postgres_database(args.database_url)
    common.manage(["migrate", "--no-input", "-v", "0"], env)
    figures = {}
    for threads in (1, args.threads):
        common.say(f"{args.rows} transactions of each kind on {threads} thread(s)")
        result = common.run_django_script(MEASURE, env, args=[str(args.rows), str(threads)])
        figures[f"threads_{threads}"] = {
            "chain_p50_ms": result["chain"]["p50_ms"],
            "chain_p99_ms": result["chain"]["p99_ms"],
            "floor_p50_ms": result["floor"]["p50_ms"],
            "floor_p99_ms": result["floor"]["p99_ms"],
            "p50_added_ms": round(result["chain"]["p50_ms"] - result["floor"]["p50_ms"], 2),
        }
    print(json.dumps({**figures, "rows": args.rows, "threads": args.threads, "loadavg_1m": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
