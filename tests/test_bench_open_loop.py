"""The benchmarks' open-loop client (bench/open_loop.py) counts what a closed loop hides.

Against a small HTTP server in a thread of the test that holds each answer for a while: the
latency of a unit that waited in the client for a connection runs from its scheduled time, the
pool grows when every connection is busy and stops at its cap, and errors and requests left
unanswered are counted rather than lost. The bounds asserted are lower bounds that hold by
construction (a server that answers 20 requests a second cannot answer 60 a second sooner), so a
loaded machine only makes them hold by a wider margin.
"""

from __future__ import annotations

import asyncio
import itertools
import threading

import pytest

from bench import common, open_loop

HOLD = 0.05  # seconds the server keeps every answer


class HoldingServer:
    """Answer each request after HOLD seconds: 503 for /fail, never for /hang, 200 otherwise."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self.tasks: set[asyncio.Task] = set()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait(10)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()
        server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.tasks.add(asyncio.current_task())
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if length:
                    await reader.readexactly(length)
                path = head.split(b" ", 2)[1]
                if path == b"/hang":
                    await asyncio.sleep(3600)
                await asyncio.sleep(HOLD)
                status = b"503 Service Unavailable" if path == b"/fail" else b"200 OK"
                writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 2\r\n\r\nok")
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self.tasks.discard(asyncio.current_task())

    def stop(self) -> None:
        def cancel() -> None:
            for task in list(self.tasks):
                task.cancel()
            self.loop.call_later(0.1, self.loop.stop)

        self.loop.call_soon_threadsafe(cancel)
        self.thread.join(10)


@pytest.fixture
def server():
    holding = HoldingServer()
    yield holding
    holding.stop()


def units(port: int, *paths: str):
    """Units of one request each, cycling through PATHS."""
    requests = [common.post_request("127.0.0.1", port, path, b"x=1", "text/plain") for path in paths]
    return ([(path, request)] for path, request in itertools.cycle(zip(paths, requests, strict=True)))


def test_a_unit_waiting_for_a_connection_is_timed_from_its_scheduled_send(server):
    # One connection, 60 units a second offered, 20 a second answered: the backlog grows through the
    # run, and its wait is part of the latency (a closed loop would report about HOLD for each).
    result = open_loop.run_open_loop(
        "127.0.0.1", server.port, rate=60, duration=1.0, warmup=0.0, units=units(server.port, "/ok"),
        connection_cap=1, drain=30.0,
    )  # fmt: skip

    latencies = sorted(result.all_latencies)
    assert result.units > 20
    assert result.unfinished == 0 and result.errors() == 0
    assert result.connections == 1
    assert result.waited_for_connection > 0
    assert result.late > result.units // 2
    assert latencies[0] >= HOLD
    # The last of U units through one connection cannot be answered before U × HOLD after the first
    # was sent, while the schedule put them at most the run's 1 s apart.
    assert latencies[-1] >= result.units * HOLD - 1.0 > 0.5


def test_the_pool_grows_while_every_connection_is_busy_and_stops_at_its_cap(server):
    grown = open_loop.run_open_loop(
        "127.0.0.1", server.port, rate=60, duration=1.0, warmup=0.0, units=units(server.port, "/ok"),
        connection_cap=64, drain=30.0,
    )  # fmt: skip
    capped = open_loop.run_open_loop(
        "127.0.0.1", server.port, rate=60, duration=1.0, warmup=0.0, units=units(server.port, "/ok"),
        connection_cap=2, drain=30.0,
    )  # fmt: skip

    assert grown.connections > 1 and grown.errors() == 0
    assert min(grown.all_latencies) >= HOLD
    assert capped.connections == 2
    assert capped.summary()["open_connection_cap"] == 2
    assert capped.waited_for_connection > 0


def test_errors_and_unanswered_requests_are_counted_not_lost(server):
    result = open_loop.run_open_loop(
        "127.0.0.1", server.port, rate=30, duration=1.0, warmup=0.0,
        units=units(server.port, "/ok", "/fail", "/hang"), connection_cap=64, drain=1.0,
    )  # fmt: skip

    # Each unit is scheduled inside the window, so each is offered once: one in three of each kind.
    failed, hung = result.units // 3 + (result.units % 3 > 1), result.units // 3
    assert result.offered == result.units
    assert result.statuses[200] == len(result.latencies["/ok"])
    assert result.statuses[503] == failed
    assert result.unfinished == hung > 0
    assert result.errors() == failed + hung
    assert result.errors(expected=(200, 503)) == hung
    summary = result.summary("open")
    assert summary["open_errors"] == failed + hung and summary["open_unfinished"] == hung


def test_an_offered_rate_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        open_loop.run_open_loop("127.0.0.1", 9, rate=0, duration=1.0, units=iter([]))
