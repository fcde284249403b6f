"""The open-loop load client: a fixed offered rate, Poisson arrivals, latency from the scheduled send.

A closed loop of N callers measures N / throughput as soon as the server saturates, whatever the
code does: each caller waits for its answer before it sends again, so a slow server is offered
less. A media server or a platform does not wait: starts and sign-ups arrive at their own rate.
This client schedules units of work at exponentially distributed intervals (Poisson arrivals at
RATE per second, seeded, so two runs offer the same schedule) and measures each request's latency
from the moment it was *scheduled*, so time spent waiting in the client for a free connection
counts, as it would for a caller of the real service.

Connections are keep-alive and kept in a pool that grows whenever a unit falls due and every
connection is busy, up to ``connection_cap`` (reported); past the cap, units wait in the client
for the first free connection, and their wait is part of their latency. A send that leaves more
than ``late_after`` seconds after its scheduled time is counted as late: with few late sends the
schedule was kept, and the figures are the server's; with many, the client (or a pool at its cap)
was the limit. Errors (non-2xx, broken connections) and requests still unanswered when the drain
ends are counted.

A unit is a list of (label, request bytes) sent in order on one connection (the gate's
on_publish, then its on_publish_done): the first request is timed from the unit's scheduled time,
each later one from the moment it fell due (its predecessor's answer).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import subprocess
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from bench import common

Unit = list[tuple[str, bytes]]
Units = Iterator[Unit]

DEFAULT_CONNECTION_CAP = 256
DEFAULT_LATE_AFTER = 0.002  # seconds: an event loop's timer resolution is about a millisecond


@dataclass
class OpenLoopResult:
    """What the units scheduled inside the measured window met (the warm-up is not counted)."""

    rate: float  # units offered per second
    duration: float
    connection_cap: int
    late_after: float
    units: int = 0  # units scheduled inside the window
    offered: int = 0  # their requests
    latencies: dict[str, list[float]] = field(default_factory=dict)  # from the scheduled (or due) time
    statuses: Counter = field(default_factory=Counter)
    send_lags: list[float] = field(default_factory=list)  # a unit's first send after its scheduled time
    late: int = 0
    connections: int = 0  # the pool's high-water mark (it never shrinks during a run)
    waited_for_connection: int = 0  # units that fell due with the pool full at its cap
    client_cpu_seconds: float = 0.0

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())

    @property
    def unfinished(self) -> int:
        """Requests of the window still unanswered when the drain ended (or never sent)."""
        return self.offered - self.answered

    @property
    def rps(self) -> float:
        """Requests answered per second of the window."""
        return self.answered / self.duration if self.duration else 0.0

    @property
    def offered_rps(self) -> float:
        return self.offered / self.duration if self.duration else 0.0

    def errors(self, expected: tuple[int, ...] = ()) -> int:
        """Answers other than 2xx (or the EXPECTED statuses), broken connections, and unfinished requests."""
        wrong = sum(
            count
            for status, count in self.statuses.items()
            if not (status in expected if expected else 200 <= status < 300)
        )
        return wrong + self.unfinished

    @property
    def all_latencies(self) -> list[float]:
        return [value for values in self.latencies.values() for value in values]

    @property
    def late_share(self) -> float:
        return self.late / self.units if self.units else 0.0

    @property
    def client_cpu_share(self) -> float:
        return self.client_cpu_seconds / self.duration if self.duration else 0.0

    def summary(self, prefix: str = "open", *, expected: tuple[int, ...] = ()) -> dict:
        """The run's figures as JSON-ready fields named PREFIX_*: latency, errors, lateness, the pool."""
        latency = common.latency_summary(self.all_latencies)
        lags = common.latency_summary(self.send_lags)
        return {
            f"{prefix}_p50_ms": latency["p50_ms"],
            f"{prefix}_p90_ms": latency["p90_ms"],
            f"{prefix}_p99_ms": latency["p99_ms"],
            f"{prefix}_max_ms": latency["max_ms"],
            f"{prefix}_answered_rps": round(self.rps, 1),
            f"{prefix}_errors": self.errors(expected),
            f"{prefix}_unfinished": self.unfinished,
            f"{prefix}_late_sends": self.late,
            f"{prefix}_send_lag_p99_ms": lags["p99_ms"],
            f"{prefix}_connections": self.connections,
            f"{prefix}_connection_cap": self.connection_cap,
            f"{prefix}_waited_for_connection": self.waited_for_connection,
            f"{prefix}_client_cpu_cores": round(self.client_cpu_share, 2),
        }

    def describe(self, *, expected: tuple[int, ...] = ()) -> str:
        """One progress line."""
        latency = common.latency_summary(self.all_latencies)
        shown = dict(self.statuses) if self.errors(expected) else ""
        return (
            f"{self.offered_rps:,.0f} req/s offered, {self.rps:,.0f} answered, p50 {latency['p50_ms']} ms, "
            f"p99 {latency['p99_ms']} ms from the scheduled send; errors {self.errors(expected)} {shown}"
            f"(unfinished {self.unfinished}), late sends {self.late} of {self.units}, "
            f"{self.connections} connections (cap {self.connection_cap}), client CPU {self.client_cpu_share:.2f} core"
        )


