"""Cuts run off the threads that answer consoles and the gate, in one lane per node."""

from __future__ import annotations

import asyncio
import threading

import pytest

from moderation import cut_threads
from moderation.cut_threads import PER_LANE, CutThreads
from moderation.database_threads import DatabaseThreads
from tests.media import wait_until

WAIT = 10.0


@pytest.fixture
def pool():
    threads = CutThreads("test-cuts", lambda: PER_LANE + 2)
    yield threads
    threads.shutdown()


def test_a_frozen_node_holds_at_most_its_lane_and_other_nodes_cut_meanwhile(pool):
    release = threading.Event()
    running: list[int] = []
    lock = threading.Lock()

    def frozen_drop(number: int) -> int:
        with lock:
            running.append(number)
        assert release.wait(WAIT)
        return number

    frozen = [pool.submit("frozen-node", frozen_drop, number) for number in range(PER_LANE + 2)]
    healthy = [pool.submit("healthy-node", lambda: "dropped") for _ in range(3)]
    assert [future.result(timeout=WAIT) for future in healthy] == ["dropped"] * 3
    wait_until(lambda: len(running) == PER_LANE, message="the frozen node's lane to fill")
    assert not any(future.done() for future in frozen)  # the rest wait in the frozen node's lane
    assert len(running) == PER_LANE
    release.set()
    assert [future.result(timeout=WAIT) for future in frozen] == list(range(PER_LANE + 2))
    assert sorted(running) == list(range(PER_LANE + 2))


def test_a_failed_cut_frees_its_lane(pool):
    def broken() -> None:
        raise RuntimeError("node answered nonsense")

    failed = [pool.submit("node", broken) for _ in range(PER_LANE + 1)]
    for future in failed:
        with pytest.raises(RuntimeError):
            future.result(timeout=WAIT)
    assert pool.submit("node", lambda: "next").result(timeout=WAIT) == "next"


def test_a_cut_started_on_a_console_thread_runs_on_a_cut_thread():
    console = DatabaseThreads("test-console", lambda: 1)
    try:
        cut = asyncio.run(console.run(cut_threads.start, "node", lambda: threading.current_thread().name))
        assert cut.result(timeout=WAIT).startswith("cuts")
    finally:
        console.shutdown()
        cut_threads.shutdown()


def test_a_cut_started_elsewhere_runs_where_it_was_started():
    here = threading.current_thread().name
    cut = cut_threads.start("node", lambda: threading.current_thread().name)
    assert cut.done() and cut.result() == here


def test_a_cut_that_fails_where_it_was_started_raises_there():
    def broken() -> None:
        raise RuntimeError("node answered nonsense")

    with pytest.raises(RuntimeError):
        cut_threads.start("node", broken)
