"""The soak: the cut under load, with a media server, Redis and the Celery worker failing midway.

    .venv/bin/python bench/soak.py [--minutes 5] [--consoles 200] [--gate-rate 50]

Starts, on loopback, what a platform runs: a fresh PostgreSQL database, the run command
(``manage.py run_console``: ASGI server, Celery worker and beat, the embedded Redis, all supervised),
two Debian nginx-rtmp nodes whose callbacks call the gate, and a stand-in node that speaks
nginx-rtmp's callback and control protocols (no video) for the bulk of the gate's load. Then, for
``--minutes``:

  * ``--consoles`` consoles hold the console WebSocket and follow the queue (they reconnect and
    resync as the wall does when their socket closes);
  * the gate gets ``--gate-rate`` decisions a second, open loop (an on_publish of a stand-in key,
    its on_publish_done a few seconds later);
  * a patroller blocks one live stand-in stream every second;
  * every 10 s one key is published with ffmpeg on BOTH nginx nodes, then blocked once;
  * at 1/4 of the run one nginx node is restarted, at 1/2 the embedded Redis is killed (the run
    command restarts it, empty), at 3/4 the Celery worker is killed with SIGKILL.

The last line is one JSON object: {"minutes", "errors", "lost_actions", "double_measures",
"sessions_on_air_after_block", "gate_p99_ms", "block_p99_ms", …}. Goal: errors 0, lost_actions 0,
double_measures 0, sessions_on_air_after_block 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# Run as a script, Python puts bench/ first on the path, where queue.py would shadow the standard
# library's queue module; the repository root goes there instead.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import common  # noqa: E402

SIM_NODE = ("soak-sim", "soak-sim-node-secret-0123456789abcdef")
NGINX_NODES = (("soak-a", "soak-a-node-secret-0123456789abcdef"), ("soak-b", "soak-b-node-secret-0123456789abc"))
PATROLLER_PASSWORD = "lantern-quiet-river-4821"
PATROLLERS = 4
PAIR_KEYS = 60
# How long a publisher that should be off the air may still be seen on it before it counts.
CUT_GRACE_SECONDS = 5.0

SEED = r"""
import json
from django.db import transaction
from accounts.actions import create_staff_user
from moderation import actions
from moderation.models import MediaServer, Publisher

sim_keys, pair_keys, patrollers, password = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
nodes = json.loads(sys.argv[5])
with transaction.atomic():
    actions.publish_agreement("soak-1", title="Soak agreement")
    category = actions.create_category("soak", name="Soak", risk_tier=2)
    for name, secret, control_url in nodes:
        actions.register_media_server(name, kind=MediaServer.Kind.NGINX_RTMP, control_url=control_url, secret=secret)
    for index in range(patrollers):
        create_staff_user(f"soak-patroller-{index}", role="patroller", password=password, display_name=f"Soak {index}")
    for prefix, count in (("sim", sim_keys), ("pair", pair_keys)):
        for index in range(count):
            publisher = actions.register_publisher(
                f"soak-{prefix}-{index}", display_name=f"Soak {prefix} {index}", agreement_version="soak-1"
            )
            actions.set_publisher_verification(publisher, verification=Publisher.Verification.VERIFIED, actor=None)
            key = f"{prefix}{index:05d}"
            actions.issue_stream_key(publisher, category=category, key=key, default_title=key)
print(json.dumps({"keys": sim_keys + pair_keys}))
"""

AUDIT = r"""
import json
from django.db.models import Count
from moderation.models import CreditEvent, ModerationAction, Stream

acknowledged = json.loads(sys.stdin.read())
found = set(ModerationAction.objects.filter(pk__in=acknowledged).values_list("pk", flat=True))
blocks_per_stream = (
    ModerationAction.objects.filter(kind="block", stream__isnull=False)
    .values("stream_id").annotate(n=Count("id")).filter(n__gt=1).count()
)
charges_per_action = (
    CreditEvent.objects.filter(action__isnull=False)
    .values("action_id").annotate(n=Count("id")).filter(n__gt=1).count()
)
live_per_key = Stream.objects.live().values("key_id").annotate(n=Count("id")).filter(n__gt=1).count()
print(json.dumps({
    "acknowledged_missing": len(set(acknowledged) - found),
    "streams_blocked_twice": blocks_per_stream,
    "actions_charged_twice": charges_per_action,
    "keys_live_twice": live_per_key,
    "blocks": ModerationAction.objects.filter(kind="block").count(),
    "pending_cuts": ModerationAction.objects.filter(media_status="pending").count(),
}))
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/liveward_bench_soak")
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--consoles", type=int, default=200)
    parser.add_argument("--gate-rate", type=float, default=50.0, help="gate decisions a second (open loop)")
    parser.add_argument("--sim-keys", type=int, default=2000, help="stand-in keys the gate load cycles through")
    parser.add_argument("--session-seconds", type=float, default=20.0, help="how long a stand-in session lasts")
    parser.add_argument("--workers", type=int, default=1, help="ASGI server processes of the run command")
    return parser.parse_args()