async def _drive_open(
    host: str,
    port: int,
    *,
    rate: float,
    warmup: float,
    duration: float,
    units: Units,
    connection_cap: int,
    late_after: float,
    drain: float,
    seed: int,
) -> OpenLoopResult:
    result = OpenLoopResult(rate=rate, duration=duration, connection_cap=connection_cap, late_after=late_after)
    loop = asyncio.get_running_loop()
    perf = time.perf_counter
    arrivals = random.Random(seed)
    pending: deque[tuple[float, bool, Unit]] = deque()  # units due, waiting for a connection
    idle: deque[asyncio.Future] = deque()  # workers waiting for a unit
    workers: list[asyncio.Task] = []
    outstanding = [0]
    all_done = asyncio.Event()

    async def serve(connection: common.HttpConnection, scheduled: float, counted: bool, unit: Unit) -> None:
        due = scheduled
        for index, (label, data) in enumerate(unit):
            if connection.writer is None:
                await connection.connect()
            if index == 0 and counted:
                lag = perf() - scheduled
                result.send_lags.append(max(0.0, lag))
                if lag > late_after:
                    result.late += 1
            status = await connection.request(data)
            answered = perf()
            if counted:
                result.latencies.setdefault(label, []).append(answered - due)
                result.statuses[status] += 1
            due = answered

    async def worker() -> None:
        connection = common.HttpConnection(host, port)
        try:
            while True:
                if pending:
                    item = pending.popleft()
                else:
                    waiting = loop.create_future()
                    idle.append(waiting)
                    item = await waiting
                    if item is None:
                        return
                try:
                    await serve(connection, *item)
                finally:
                    outstanding[0] -= 1
                    if outstanding[0] == 0:
                        all_done.set()
        finally:
            connection.close()

    def dispatch(item: tuple[float, bool, Unit]) -> None:
        outstanding[0] += 1
        all_done.clear()
        while idle:
            waiting = idle.popleft()
            if not waiting.done():
                waiting.set_result(item)
                return
        pending.append(item)
        if len(workers) < connection_cap:
            workers.append(asyncio.ensure_future(worker()))
            result.connections = len(workers)
        else:
            result.waited_for_connection += item[1]

    # The whole schedule and every unit are made before the clock starts, so the client does no work
    # between arrivals but hand each unit to a connection (a batch of comments takes milliseconds to build).
    offsets: list[float] = []
    offset = arrivals.expovariate(rate)
    while offset < warmup + duration:
        offsets.append(offset)
        offset += arrivals.expovariate(rate)
    prepared = [next(units) for _ in offsets]
    start = perf() + 0.05
    window_end = start + warmup + duration
    cpu_start = None
    for offset, unit in zip(offsets, prepared, strict=True):
        scheduled = start + offset
        # Sleep until the unit falls due; never send early (a timer may fire up to a tick early). When
        # behind, the units due are handed out without a pause and all leave at the next turn of the loop.
        while (delay := scheduled - perf()) > 0:
            await asyncio.sleep(delay)
        counted = offset >= warmup
        if counted:
            if cpu_start is None:
                cpu_start = time.process_time()
            result.units += 1
            result.offered += len(unit)
        dispatch((scheduled, counted, unit))
    del prepared
    while (delay := window_end - perf()) > 0:
        await asyncio.sleep(delay)
    cpu_end = time.process_time()
    result.client_cpu_seconds = cpu_end - (cpu_start if cpu_start is not None else cpu_end)
    if outstanding[0]:
        with contextlib.suppress(TimeoutError):  # what is still unanswered counts as unfinished
            await asyncio.wait_for(all_done.wait(), timeout=drain)
    for waiting in idle:
        if not waiting.done():
            waiting.set_result(None)
    for task in workers:
        if not task.done():
            task.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    return result


