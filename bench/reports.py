"""Public reports at 200/s to the console, and an emergency's bulk cut of 1,000 simulated live streams.

1. Recreates the PostgreSQL database (``--database-url``), migrates it and seeds through the actions:
   one agreement, one category, ``--nodes`` stand-in nginx-rtmp nodes whose control ports (threads
   of this script) confirm every drop, ``--streams`` verified publishers each live on one of them,
   a patroller and a compliance admin, a platform-backend token.
2. Starts uvicorn (``--workers``) and a Celery worker against Redis (``--redis-url``). A patroller's
   console holds the WebSocket; reports are filed on the app's endpoint (``POST /api/v1/reports/``)
   at ``--rate`` per second for ``--duration`` seconds, each from its own address and device id, about
   the live streams. ``report_to_console_p99_ms``: from sending the request to the console receiving
   the report's ``report.filed`` event (matched by receipt).
3. Declares an emergency whose scope is the category (measure: cut) and waits until every stream's
   cut is recorded. ``emergency_cut_s``: from the declaration to the last cut recorded (confirmed or
   pending), the bulk cut running on the Celery worker, in one lane per node on the cut threads.

Last line: {"reports_per_s", "report_to_console_p99_ms", "emergency_streams", "emergency_cut_s", …}.
Goals: report_to_console_p99_ms ≤ 1000 at 200 reports/s offered; emergency_cut_s ≤ 10 for 1,000 streams.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil

from bench.common import (
    BASE_DIR,
    PYTHON,
    console_server,
    django_env,
    latency_summary,
    load_average,
    login,
    manage,
    recreate_postgres_database,
    run_django_script,
    say,
    stop_process,
)


def cpu_seconds(processes) -> float:
    """CPU time (user + system) used so far by these processes; gone ones count 0."""
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def server_processes_on(port: int) -> list:
    """The uvicorn parent listening on PORT and its workers."""
    for connection in psutil.net_connections(kind="tcp"):
        if connection.laddr and connection.laddr.port == port and connection.status == psutil.CONN_LISTEN:
            parent = psutil.Process(connection.pid)
            while parent.parent() is not None and "uvicorn" in " ".join(parent.parent().cmdline()):
                parent = parent.parent()
            return [parent, *parent.children(recursive=True)]
    return []


def database_backends(database: str) -> list:
    """PostgreSQL's backends serving DATABASE now."""
    backends = []
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] == "postgres" and f" {database} " in f" {' '.join(process.info['cmdline'] or [])} ":
            backends.append(process)
    return backends


PASSWORD = "bench-password-0123456789"

SEED = """
import json, sys
from accounts.actions import create_machine_client, create_staff_user, ensure_role_groups
from accounts.roles import MACHINE_PLATFORM, Role
from moderation import actions
from moderation.models import MediaServer, Publisher
ports, streams, password = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ensure_role_groups()
create_staff_user("patroller", role=Role.PATROLLER, password=password, display_name="patroller")
admin = create_staff_user("admin", role=Role.COMPLIANCE_ADMIN, password=password, display_name="admin")
_user, token = create_machine_client("platform", kind=MACHINE_PLATFORM, actor=None)
actions.publish_agreement("2026-01", title="agreement")
category = actions.create_category("entertainment", name="entertainment", risk_tier=3)
nodes = [
    actions.register_media_server(f"sim-{i}", kind=MediaServer.Kind.NGINX_RTMP,
                                  control_url=f"http://127.0.0.1:{port}/", secret="s" * 20)[0]
    for i, port in enumerate(ports)
]
ids = []
for number in range(streams):
    publisher = actions.register_publisher(f"acct-{number}", display_name=f"p{number}", real_name="王小明",
        document_number="110105199001011234", phone="+8613800138000", agreement_version="2026-01")
    actions.set_publisher_verification(publisher, verification=Publisher.Verification.VERIFIED, actor=None)
    key = actions.issue_stream_key(publisher, category=category)
    stream = actions.open_stream(key, published_name=key.issued_key, node=nodes[number % len(nodes)], app="live",
                                 client_id=str(number + 1), addr="10.0.0.1", title=f"live {number}")
    ids.append(stream.pk)
print(json.dumps({"token": token, "streams": ids, "admin": admin.pk}))
"""

DECLARE = """
import json, sys, time
from accounts.models import User
from moderation import actions
started = time.time()
emergency = actions.declare_emergency(actor=User.objects.get(username="admin"), scope={"categories": ["entertainment"]},
                                      measures=["cut"], reason="bench: a breaking incident")
print(json.dumps({"id": emergency.pk, "declared_at": started}))
"""

PROGRESS = """
import json, sys
from django.db.models import Max
from moderation import queries
from moderation.models import EmergencyCut
emergency_id = int(sys.argv[1])
last = EmergencyCut.objects.filter(emergency_id=emergency_id).aggregate(last=Max("updated_at"))["last"]
print(json.dumps({"counts": queries.emergency_progress(emergency_id), "last": last.timestamp() if last else None}))
"""