class CpuMeter:
    """CPU seconds spent during the run, per part: this client, the run command's children, PostgreSQL.

    Processes come and go (restarts, PostgreSQL backends), so it samples every second and keeps each
    pid's last reading; the client's own figure says how close the client came to its ceiling.
    """

    PARTS = (("asgi", "uvicorn"), ("worker", " worker"), ("beat", " beat"), ("redis", "redis-server"))

    def __init__(self, run_command: subprocess.Popen) -> None:
        import psutil

        self.psutil = psutil
        self.run_command = run_command
        self.seen: dict[int, tuple[str, float, float]] = {}  # pid -> (part, first reading, last reading)
        self.client_start = time.process_time()

    def part_of(self, process) -> str | None:
        """The part a process belongs to: its own command line's, or its nearest ancestor's."""
        try:
            if process.name().startswith("postgres"):
                return "postgres"
            for one in [process, *process.parents()]:
                command = " ".join(one.cmdline())
                part = next((part for part, marker in self.PARTS if marker in command), None)
                if part is not None:
                    return part
        except self.psutil.Error:
            return None
        return None

    def sample(self) -> None:
        try:
            tree = self.psutil.Process(self.run_command.pid).children(recursive=True)
        except self.psutil.Error:
            tree = []
        postgres = [p for p in self.psutil.process_iter(["name"]) if (p.info["name"] or "").startswith("postgres")]
        for process in [*tree, *postgres]:
            part = self.part_of(process)
            if part is None:
                continue
            try:
                times = process.cpu_times()
            except self.psutil.Error:
                continue
            used = times.user + times.system
            first = self.seen.get(process.pid, (part, used, used))[1]
            self.seen[process.pid] = (part, first, used)

    async def run(self, stop: asyncio.Event) -> None:
        self.sample()
        for pid, (part, _, used) in list(self.seen.items()):
            self.seen[pid] = (part, used, used)  # count only what the run spends
        while not stop.is_set():
            await asyncio.sleep(1)
            await asyncio.to_thread(self.sample)

    def figures(self) -> dict:
        parts = Counter()
        for part, first, last in self.seen.values():
            parts[part] += last - first
        parts["client"] = time.process_time() - self.client_start
        return {part: round(seconds, 1) for part, seconds in sorted(parts.items())}


# --- the stand-in node: nginx-rtmp's control and stat protocol, its callbacks to the gate ---------


class StandInNode:
    """Answers nginx-rtmp's control API (drop by app+name, optionally clientid) and stat; reports drops done."""

    def __init__(self, gate_base: str) -> None:
        self.gate_base = gate_base
        self.sessions: dict[str, str] = {}  # key -> client id
        self.lock = threading.Lock()
        self.dropped = 0
        node = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/control/drop/publisher":
                    body = str(node.drop(query.get("name", ""), query.get("clientid"))).encode()
                elif url.path == "/stat":
                    body = node.stat().encode()
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def drop(self, key: str, client_id: str | None) -> int:
        with self.lock:
            live = self.sessions.get(key)
            if live is None or (client_id is not None and client_id != live):
                return 0
            del self.sessions[key]
            self.dropped += 1
        # nginx-rtmp reports the dropped session done, as it does for any end.
        threading.Thread(target=self.publish_done_sync, args=(key, live), daemon=True).start()
        return 1

    def publish_done_sync(self, key: str, client_id: str) -> None:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(
                urllib.request.Request(
                    f"{self.gate_base}/on_publish_done",
                    data=form(key, client_id, call="publish_done").encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                ),
                timeout=5,
            ).read()

    def stat(self) -> str:
        with self.lock:
            streams = "".join(
                f"<stream><name>{key}</name><client><id>{client}</id><publishing/></client></stream>"
                for key, client in self.sessions.items()
            )
        return f"<rtmp><server><application><name>live</name><live>{streams}</live></application></server></rtmp>"