def run_open_loop(
    host: str,
    port: int,
    *,
    rate: float,
    duration: float,
    units: Units,
    warmup: float = 2.0,
    connection_cap: int = DEFAULT_CONNECTION_CAP,
    late_after: float = DEFAULT_LATE_AFTER,
    drain: float | None = None,
    seed: int = 17,
) -> OpenLoopResult:
    """Offer RATE units per second (Poisson arrivals) for WARMUP + DURATION seconds; time from the schedule.

    After the last arrival the run waits up to DRAIN seconds (default: DURATION, at least 5) for the
    answers still outstanding; the rest count as unfinished (errors).
    """
    if rate <= 0:
        raise ValueError("the offered rate must be positive")
    loop = common._new_loop()
    try:
        return loop.run_until_complete(
            _drive_open(
                host,
                port,
                rate=rate,
                warmup=warmup,
                duration=duration,
                units=units,
                connection_cap=connection_cap,
                late_after=late_after,
                drain=max(5.0, duration) if drain is None else drain,
                seed=seed,
            )
        )
    finally:
        loop.close()


@dataclass
class Ceiling:
    """The highest rate the open-loop client kept its schedule at against a do-nothing server."""

    rate: float  # units per second; 0.0 if even the first rate tried was not kept
    reached_limit: bool  # every rate up to the most it would try was kept: the ceiling is at least this
    tried: list[tuple[float, float, float, float, int]]  # (rate, late share, lag p50 ms, lag p99 ms, errors)

    def describe(self, per_unit: int = 1, unit: str = "req/s") -> str:
        steps = ", ".join(
            f"{rate * per_unit:,.0f} ({late:.1%} late, send lag p50 {p50} / p99 {p99} ms, {errors} errors)"
            for rate, late, p50, p99, errors in self.tried
        )
        least = "at least " if self.reached_limit else ""
        return f"{least}{self.rate * per_unit:,.0f} {unit} with its schedule kept; tried {steps}"


def open_loop_ceiling(
    make_units: Callable[[], Units],
    *,
    start_rate: float,
    step_duration: float = 1.5,
    max_rate: float | None = None,
    connection_cap: int = DEFAULT_CONNECTION_CAP,
    late_after: float = DEFAULT_LATE_AFTER,
) -> Ceiling:
    """Double the offered rate against a do-nothing server until the schedule is no longer kept.

    From START_RATE up to MAX_RATE (default 32 times the start; a ceiling that reaches it is a
    lower bound, said so by ``reached_limit``).

    Kept means nothing failed and at least half the sends left within LATE_AFTER of their
    scheduled time. (On a busy machine a process is put off the CPU now and then, and every send
    due meanwhile is late whatever the client does, more of them the higher the rate; a client that
    cannot keep up falls behind on most of its sends.) One bisection step between the last rate
    kept and the first one missed follows. A ceiling far above the rate of a real run says the
    client did not limit it; the late share and the send lag of every step are kept in ``tried``.
    """
    port = common.free_port()
    stub = subprocess.Popen(
        [common.PYTHON, "-c", common._STUB_SERVER, str(port)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    tried: list[tuple[float, float, float, float, int]] = []

    def kept(rate: float) -> bool:
        run = run_open_loop(
            "127.0.0.1",
            port,
            rate=rate,
            duration=step_duration,
            units=make_units(),
            warmup=0.3,
            connection_cap=connection_cap,
            late_after=late_after,
            drain=2.0,
        )
        lag = common.latency_summary(run.send_lags)
        tried.append((rate, run.late_share, lag["p50_ms"], lag["p99_ms"], run.errors()))
        return run.errors() == 0 and run.units > 0 and lag["p50_ms"] <= late_after * 1000

    try:
        stub.stdout.readline()
        best, missed, rate = 0.0, None, start_rate
        limit = max_rate if max_rate is not None else start_rate * 32
        while rate <= limit:
            if not kept(rate):
                missed = rate
                break
            best, rate = rate, rate * 2
        if best and missed:
            middle = (best + missed) / 2
            if kept(middle):
                best = middle
        return Ceiling(rate=best, reached_limit=missed is None, tried=tried)
    finally:
        common.stop_process(stub)