class _Drops(BaseHTTPRequestHandler):
    """A stand-in node's control port: every drop drops one publisher."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = b"1" if self.path.startswith("/control/drop/publisher") else b"0"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def start_nodes(count: int) -> list[ThreadingHTTPServer]:
    servers = []
    for _ in range(count):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Drops)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    return servers


async def watch_console(ws_url: str, session: str, seen: dict[str, float], ready: threading.Event, stop) -> None:
    import websockets

    origin = ws_url.replace("ws://", "http://").split("/ws/")[0]
    async with websockets.connect(
        ws_url, additional_headers={"Cookie": f"sessionid={session}"}, origin=origin, max_size=None
    ) as socket:
        ready.set()
        while not stop.is_set():
            try:
                text = await asyncio.wait_for(socket.recv(), timeout=0.5)
            except TimeoutError:
                continue
            frame = json.loads(text)
            if frame.get("type") == "event" and frame.get("event") == "report.filed":
                seen.setdefault(frame["payload"]["receipt"], time.perf_counter())


LATE_AFTER = 0.002  # seconds past its scheduled time at which a send counts as late


def file_reports(
    base: str, token: str, stream_ids: list[int], *, rate: int, duration: float, path: str = "/api/v1/reports/"
) -> list[tuple]:
    """Offer ``rate`` reports per second; return (due, receipt or None, status, answered_at, sent_at) each.

    ``due`` is the report's scheduled send time, not the moment a sender got to it: when all 64 senders
    are busy, the wait is part of the latency, as it is for a reporter (an open loop, bench/open_loop.py).
    """
    host, port = base.replace("http://", "").split(":")
    local = threading.local()
    results: list[tuple] = []
    lock = threading.Lock()

    def one(number: int, due: float) -> None:
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = http.client.HTTPConnection(host, int(port), timeout=10)
        body = json.dumps(
            {
                "target_kind": "stream",
                "target": str(stream_ids[number % len(stream_ids)]),
                "category": "pornography",
                "description": f"bench report {number}",
                "device_id": f"device-{number}",
                "reporter_address": f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}",
            }
        )
        headers = {"Content-Type": "application/json", "Authorization": f"Token {token}"}
        sent = time.perf_counter()
        try:
            connection.request("POST", path, body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
            receipt = json.loads(data).get("receipt") if answer.status == 201 else None
            status = answer.status
        except Exception:
            local.connection = None
            receipt, status = None, 0
        with lock:
            results.append((due, receipt, status, time.perf_counter(), sent))

    # 64 senders take the numbers as they fall due (no concurrent.futures: python puts bench/ first on
    # sys.path, and bench/queue.py would stand in for the standard library's queue module).
    total = int(rate * duration)
    started = time.perf_counter()
    next_number = iter(range(total))
    take = threading.Lock()

    def sender() -> None:
        while True:
            with take:
                number = next(next_number, None)
            if number is None:
                return
            due = started + number / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            one(number, due)

    senders = [threading.Thread(target=sender, daemon=True) for _ in range(64)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join()
    return results


def drop_directly(ports: list[int], count: int, per_node: int = 4) -> float:
    """The cut's floor: ``count`` drops sent straight to the stand-in nodes, ``per_node`` at a time per node."""
    started = time.perf_counter()

    def drops(port: int, share: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for number in range(share):
            connection.request("GET", f"/control/drop/publisher?app=live&name=k{number}&clientid={number}")
            connection.getresponse().read()
        connection.close()

    shares = [count // (len(ports) * per_node)] * (len(ports) * per_node)
    for index in range(count - sum(shares)):
        shares[index] += 1
    threads = [
        threading.Thread(target=drops, args=(ports[index % len(ports)], share), daemon=True)
        for index, share in enumerate(shares)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/liveward_h16")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=4)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()

    env = django_env(
        DATABASE_URL=options.database_url,
        REDIS_URL=options.redis_url,
        LIVEWARD_REPORT_LIMIT_PER_HOUR="100000",
        LIVEWARD_REPORT_QUEUE_LIMIT="1000000",
        ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    say(f"load average before the run: {os.getloadavg()[0]:.1f}")
    say(f"recreating {options.database_url}")
    recreate_postgres_database(options.database_url)
    manage(["migrate", "--noinput"], env)
    nodes = start_nodes(options.nodes)
    ports = [server.server_port for server in nodes]
    say(f"seeding {options.streams} live streams on {options.nodes} stand-in nodes")
    world = run_django_script(SEED, env, args=[json.dumps(ports), str(options.streams), PASSWORD])

    worker_log = open(Path("/tmp") / "liveward-bench-reports-worker.log", "ab")  # noqa: SIM115
    worker = subprocess.Popen(
        [PYTHON, "-m", "celery", "-A", "console", "worker", "-P", "solo", "-l", "WARNING"],
        env=env, cwd=BASE_DIR, stdout=worker_log, stderr=worker_log, start_new_session=True,
    )  # fmt: skip
    figures: dict = {}
    database = options.database_url.rsplit("/", 1)[-1]
    try:
        with console_server(env, name="reports", workers=options.workers) as base:
            port = int(base.rsplit(":", 1)[1])
            uvicorn = server_processes_on(port)
            session = login(base, "patroller", PASSWORD)
            seen: dict[str, float] = {}
            ready, stop = threading.Event(), threading.Event()
            ws_url = base.replace("http://", "ws://") + "/ws/console/"
            watcher = threading.Thread(
                target=lambda: asyncio.run(watch_console(ws_url, session, seen, ready, stop)), daemon=True
            )
            watcher.start()
            if not ready.wait(15):
                raise SystemExit("the console's WebSocket did not open")
            time.sleep(1.0)
            say(f"filing {int(options.rate * options.duration)} reports at {options.rate}/s")
            backends = database_backends(database)
            cpu_before = cpu_seconds(uvicorn), cpu_seconds(backends), cpu_seconds([psutil.Process(worker.pid)])
            started = time.perf_counter()
            results = file_reports(base, world["token"], world["streams"], rate=options.rate, duration=options.duration)
            elapsed = time.perf_counter() - started
            filed = [r for r in results if r[1]]
            deadline = time.perf_counter() + 10
            while time.perf_counter() < deadline and len([r for r in filed if r[1] in seen]) < len(filed):
                time.sleep(0.2)
            stop.set()
            backends += [process for process in database_backends(database) if process not in backends]
            app_cpu = cpu_seconds(uvicorn) - cpu_before[0]
            db_cpu = cpu_seconds(backends) - cpu_before[1]
            latencies = sorted(seen[r[1]] - r[0] for r in filed if r[1] in seen)
            summary = latency_summary(latencies) if latencies else {}
            figures.update(
                reports_offered=len(results),
                reports_filed=len(filed),
                reports_refused=len(results) - len(filed),
                reports_late_sends=sum(1 for r in results if r[4] - r[0] > LATE_AFTER),
                reports_per_s=round(len(filed) / elapsed, 1),
                reports_seen_on_console=len(latencies),
                report_to_console_p50_ms=round(summary.get("p50_ms", -1), 1),
                report_to_console_p99_ms=round(summary.get("p99_ms", -1), 1),
                # CPU uvicorn and PostgreSQL's backends spent per report filed, whatever else ran meanwhile.
                app_cpu_ms_per_report=round(app_cpu / max(1, len(filed)) * 1000, 2),
                db_cpu_ms_per_report=round(db_cpu / max(1, len(filed)) * 1000, 2),
            )
            say(f"reports: {figures}")
            # The floor: the same load on /bench/floor (every middleware, a sync view answering "ok").
            cpu_before = cpu_seconds(uvicorn)
            floor = file_reports(
                base, world["token"], world["streams"], rate=options.rate, duration=options.duration / 2,
                path="/bench/floor",
            )  # fmt: skip
            floor_cpu = cpu_seconds(uvicorn) - cpu_before
            answered = sorted(end - due for due, _receipt, status, end, _sent in floor if status == 200)
            floor_summary = latency_summary(answered) if answered else {}
            figures.update(
                floor_answered=len(answered),
                floor_p99_ms=round(floor_summary.get("p99_ms", -1), 1),
                floor_app_cpu_ms_per_request=round(floor_cpu / max(1, len(answered)) * 1000, 2),
            )
            say(f"floor: {len(answered)} of {len(floor)} answered, p99 {figures['floor_p99_ms']} ms")

            say(f"declaring an emergency over {options.streams} live streams")
            worker_cpu_before = cpu_seconds([psutil.Process(worker.pid)])
            declared = run_django_script(DECLARE, env)
            deadline = time.time() + 120
            while time.time() < deadline:
                progress = run_django_script(PROGRESS, env, args=[str(declared["id"])])
                if progress["counts"]["queued"] == 0 and progress["last"]:
                    break
                time.sleep(0.5)
            counts = progress["counts"]
            worker_cpu = cpu_seconds([psutil.Process(worker.pid)]) - worker_cpu_before
            figures.update(
                emergency_streams=sum(counts.values()),
                emergency_cut_s=round(progress["last"] - declared["declared_at"], 2) if progress["last"] else -1,
                emergency_outcomes=counts,
                # the worker's CPU per stream (the credit charges after the cuts included), and the floor:
                # the same number of drops sent straight to the nodes, 4 at a time per node.
                emergency_worker_cpu_ms_per_stream=round(worker_cpu / max(1, sum(counts.values())) * 1000, 2),
                emergency_floor_drops_s=round(drop_directly(ports, options.streams), 2),
            )
    finally:
        stop_process(worker)
        worker_log.close()
        for server in nodes:
            server.shutdown()
    figures["load_average_1m"] = round(os.getloadavg()[0], 1)  # other work on the machine skews the figures
    figures["loadavg"] = load_average()
    figures["goals_met"] = (
        0 <= figures.get("report_to_console_p99_ms", -1) <= 1000
        and 0 <= figures.get("emergency_cut_s", -1) <= 10
        and figures.get("emergency_outcomes", {}).get("queued", 1) == 0
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