def form(key: str, client_id: str, *, call: str) -> str:
    return urllib.parse.urlencode(
        {"call": call, "addr": "127.0.0.1", "clientid": client_id, "app": "live", "name": key, "title": key}
    )


# --- the run ------------------------------------------------------------------------------------


class Soak:
    def __init__(self, args, base: str, node: StandInNode, nginx_nodes: list, run_command: subprocess.Popen) -> None:
        self.args = args
        self.base = base
        self.host, self.port = "127.0.0.1", int(base.rsplit(":", 1)[1])
        self.node = node
        self.nginx_nodes = nginx_nodes
        self.run_command = run_command
        self.errors: Counter = Counter()
        self.gate_latencies: list[float] = []
        self.block_latencies: list[float] = []
        self.acknowledged: set[int] = set()
        self.blocks_sent = 0
        self.blocks_unanswered = 0
        self.blocks_of_ended = 0
        self.console_frames = 0  # frames the consoles received: the fan-out's work
        self.on_air_after_block = 0
        self.pairs = 0
        self.console_reconnects = 0
        self.events: list[str] = []
        self.started = time.monotonic()
        self.stop = asyncio.Event()
        self.live_sim: dict[str, float] = {}  # key -> when it went live (gate allowed)
        self.sessions: list[str] = []
        self.cpu = CpuMeter(run_command)

    # gate load ---------------------------------------------------------------------------------

    async def gate_load(self) -> None:
        sim_name, sim_secret = SIM_NODE
        path = f"/gate/nginx-rtmp/{sim_name}/{sim_secret}/"
        interval = 1.0 / self.args.gate_rate
        next_at = time.perf_counter()
        index = 0
        tasks: set[asyncio.Task] = set()
        while not self.stop.is_set():
            key = f"sim{index % self.args.sim_keys:05d}"
            index += 1
            task = asyncio.create_task(self.one_session(path, key, f"{index}"))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def gate_call(self, path: str, body: str) -> int:
        connection = common.HttpConnection(self.host, self.port)
        request = common.post_request(self.host, self.port, path, body.encode(), "application/x-www-form-urlencoded")
        try:
            return await connection.request(request)
        finally:
            connection.close()

    async def one_session(self, path: str, key: str, client_id: str) -> None:
        if key in self.live_sim:
            return  # still live from an earlier round: no second publish of the same stand-in key
        started = time.perf_counter()
        status = await self.gate_call(path + "on_publish", form(key, client_id, call="publish"))
        self.gate_latencies.append(time.perf_counter() - started)
        if status not in (200, 204, 403):
            self.errors[f"gate_on_publish_{status}"] += 1
            return
        if status == 403:
            return  # denied (cooling-off after a block): a decision like any other
        with self.node.lock:
            self.node.sessions[key] = client_id
        self.live_sim[key] = time.monotonic()
        try:
            await asyncio.sleep(self.args.session_seconds * random.uniform(0.5, 1.5))
        finally:
            self.live_sim.pop(key, None)
            with self.node.lock:
                still_live = self.node.sessions.get(key) == client_id
                if still_live:
                    del self.node.sessions[key]
            if still_live:
                status = await self.gate_call(path + "on_publish_done", form(key, client_id, call="publish_done"))
                if status not in (200, 204):
                    self.errors[f"gate_on_publish_done_{status}"] += 1

    # consoles ----------------------------------------------------------------------------------

    async def console(self, number: int, cookie: str) -> None:
        import websockets

        url = f"ws://{self.host}:{self.port}/ws/console/"
        headers = {"Cookie": f"sessionid={cookie}", "Origin": self.base}
        first = True
        while not self.stop.is_set():
            try:
                async with websockets.connect(url, additional_headers=headers, max_size=2**24) as socket:
                    if not first:
                        self.console_reconnects += 1
                    first = False
                    await self.follow(socket, number)
            except (OSError, websockets.exceptions.WebSocketException):
                pass
            if not self.stop.is_set():
                await asyncio.sleep(random.uniform(0.5, 2.0))  # the wall's reconnect, roughly

    async def follow(self, socket, number: int) -> None:
        while not self.stop.is_set():
            try:
                raw = await asyncio.wait_for(socket.recv(), timeout=1.0)
            except TimeoutError:
                continue
            self.console_frames += 1
            frame = json.loads(raw)
            if frame.get("type") == "error":
                self.errors[f"console_error_{frame.get('code')}"] += 1

    # blocks ------------------------------------------------------------------------------------

    async def blocker(self, cookie: str) -> None:
        import websockets

        url = f"ws://{self.host}:{self.port}/ws/console/"
        headers = {"Cookie": f"sessionid={cookie}", "Origin": self.base}
        while not self.stop.is_set():
            try:
                async with websockets.connect(url, additional_headers=headers, max_size=2**24) as socket:
                    await self.block_every_second(socket)
            except (OSError, websockets.exceptions.WebSocketException):
                await asyncio.sleep(0.5)

    async def block_every_second(self, socket) -> None:
        pending: dict[str, float] = {}
        next_at = time.monotonic()
        while not self.stop.is_set():
            now = time.monotonic()
            if now >= next_at:
                next_at += 1.0
                candidates = [k for k, at in self.live_sim.items() if now - at > 1.0]
                # The key's live session, from the database: a console's frames show only its window,
                # and an id learnt from them may be an earlier session's of the same key.
                stream_id = (
                    await asyncio.to_thread(self.live_stream_of, random.choice(candidates)) if candidates else None
                )
                if stream_id is not None:
                    request_id = f"soak-{self.blocks_sent}"
                    self.blocks_sent += 1
                    pending[request_id] = time.perf_counter()
                    await socket.send(
                        json.dumps(
                            {
                                "type": "action",
                                "kind": "block",
                                "stream": stream_id,
                                "reason": "violence_terror",
                                "request_id": request_id,
                            }
                        )
                    )
            try:
                raw = await asyncio.wait_for(socket.recv(), timeout=max(0.01, next_at - time.monotonic()))
            except TimeoutError:
                continue
            frame = json.loads(raw)
            request_id = frame.get("request_id")
            if request_id in pending and frame.get("type") in ("ack", "error"):
                sent = pending.pop(request_id)
                if frame["type"] == "ack":
                    self.block_latencies.append(time.perf_counter() - sent)
                    self.acknowledged.add(frame["action"]["id"])
                elif frame.get("code") in ("stream_ended", "not_found"):
                    self.blocks_of_ended += 1  # the session ended between the lookup and the block: fine
                else:
                    self.errors[f"block_error_{frame.get('code')}"] += 1
            for request_id, sent in list(pending.items()):
                if time.perf_counter() - sent > 10:
                    del pending[request_id]
                    self.blocks_unanswered += 1
        # The run is over: a block still in flight gets its 10 s like the others, then counts as lost.
        deadline = time.perf_counter() + 10
        while pending and time.perf_counter() < deadline:
            try:
                frame = json.loads(await asyncio.wait_for(socket.recv(), timeout=deadline - time.perf_counter()))
            except TimeoutError:
                break
            sent = pending.pop(frame.get("request_id"), None)
            if sent is not None and frame.get("type") == "ack":
                self.block_latencies.append(time.perf_counter() - sent)
                self.acknowledged.add(frame["action"]["id"])
        self.blocks_unanswered += len(pending)

    # same key on two nginx nodes -----------------------------------------------------------------

    async def pairs_every_ten_seconds(self, cookie: str) -> None:
        import websockets

        index = 0
        while not self.stop.is_set() and index < PAIR_KEYS:
            key = f"pair{index:05d}"
            index += 1
            started = time.monotonic()
            nodes = zip(NGINX_NODES, self.nginx_nodes, strict=True)
            named = [(name, node.publish(key)) for (name, _), node in nodes if node.running]
            publishes = [publish for _, publish in named]
            # Wait until the gate has a live session of the key (the policy decides which one stays).
            stream_id = None
            while time.monotonic() - started < 8 and stream_id is None:
                await asyncio.sleep(0.5)
                stream_id = await asyncio.to_thread(self.live_stream_of, key)
            if stream_id is None:
                self.errors["pair_never_live"] += 1
                self.note(f"pair {key}: never live within 8 s")
            else:
                self.pairs += 1
                url = f"ws://{self.host}:{self.port}/ws/console/"
                headers = {"Cookie": f"sessionid={cookie}", "Origin": self.base}
                try:
                    async with websockets.connect(url, additional_headers=headers) as socket:
                        await socket.send(
                            json.dumps(
                                {
                                    "type": "action",
                                    "kind": "block",
                                    "stream": stream_id,
                                    "reason": "violence_terror",
                                    "request_id": f"soak-pair-{index}",
                                }
                            )
                        )
                        while True:
                            frame = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
                            if frame.get("request_id") == f"soak-pair-{index}":
                                if frame["type"] == "ack":
                                    self.acknowledged.add(frame["action"]["id"])
                                else:
                                    self.errors[f"pair_block_error_{frame.get('code')}"] += 1
                                break
                except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as error:
                    self.errors["pair_block_unanswered"] += 1
                    self.note(f"pair {key} (stream {stream_id}): block unanswered: {error!r}")
                await asyncio.sleep(CUT_GRACE_SECONDS)
                on_air = [name for name, publish in named if publish.running]
                self.on_air_after_block += len(on_air)
                if on_air:
                    self.note(f"pair {key} (stream {stream_id}): on air on {on_air} after {CUT_GRACE_SECONDS:g} s")
            for publish in publishes:
                publish.stop()
            await asyncio.sleep(max(0.0, 10.0 - (time.monotonic() - started)))

    def note(self, text: str) -> None:
        self.events.append(f"{round(time.monotonic() - self.started)} s: {text}")
        common.say(self.events[-1])

    def live_stream_of(self, key: str) -> int | None:
        """The id of the key's live stream, read from the database (a console sees only its window)."""
        import psycopg2

        with contextlib.closing(psycopg2.connect(self.args.database_url)) as connection, connection.cursor() as cursor:
            cursor.execute(
                "SELECT s.id FROM moderation_stream s JOIN moderation_streamkey k ON k.id = s.key_id"
                " WHERE k.key_hash = %s AND s.ended_at IS NULL ORDER BY s.id DESC LIMIT 1",
                [hashlib.sha256(key.encode()).hexdigest()],
            )
            row = cursor.fetchone()
        return row[0] if row else None

    # faults ------------------------------------------------------------------------------------

    async def faults(self, seconds: float) -> None:
        plan = [
            (seconds / 4, "restart nginx node soak-b", self.restart_nginx),
            (seconds / 2, "kill the embedded Redis", lambda: self.kill_child("redis-server")),
            (3 * seconds / 4, "kill the Celery worker (SIGKILL)", lambda: self.kill_child("worker")),
        ]
        for at, label, fault in plan:
            await asyncio.sleep(max(0.0, at - (time.monotonic() - self.started)))
            if self.stop.is_set():
                return
            self.note(f"{label}: {await asyncio.to_thread(fault)}")

    def restart_nginx(self) -> str:
        node = self.nginx_nodes[1]
        node.process.send_signal(signal.SIGTERM)
        node.process.wait(timeout=10)
        config = node.prefix / "conf" / "nginx.conf"
        stderr = (node.prefix / "logs" / "stderr.log").open("ab")
        node.process = subprocess.Popen(
            [node.nginx, "-p", f"{node.prefix}/", "-c", str(config), "-e", str(node.prefix / "logs/error.log")],
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
        )
        stderr.close()
        return "restarted on the same ports" if node._wait_until_answering() else "did not come back"

    def kill_child(self, name: str) -> str:
        import psutil

        parent = psutil.Process(self.run_command.pid)
        for child in parent.children(recursive=True):
            command = " ".join(child.cmdline())
            if (name == "worker" and "celery" in command and " worker" in command) or (
                name != "worker" and name in command
            ):
                child.send_signal(signal.SIGKILL)
                return f"killed pid {child.pid}"
        return "not found"

    async def run(self, cookies: list[str]) -> None:
        seconds = self.args.minutes * 60
        consoles = [asyncio.create_task(self.console(n, cookies[n % len(cookies)])) for n in range(self.args.consoles)]
        await asyncio.sleep(2)  # let the consoles connect before the load starts
        workers = [
            asyncio.create_task(self.gate_load()),
            asyncio.create_task(self.blocker(cookies[0])),
            asyncio.create_task(self.pairs_every_ten_seconds(cookies[1 % len(cookies)])),
            asyncio.create_task(self.faults(seconds)),
            asyncio.create_task(self.cpu.run(self.stop)),
        ]
        await asyncio.sleep(seconds)
        self.stop.set()
        await asyncio.gather(*workers, *consoles, return_exceptions=True)


