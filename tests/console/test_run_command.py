"""The run command under faults: a killed child is restarted while the gate keeps answering.

Boots the real ``manage.py run_console`` (what bin/run execs) on the embedded defaults, as
.ci/smoke.py does: its own var/ directory (SQLite, embedded Redis), free ports, the demo and the
stand-in node. Then SIGKILLs the Celery worker and beat and checks what a publisher and an
operator would see.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

import psutil
import pytest
from celery import Celery

from moderation.management.commands.seed_demo import DEMO_PUBLISHERS, SIMULATOR_CONTROL_PORT

START_TIMEOUT = 180.0
# A demo publisher in good standing that the two simulated streams do not use.
GOOD_KEY = f"demo-{DEMO_PUBLISHERS[-1][0]}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RunCommand:
    process: subprocess.Popen
    url: str
    var_dir: Path
    lines: list[str] = field(default_factory=list)
    seen: dict[int, psutil.Process] = field(default_factory=dict)

    def output(self) -> str:
        return "".join(self.lines)

    def children(self) -> dict[str, psutil.Process]:
        """The run command's direct children by role, remembering every process seen under it."""
        found = {}
        for process in psutil.Process(self.process.pid).children(recursive=True):
            self.seen.setdefault(process.pid, process)
        for process in psutil.Process(self.process.pid).children():
            command = " ".join(process.cmdline())
            for role in ("uvicorn", "worker", "beat", "simulate_streams", "redis-server"):
                if role in command:
                    found[role] = process
        return found

    def wait_for_output(self, text: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"{text!r} never appeared in the run command's output:\n{self.output()[-4000:]}")
            time.sleep(0.1)

    def publish(self, key: str, client_id: str) -> tuple[int, str]:
        """Ask the gate as the stand-in nginx-rtmp node does on a publish; return (status, body)."""
        node = json.loads((self.var_dir / "simulator-node.json").read_text())
        form = {"call": "publish", "app": "live", "name": key, "clientid": client_id, "addr": "127.0.0.1"}
        request = urllib.request.Request(
            f"{self.url}/gate/nginx-rtmp/{node['node']}/{node['secret']}/on_publish",
            data=urllib.parse.urlencode(form).encode(),
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def celery_round_trip(self, timeout: float = 90.0) -> bool:
        """Send the console's ping task through the embedded Redis; tell whether the worker answered it."""
        url = f"redis+socket://{self.var_dir / 'redis.sock'}"
        client = Celery("probe", broker=url, backend=url)
        token = uuid.uuid4().hex
        try:
            result = client.send_task("console.tasks.ping", args=[token])
            return result.get(timeout=timeout)["token"] == token
        finally:
            client.close()

    def pump(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def _stat(port: int, *, within: float = 60.0) -> bytes:
    """The stand-in node's /stat, asked until it answers (a refused connection while it starts)."""
    deadline = time.monotonic() + within
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/stat", timeout=10) as stat:
                return stat.read()
        except (OSError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture
def run_command():
    # A short path: the embedded Redis listens on a unix socket in it (at most 107 bytes).
    var_dir = Path(tempfile.mkdtemp(prefix="lw-run-"))
    port = free_port()
    # The simulator's default port taken, as by another checkout's bin/run: this one takes the next.
    other_checkout = socket.socket()
    other_checkout.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        other_checkout.bind(("127.0.0.1", SIMULATOR_CONTROL_PORT))
        other_checkout.listen(1)
    except OSError:  # taken already: by another bin/run, which makes the same point
        pass
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "CELERY_BROKER_URL",
            "CELERY_RESULT_BACKEND",
            "LIVEWARD_PORT",
            "LIVEWARD_SIMULATOR_CONTROL_PORT",
        }
    }
    env.update(
        LIVEWARD_VAR_DIR=str(var_dir),
        LIVEWARD_SIMULATED_STREAMS="2",
        SERVE_STATIC="1",
        DEBUG="0",
        PYTHONUNBUFFERED="1",
    )
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_console", "--port", str(port)],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    run = RunCommand(process=process, url=f"http://127.0.0.1:{port}", var_dir=var_dir)
    threading.Thread(target=run.pump, daemon=True).start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _healthy(run.url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the run command did not come up:\n{run.output()[-4000:]}")
            time.sleep(0.3)
        yield run
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        for leftover in run.seen.values():  # after a failure, leave nothing behind
            if alive(leftover):
                leftover.kill()
        shutil.rmtree(var_dir, ignore_errors=True)
        other_checkout.close()


def test_the_gate_answers_while_the_worker_is_killed_and_the_worker_comes_back(run_command):
    run = run_command
    # This checkout's stand-in node answers on a port of its own, found free, and the node points there.
    node = json.loads((run.var_dir / "simulator-node.json").read_text())
    assert node["control_port"] != SIMULATOR_CONTROL_PORT
    run.wait_for_output(f"the stand-in node answers on port {node['control_port']}")
    # The port is chosen (and said) before the stand-in starts listening on it: ask until it answers.
    assert b"<rtmp>" in _stat(node["control_port"])
    assert run.publish(GOOD_KEY, "probe-1") == (200, "allowed")
    assert run.celery_round_trip()
    worker = run.children()["worker"]
    pool = worker.children()
    assert pool, "the Celery worker runs its tasks in child processes"

    worker.send_signal(signal.SIGKILL)

    # The gate answers at once, with the worker dead: a publish is decided, not refused for a crash.
    assert run.publish(GOOD_KEY, "probe-2") == (200, "allowed")
    assert run.publish("no-such-key", "probe-3")[0] == 403
    run.wait_for_output("worker exited (killed by SIGKILL); restarting it in")
    run.wait_for_output("worker restarted (pid")
    assert run.celery_round_trip()
    assert run.children()["worker"].pid != worker.pid
    assert not any(alive(process) for process in pool)  # the dead worker's pool went with it

    beat = run.children()["beat"]
    beat.send_signal(signal.SIGKILL)
    run.wait_for_output("beat restarted (pid")
    simulator = run.children()["simulate_streams"]
    simulator.send_signal(signal.SIGKILL)
    run.wait_for_output("simulator restarted (pid")

    assert _healthy(run.url)
    assert run.publish(GOOD_KEY, "probe-4") == (200, "allowed")
    assert run.process.poll() is None

    # Ctrl-C stops everything: no process started under the run command is left.
    run.children()
    run.process.send_signal(signal.SIGINT)
    assert run.process.wait(timeout=60) == 0
    assert "did not stop within" not in run.output()  # each child stopped of its own accord, none killed
    assert run.seen
    assert [process for process in run.seen.values() if alive(process)] == []
    assert not (run.var_dir / "redis.sock").exists()
    assert not _healthy(run.url)


def test_a_killed_redis_or_asgi_server_is_restarted_and_the_console_recovers(run_command):
    run = run_command
    redis = run.children()["redis-server"]

    redis.send_signal(signal.SIGKILL)

    run.wait_for_output("redis restarted (pid")
    assert run.celery_round_trip()  # the worker reconnected, or was restarted if it died of it
    assert run.publish(GOOD_KEY, "probe-5") == (200, "allowed")

    web = run.children()["uvicorn"]
    web.send_signal(signal.SIGKILL)

    run.wait_for_output("web exited (killed by SIGKILL); restarting it in")
    run.wait_for_output("web restarted (pid")
    deadline = time.monotonic() + 60
    while not _healthy(run.url) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert run.publish(GOOD_KEY, "probe-6") == (200, "allowed")
    assert run.process.poll() is None


def test_the_files_the_run_command_creates_are_private_to_the_user(run_command):
    run = run_command
    assert run.publish(GOOD_KEY, "probe-private") == (200, "allowed")  # the database has written
    database = run.var_dir / "liveward.sqlite3"
    assert database.exists() and Path(f"{database}-wal").exists()

    shared = []
    for path in [run.var_dir, *run.var_dir.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.lstat().st_mode & 0o777
        if mode & 0o077:
            shared.append(f"{path.relative_to(run.var_dir)}: {oct(mode)}")
    assert shared == []
    assert database.stat().st_mode & 0o777 == 0o600
    assert run.var_dir.stat().st_mode & 0o777 == 0o700
