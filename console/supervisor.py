"""Keep the run command's children running: a child that dies is restarted with backoff, within a cap.

Each child runs in its own process group (its own session), so a signal from the terminal reaches
it only through the supervisor, and stopping it takes its own children too (the Celery worker's
pool, uvicorn's workers). A dead child's group is killed before the child is reaped, so nothing it
left behind keeps running and its process-group id cannot have been reused in between.

A child that dies is restarted after ``moderation.backoff.backoff_delay`` (1 s doubling to 30 s);
one that dies more than ``limit`` times within ``window`` seconds is given up, loudly. An
essential child (the ASGI server: the gate and every page) that is given up stops the whole
supervisor with an error, so an outer supervisor (systemd) can take over; any other is left down
while the rest keeps serving. No Django here: the run command hands in the settings.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from moderation.backoff import backoff_delay

TICK_SECONDS = 0.2


@dataclass
class RestartPolicy:
    """How often a child may die before it is given up, and how long to wait before each restart.

    The waits are 1 s, 2 s, 4 s … up to 30 s, ±20 %, so children that died together spread out.
    """

    limit: int = 5
    window: float = 60.0
    base: float = 1.0
    cap: float = 30.0
    jitter: float = 0.2


@dataclass
class Child:
    """One supervised process: how to start it, and what to clean up after it stopped."""

    name: str
    start: Callable[[], subprocess.Popen]
    essential: bool = False
    cleanup: Callable[[], None] | None = None
    # stop_all stops the highest stage first, the children of one stage together; None: its own
    # stage, after every child added later.
    stop_stage: int | None = None
    process: subprocess.Popen | None = None
    exits: deque[float] = field(default_factory=deque)
    restart_at: float | None = None
    restarts: int = 0
    given_up: bool = False


class Supervisor:
    """Start children, restart those that die, and stop them all on request."""

    def __init__(self, *, policy: RestartPolicy, log: Callable[[str], None], error: Callable[[str], None]) -> None:
        self.policy = policy
        self.log = log
        self.error = error
        self.children: list[Child] = []
        self.failed: str | None = None  # set when an essential child was given up

    def add(
        self,
        name: str,
        start: Callable[[], subprocess.Popen],
        *,
        essential: bool = False,
        cleanup: Callable[[], None] | None = None,
        stop_stage: int | None = None,
    ) -> Child:
        """Start a child now and supervise it from here on; raise whatever its start raised."""
        child = Child(name, start, essential=essential, cleanup=cleanup, stop_stage=stop_stage)
        child.process = start()
        self.children.append(child)
        return child

    def run(self, should_stop: Callable[[], bool]) -> int:
        """Supervise until ``should_stop()`` or an essential child is given up; return the exit status."""
        while not should_stop() and self.failed is None:
            self.check(time.monotonic())
            time.sleep(TICK_SECONDS)
        return 1 if self.failed else 0

    def check(self, now: float) -> None:
        """Notice children that died, and start those whose restart is due."""
        for child in self.children:
            if child.process is not None:
                code = _exit_code(child.process)
                if code is not None:
                    child.process = None
                    self._died(child, code, now)
            elif child.restart_at is not None and now >= child.restart_at:
                self._restart(child, now)

    def _died(self, child: Child, code: int, now: float) -> None:
        window = self.policy.window
        while child.exits and child.exits[0] <= now - window:
            child.exits.popleft()
        child.exits.append(now)
        if child.cleanup is not None:
            child.cleanup()
        failures = len(child.exits)
        if failures > self.policy.limit:
            child.given_up = True
            child.restart_at = None
            message = (
                f"{child.name} died {failures} times within {window:.0f} s (last: {describe_exit(code)}); "
                f"the restart limit is {self.policy.limit} per {window:.0f} s (LIVEWARD_RESTART_LIMIT, "
                f"LIVEWARD_RESTART_WINDOW_SECONDS), so it is NOT restarted again."
            )
            if child.essential:
                self.failed = child.name
                self.error(f"{message} It is essential: stopping the console.")
            else:
                self.error(f"{message} Everything else keeps running; fix the cause and restart the run command.")
            return
        policy = self.policy
        delay = backoff_delay(failures, base=policy.base, cap=policy.cap, jitter=policy.jitter)
        child.restart_at = now + delay
        self.error(
            f"{child.name} exited ({describe_exit(code)}); restarting it in {delay:.1f} s "
            f"(failure {failures} of at most {self.policy.limit} within {window:.0f} s)"
        )

    def _restart(self, child: Child, now: float) -> None:
        child.restart_at = None
        try:
            child.process = child.start()
        except Exception as exc:  # a start that fails counts as a death, so the cap still applies
            self._died(child, -1, now)
            self.error(f"{child.name} could not be started: {exc}")
            return
        child.restarts += 1
        self.log(f"{child.name} restarted (pid {child.process.pid}, restart {child.restarts})")

    def stop_all(self, timeout: float = 10.0) -> None:
        """Stop every child by stages, highest first: SIGTERM, then SIGKILL after ``timeout``.

        A stage's children are stopped together, and each stage only once the one before it has
        gone, so what a child does on its way out still finds the ones it needs (the simulator ends
        its sessions at the gate; the worker acknowledges through Redis). A child without a stage
        is a stage of its own, stopped after those added later: newest first, one at a time.
        """
        stages: dict[float, list[Child]] = {}
        for index, child in enumerate(self.children):
            stages.setdefault(child.stop_stage if child.stop_stage is not None else index, []).append(child)
        for stage in sorted(stages, reverse=True):
            self._stop_together(stages[stage], timeout)

    def _stop_together(self, children: list[Child], timeout: float) -> None:
        running = []
        for child in children:
            child.restart_at = None
            process, child.process = child.process, None
            if process is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGTERM)
                running.append((child, process))
        deadline = time.monotonic() + timeout
        while any(_exit_code(process) is None for _child, process in running) and time.monotonic() < deadline:
            time.sleep(0.05)
        for child, process in running:
            if process.returncode is None:
                self.error(f"{child.name} did not stop within {timeout:.0f} s of SIGTERM; killed")
                _kill_group_and_reap(process)
        for child in children:
            if child.cleanup is not None:
                child.cleanup()


def _exit_code(process: subprocess.Popen) -> int | None:
    """Return the exit status of a child that has ended, after killing its group and reaping it.

    The child is looked at without being reaped (WNOWAIT): while it is a zombie its pid, which is
    its process group's id, cannot be taken by a new process, so killing the group cannot hit a
    stranger.
    """
    if process.returncode is not None:
        return process.returncode
    try:
        ended = os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:  # reaped elsewhere
        return process.poll()
    if ended is None:
        return None
    return _kill_group_and_reap(process)


def _kill_group_and_reap(process: subprocess.Popen) -> int:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    return process.wait()


def describe_exit(code: int) -> str:
    """Say how a child ended: "code 3" or "killed by SIGKILL"."""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"code {code}"
