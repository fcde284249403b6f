"""The run command's supervisor, on real child processes: restart with backoff, the cap, a clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from console.supervisor import RestartPolicy, Supervisor, describe_exit

# A child that starts a grandchild (as the Celery worker starts its pool) and then waits.
PARENT_OF_ONE = (
    "import subprocess, sys, time; "
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
    "time.sleep(120)"
)
FAST = {"base": 0.05, "cap": 0.2, "jitter": 0.0}


class Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, message: str) -> None:
        self.lines.append(message)

    def text(self) -> str:
        return "\n".join(self.lines)


def sleeper(code: str = "import time; time.sleep(120)"):
    def start() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", code], start_new_session=True)

    return start


def until(condition, supervisor: Supervisor, timeout: float = 10.0) -> None:
    """Drive the supervisor until ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        supervisor.check(time.monotonic())
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def grandchildren_of(process: subprocess.Popen) -> list[psutil.Process]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = psutil.Process(process.pid).children()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError("the child started no grandchild")


def gone(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture
def supervisor():
    log = Log()
    supervisor = Supervisor(policy=RestartPolicy(limit=3, window=60, **FAST), log=log, error=log)
    supervisor.lines = log
    yield supervisor
    supervisor.stop_all(timeout=2)


def test_a_killed_child_is_restarted_and_the_restart_is_logged(supervisor):
    worker = supervisor.add("worker", sleeper())
    first = worker.process.pid
    os.kill(first, signal.SIGKILL)

    until(lambda: worker.process is not None and worker.process.pid != first, supervisor)

    assert worker.process.poll() is None
    assert "worker exited (killed by SIGKILL); restarting it in" in supervisor.lines.text()
    assert f"worker restarted (pid {worker.process.pid}, restart 1)" in supervisor.lines.text()


def test_what_a_dead_child_started_is_killed_with_it(supervisor):
    worker = supervisor.add("worker", sleeper(PARENT_OF_ONE))
    (pool,) = grandchildren_of(worker.process)
    os.kill(worker.process.pid, signal.SIGKILL)

    until(lambda: worker.restarts == 1, supervisor)

    assert gone(pool)


def test_the_restart_waits_longer_after_each_death(supervisor):
    supervisor.policy = RestartPolicy(limit=5, window=60, base=0.3, cap=10, jitter=0.0)
    supervisor.add("worker", sleeper("raise SystemExit(3)"))

    until(lambda: "(failure 3 of" in supervisor.lines.text(), supervisor)

    text = supervisor.lines.text()
    assert "worker exited (code 3); restarting it in 0.3 s (failure 1 of at most 5 within 60 s)" in text
    assert "restarting it in 0.6 s (failure 2 of at most 5" in text
    assert "restarting it in 1.2 s (failure 3 of at most 5" in text


def test_a_child_that_keeps_dying_is_given_up_and_the_rest_keeps_running(supervisor):
    web = supervisor.add("web", sleeper(), essential=True)
    beat = supervisor.add("beat", sleeper("raise SystemExit(2)"))

    until(lambda: beat.given_up, supervisor)

    assert beat.restarts == 3
    assert supervisor.failed is None
    assert web.process.poll() is None
    assert "beat died 4 times within 60 s (last: code 2)" in supervisor.lines.text()
    assert "NOT restarted again" in supervisor.lines.text()
    time.sleep(0.3)
    supervisor.check(time.monotonic())
    assert beat.process is None  # stays down


def test_an_essential_child_that_keeps_dying_stops_the_supervisor(supervisor):
    supervisor.add("worker", sleeper())
    supervisor.add("web", sleeper("raise SystemExit(1)"), essential=True)

    status = supervisor.run(lambda: False)

    assert status == 1
    assert supervisor.failed == "web"
    assert "It is essential: stopping the console." in supervisor.lines.text()


def test_deaths_older_than_the_window_do_not_count(supervisor):
    supervisor.policy = RestartPolicy(limit=1, window=60, **FAST)
    worker = supervisor.add("worker", sleeper())
    now = time.monotonic()
    os.kill(worker.process.pid, signal.SIGKILL)
    until(lambda: worker.restart_at is not None, supervisor)
    worker.exits[0] = now - 61  # the first death was over a minute ago
    supervisor.check(now)
    until(lambda: worker.process is not None, supervisor)

    os.kill(worker.process.pid, signal.SIGKILL)
    until(lambda: worker.restart_at is not None or worker.given_up, supervisor)

    assert not worker.given_up


def test_a_start_that_fails_counts_as_a_death(supervisor):
    attempts = []

    def flaky() -> subprocess.Popen:
        attempts.append(1)
        if len(attempts) > 1:
            raise OSError("no such binary")
        return sleeper("raise SystemExit(1)")()

    child = supervisor.add("simulator", flaky)

    until(lambda: child.given_up, supervisor)

    assert "simulator could not be started: no such binary" in supervisor.lines.text()
    assert len(attempts) == 4


def test_stop_all_leaves_no_process_and_cleans_up(supervisor):
    cleaned = []
    children = [
        supervisor.add("redis", sleeper(), cleanup=lambda: cleaned.append("redis")),
        supervisor.add("worker", sleeper(PARENT_OF_ONE)),
        # Ignores SIGTERM: stopped with SIGKILL after the timeout.
        supervisor.add(
            "stubborn", sleeper("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)")
        ),
    ]
    watched = [psutil.Process(child.process.pid) for child in children]
    watched += grandchildren_of(children[1].process)
    time.sleep(0.3)  # let the stubborn child install its handler

    supervisor.stop_all(timeout=1)

    assert all(gone(process) for process in watched)
    assert cleaned == ["redis"]
    assert all(child.process is None for child in children)
    assert "stubborn did not stop within 1 s of SIGTERM; killed" in supervisor.lines.text()
    assert "worker did not stop" not in supervisor.lines.text()


def lingering(name: str, journal) -> str:
    """A child that notes when SIGTERM reaches it, takes a moment to finish, and notes its exit."""
    return (
        "import signal, sys, time\n"
        "def note(what):\n"
        f"    with open({str(journal)!r}, 'a') as f: f.write(what + ' {name}\\n')\n"
        "def stop(*_):\n"
        "    note('term'); time.sleep(0.5); note('exit'); sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "note('ready')\n"
        "time.sleep(120)\n"
    )


def test_stop_all_stops_stage_by_stage_and_each_stage_together(supervisor, tmp_path):
    journal = tmp_path / "journal"
    for name, stage in (("redis", 0), ("web", 1), ("worker", 1), ("simulator", 2)):
        supervisor.add(name, sleeper(lingering(name, journal)), stop_stage=stage)
    deadline = time.monotonic() + 20
    while (journal.read_text().count("ready") if journal.exists() else 0) < 4:
        assert time.monotonic() < deadline, "the children did not start"
        time.sleep(0.05)

    supervisor.stop_all(timeout=10)

    events = [line for line in journal.read_text().splitlines() if not line.startswith("ready")]
    assert events[:2] == ["term simulator", "exit simulator"]  # the first stage, on its own
    # The middle stage: both told to stop before either has finished.
    assert sorted(events[2:4]) == ["term web", "term worker"]
    assert sorted(events[4:6]) == ["exit web", "exit worker"]
    assert events[6:] == ["term redis", "exit redis"]  # the last, once the others have gone
    assert "did not stop" not in supervisor.lines.text()


def test_exits_are_described_for_people():
    assert describe_exit(3) == "code 3"
    assert describe_exit(-9) == "killed by SIGKILL"
    assert describe_exit(-15) == "killed by SIGTERM"