def main() -> None:
    args = parse_args()
    common.raise_on_sigterm()
    var_dir = Path(tempfile.mkdtemp(prefix="liveward-soak-var-"))
    env = common.django_env(DATABASE_URL=args.database_url, LIVEWARD_VAR_DIR=str(var_dir), LIVEWARD_SIMULATE="0")
    env.pop("REDIS_URL", None)  # the run command's embedded Redis: the soak kills it midway
    env["DJANGO_SETTINGS_MODULE"] = "console.settings"
    os.environ.update(env)
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from tests.media import NginxRtmp, find_nginx

    nginx_binary = find_nginx()
    if not nginx_binary:
        raise SystemExit("nginx is not installed (apt-get install nginx-light libnginx-mod-rtmp ffmpeg)")
    port = common.free_port()
    base = f"http://127.0.0.1:{port}"
    sim = StandInNode(f"{base}/gate/nginx-rtmp/{SIM_NODE[0]}/{SIM_NODE[1]}")
    nginx_nodes = []
    for name, secret in NGINX_NODES:
        prefix = Path(tempfile.mkdtemp(prefix=f"liveward-soak-{name}-"))
        prefix.chmod(0o755)
        nginx_nodes.append(
            NginxRtmp(
                nginx=nginx_binary,
                ffmpeg="ffmpeg",
                prefix=prefix,
                callback_base=f"{base}/gate/nginx-rtmp/{name}/{secret}",
            )
        )
    run_command = None
    log_path = var_dir / "run_console.log"
    try:
        common.say(f"fresh database {args.database_url}")
        common.recreate_postgres_database(args.database_url)
        common.manage(["migrate", "--no-input", "-v", "0"], env)
        for node in nginx_nodes:
            node.start()
        nodes = [[*SIM_NODE, sim.control_url]] + [
            [name, secret, node.control_url] for (name, secret), node in zip(NGINX_NODES, nginx_nodes, strict=True)
        ]
        common.say(f"seeding {args.sim_keys} stand-in keys, {PAIR_KEYS} pair keys, {PATROLLERS} patrollers")
        common.run_django_script(
            SEED, env, args=[str(args.sim_keys), str(PAIR_KEYS), str(PATROLLERS), PATROLLER_PASSWORD, json.dumps(nodes)]
        )
        common.say(f"the run command on {base} (its log: {log_path})")
        with open(log_path, "ab") as log:
            run_command = subprocess.Popen(
                [
                    common.PYTHON,
                    "manage.py",
                    "run_console",
                    "--no-demo",
                    "--no-simulator",
                    "--port",
                    str(port),
                    "--workers",
                    str(args.workers),
                ],
                env=env,
                cwd=common.BASE_DIR,
                start_new_session=True,
                stdout=log,
                stderr=log,
            )
        common.wait_for_http("127.0.0.1", port, "/healthz", process=run_command, timeout=60)
        cookies = [common.login(base, f"soak-patroller-{n}", PATROLLER_PASSWORD) for n in range(PATROLLERS)]
        soak = Soak(args, base, sim, nginx_nodes, run_command)
        common.say(f"soaking for {args.minutes:g} min: {args.consoles} consoles, {args.gate_rate:g} gate decisions/s")
        asyncio.run(soak.run(cookies))
        time.sleep(3)  # let the last cuts confirm
        done = subprocess.run(
            [common.PYTHON, "-c", "import django, sys\ndjango.setup()\n" + AUDIT],
            input=json.dumps(sorted(soak.acknowledged)),
            env=env,
            cwd=common.BASE_DIR,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(f"the audit failed:\n{done.stderr}")
        audit = json.loads(done.stdout.strip().splitlines()[-1])
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    finally:
        if run_command is not None:
            common.stop_process(run_command, timeout=20)
        for node in nginx_nodes:
            node.stop()
        sim.server.shutdown()
    gate = common.latency_summary(soak.gate_latencies)
    block = common.latency_summary(soak.block_latencies)
    figures = {
        "minutes": args.minutes,
        "errors": sum(soak.errors.values()),
        "lost_actions": audit["acknowledged_missing"] + soak.blocks_unanswered,
        "double_measures": audit["streams_blocked_twice"] + audit["actions_charged_twice"] + audit["keys_live_twice"],
        "sessions_on_air_after_block": soak.on_air_after_block,
        "gate_p99_ms": gate["p99_ms"],
        "block_p99_ms": block["p99_ms"],
        "gate_decisions": len(soak.gate_latencies),
        "gate_p50_ms": gate["p50_ms"],
        "blocks_sent": soak.blocks_sent,
        "blocks_acknowledged": len(soak.block_latencies),
        "blocks_of_ended_streams": soak.blocks_of_ended,
        "block_p50_ms": block["p50_ms"],
        "pairs_blocked": soak.pairs,
        "console_reconnects": soak.console_reconnects,
        "pending_cuts_at_end": audit["pending_cuts"],
        "error_kinds": dict(soak.errors),
        "faults": soak.events,
        "console_frames": soak.console_frames,
        "cpu_seconds": soak.cpu.figures(),
        "asgi_workers": args.workers,
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(figures, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
