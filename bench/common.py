"""What every bench script needs: a database, a server on a free port, a load, percentiles.

Nothing here imports Django: the scripts drive the project from outside, as an operator would, and
run Django code (migrate, seeding, query counts) in subprocesses with the same environment as the
server. Each script prints progress lines and, as its last line, one JSON object with its figures.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import http.client
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BENCH_SECRET_KEY = "bench-secret-key-not-for-production-0123456789abcdef"


def say(message: str) -> None:
    """Print one progress line (the last line of a run is reserved for the JSON figures)."""
    print(f"· {message}", flush=True)


# --- database and Django subprocesses --------------------------------------------------------


def ensure_postgres_database(url: str) -> bool:
    """Create the PostgreSQL database named by URL if it is missing; return True if created."""
    import psycopg2
    from psycopg2 import sql

    parsed = urlparse(url)
    name = unquote(parsed.path.lstrip("/"))
    if not name:
        raise SystemExit(f"{url!r} names no database")
    admin = psycopg2.connect(
        dbname="postgres",
        user=unquote(parsed.username or "postgres"),
        password=unquote(parsed.password or "") or None,
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 5432,
    )
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone():
                return False
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    finally:
        admin.close()


def django_env(**overrides: str) -> dict[str, str]:
    """The environment for the server and for Django subprocesses: production-like, quiet."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",  # production settings plus /bench/floor
        "SECRET_KEY": BENCH_SECRET_KEY,
        "LIVEWARD_BLACKLIST_HASH_KEY": "bench-blacklist-hash-key-not-for-production-0123456789",
        # identity at rest needs a key without DEBUG; a bench database is thrown away, so is this
        "LIVEWARD_IDENTITY_KEY": "bench-identity-key-not-for-production-0123456789abcdef",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(overrides)
    return env


def manage(args: Sequence[str], env: dict[str, str]) -> None:
    """Run manage.py with ARGS; raise SystemExit with its output if it fails."""
    done = subprocess.run(
        [PYTHON, str(BASE_DIR / "manage.py"), *args], env=env, cwd=BASE_DIR, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def run_django_script(code: str, env: dict[str, str], *, args: Sequence[str] = ()) -> dict:
    """Run CODE in a subprocess after django.setup(); it must print one JSON object last."""
    prelude = "import django, sys\ndjango.setup()\n"
    done = subprocess.run([PYTHON, "-c", prelude + code, *args], env=env, cwd=BASE_DIR, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"Django subprocess failed:\n{done.stdout}{done.stderr}")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if not lines:
        raise SystemExit(f"Django subprocess printed nothing:\n{done.stderr}")
    return json.loads(lines[-1])


# --- fresh databases and logins --------------------------------------------------------------


def recreate_postgres_database(url: str) -> None:
    """Drop (forcibly) and create the database named in URL."""
    import psycopg2
    from psycopg2 import sql

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username, dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()


_AUTHENTICATOR_KEYS: dict[tuple[str, str], bytes] = {}  # (base, username) -> the key enrolled by login()


def _totp_code(key: bytes, *, after: int | None = None) -> tuple[str, int]:
    """The authenticator's 6-digit code for KEY now (RFC 6238: 30 s steps, SHA-1) and its step.

    A code is accepted once, so with AFTER (the step last used) it waits for a later step.
    """
    step = int(time.time()) // 30
    while after is not None and step <= after:
        time.sleep(0.5)
        step = int(time.time()) // 30
    digest = hmac.new(key, step.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}", step


_LAST_STEP: dict[tuple[str, str], int] = {}


def login(base: str, username: str, password: str) -> str:
    """Log a staff member in as a person does; return the session id.

    The password on the login page, then the second factor: at the first login of a bench account
    the enrolment page (its key read off the page as someone types it into an app), afterwards the
    code of that authenticator, a new 30-second step each time (a code is accepted once).
    """
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def post(url: str, fields: dict[str, str]):
        page = opener.open(url, timeout=10).read().decode()
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        form = {**fields, "csrfmiddlewaretoken": csrf.group(1)} if csrf else fields
        request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), headers={"Referer": base})
        try:
            return opener.open(request, timeout=10)
        except urllib.error.HTTPError as error:  # a refused code answers 400 with the page
            return error

    answer = post(f"{base}/accounts/login/", {"username": username, "password": password})
    landed = answer.geturl()
    account = (base, username)
    if "/accounts/two-factor/enrol/" in landed:
        page = answer.read().decode()
        typed = re.search(r'id="manual-key"[^>]*>([^<]+)<', page).group(1).replace(" ", "")
        key = base64.b32decode(typed + "=" * (-len(typed) % 8))
        code, step = _totp_code(key)
        answer = post(landed, {"code": code})
        _AUTHENTICATOR_KEYS[account], _LAST_STEP[account] = key, step
    elif "/accounts/two-factor/" in landed:
        key = _AUTHENTICATOR_KEYS.get(account)
        if key is None:
            raise SystemExit(f"{username} has an authenticator this run did not enrol: recreate the bench database")
        code, step = _totp_code(key, after=_LAST_STEP.get(account))
        answer = post(landed, {"code": code})
        _LAST_STEP[account] = step
    if getattr(answer, "status", getattr(answer, "code", 200)) >= 400:
        raise SystemExit(f"{username}'s login was refused at {answer.geturl()}")
    return next(cookie.value for cookie in jar if cookie.name == "sessionid")


# --- the server ------------------------------------------------------------------------------


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on HOST right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def start_asgi_server(
    env: dict[str, str],
    *,
    host: str,
    port: int,
    workers: int,
    log_path: Path | None = None,
    app: str = "console.asgi:application",
) -> subprocess.Popen:
    """Start uvicorn as the run command does, in its own process group; its output goes to LOG_PATH."""
    command = [
        PYTHON, "-m", "uvicorn", app,
        "--host", host, "--port", str(port),
        "--workers", str(workers), "--no-access-log", "--lifespan", "off",
        "--ws-per-message-deflate", "false",
    ]  # fmt: skip
    log = open(log_path, "ab") if log_path is not None else None  # noqa: SIM115 (the child keeps it)
    try:
        return subprocess.Popen(command, env=env, cwd=BASE_DIR, start_new_session=True, stdout=log, stderr=log)
    finally:
        if log is not None:
            log.close()


@contextlib.contextmanager
def console_server(env: dict[str, str], *, name: str, workers: int, port: int | None = None) -> Iterator[str]:
    """Run the ASGI server as the run command does on a loopback port; yield its base URL; stop it."""
    host, port = "127.0.0.1", port or free_port()
    log_path = Path(tempfile.gettempdir()) / f"liveward-bench-{name}-{port}.log"
    say(f"starting uvicorn with {workers} workers on http://{host}:{port} (its log: {log_path})")
    server = start_asgi_server(env, host=host, port=port, workers=workers, log_path=log_path)
    try:
        wait_for_http(host, port, "/healthz", process=server)
        yield f"http://{host}:{port}"
    finally:
        stop_process(server)


def wait_for_http(
    host: str, port: int, path: str, *, process: subprocess.Popen | None = None, timeout: float = 30.0
) -> None:
    """Poll GET PATH until it answers 200; give up after TIMEOUT or if PROCESS exits."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"the server exited with code {process.returncode} before answering {path}")
        connection = http.client.HTTPConnection(host, port, timeout=2)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                return
            last = f"HTTP {response.status}"
        except OSError as exc:
            last = str(exc)
        finally:
            connection.close()
        time.sleep(0.2)
    raise SystemExit(f"{path} did not answer 200 within {timeout:.0f} s ({last})")


def stop_process(process: subprocess.Popen | None, *, timeout: float = 10.0) -> None:
    """Stop PROCESS and its group: SIGTERM, then SIGKILL after TIMEOUT."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def raise_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt, so a script's finally blocks stop what it started."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


# --- figures ---------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values (p in 0..100); 0.0 for no values."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), int(-(-p * len(sorted_values) // 100))))
    return sorted_values[rank - 1]


def load_average() -> list[float]:
    """The machine's load average over 1, 5 and 15 minutes: printed beside every figure."""
    return [round(value, 2) for value in os.getloadavg()]


def latency_summary(latencies: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99/max of latencies given in seconds, in milliseconds rounded to 0.01."""
    ordered = sorted(latencies)
    return {
        f"{name}_ms": round(percentile(ordered, p) * 1000, 2) for name, p in (("p50", 50), ("p90", 90), ("p99", 99))
    } | {"max_ms": round((ordered[-1] if ordered else 0.0) * 1000, 2)}


# --- load: raw HTTP/1.1 keep-alive over asyncio ------------------------------------------------


def post_request(host: str, port: int, path: str, body: bytes, content_type: str) -> bytes:
    """Return the bytes of one keep-alive HTTP/1.1 POST, built once and sent many times."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode("latin-1") + body


class HttpConnection:
    """One keep-alive connection; reads just enough of each response to know where it ends."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> bool:
        """Open the connection (TCP_NODELAY); False if it could not be opened."""
        try:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            self.reader = self.writer = None
            return False
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return True

    async def request(self, data: bytes) -> int:
        """Send one prepared request, read its response, return the status (0 on a broken connection)."""
        if self.writer is None and not await self.connect():
            return 0
        try:
            self.writer.write(data)
            head = await self.reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length, close = 0, False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    raise ValueError("chunked responses are not expected from these views")
            if length:
                await self.reader.readexactly(length)
            if close:
                self.close()
            return status
        except (OSError, asyncio.IncompleteReadError, ValueError):
            self.close()
            return 0

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


# A caller's script: an endless iterator of units; a unit is a list of (label, request bytes) that
# is always finished once started (an on_publish is always followed by its on_publish_done).
Script = Callable[[int], Iterator[list[tuple[str, bytes]]]]


@dataclass
class LoadResult:
    """What happened inside the measured window (the warm-up is not counted)."""

    duration: float
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter = field(default_factory=Counter)
    client_cpu_seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(len(values) for values in self.latencies.values())

    @property
    def rps(self) -> float:
        return self.requests / self.duration if self.duration else 0.0

    @property
    def errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if not 200 <= status < 300)

    @property
    def all_latencies(self) -> list[float]:
        return [value for values in self.latencies.values() for value in values]

    @property
    def client_cpu_share(self) -> float:
        """The load client's CPU use during the window, in cores (1.0 = one core busy)."""
        return self.client_cpu_seconds / self.duration if self.duration else 0.0


async def _drive(host: str, port: int, concurrency: int, warmup: float, duration: float, script: Script) -> LoadResult:
    result = LoadResult(duration=duration)
    loop = asyncio.get_running_loop()
    start = loop.time()
    window_start, window_end = start + warmup, start + warmup + duration
    cpu_marks: dict[str, float] = {}

    async def caller(index: int) -> None:
        connection = HttpConnection(host, port)
        perf = time.perf_counter
        try:
            for unit in script(index):
                if loop.time() >= window_end:
                    return
                for label, data in unit:
                    began = perf()
                    status = await connection.request(data)
                    elapsed = perf() - began
                    now = loop.time()
                    if window_start <= now < window_end:
                        result.latencies.setdefault(label, []).append(elapsed)
                        result.statuses[status] += 1
        finally:
            connection.close()

    async def cpu_clock() -> None:
        await asyncio.sleep(max(0.0, window_start - loop.time()))
        cpu_marks["start"] = time.process_time()
        await asyncio.sleep(max(0.0, window_end - loop.time()))
        cpu_marks["end"] = time.process_time()

    clock = asyncio.ensure_future(cpu_clock())
    await asyncio.gather(*(caller(i) for i in range(concurrency)))
    await clock
    result.client_cpu_seconds = cpu_marks["end"] - cpu_marks["start"]
    return result


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run_load(host: str, port: int, *, concurrency: int, warmup: float, duration: float, script: Script) -> LoadResult:
    """Run CONCURRENCY callers, each on its own keep-alive connection, for WARMUP + DURATION seconds."""
    loop = _new_loop()
    try:
        return loop.run_until_complete(_drive(host, port, concurrency, warmup, duration, script))
    finally:
        loop.close()


# --- the client's own ceiling ----------------------------------------------------------------

_STUB_SERVER = r"""
import asyncio, sys
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"

class Stub(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer = transport, b""
    def data_received(self, data):
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].lower()
            at = head.find(b"content-length:")
            length = int(head[at + 15:].split(b"\r\n", 1)[0]) if at >= 0 else 0
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length:]
            self.transport.write(RESPONSE)

async def main():
    try:
        import uvloop  # noqa: F401
    except ImportError:
        pass
    server = await asyncio.get_running_loop().create_server(Stub, "127.0.0.1", int(sys.argv[1]))
    print("ready", flush=True)
    await server.serve_forever()

asyncio.run(main())
"""


def client_ceiling(*, concurrency: int, duration: float, script: Script) -> LoadResult:
    """Drive the same load against a do-nothing HTTP server in another process: the client's ceiling.

    If this is far above the figures measured against Django, the client is not the bottleneck.
    """
    port = free_port()
    stub = subprocess.Popen(
        [PYTHON, "-c", _STUB_SERVER, str(port)], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        stub.stdout.readline()
        return run_load("127.0.0.1", port, concurrency=concurrency, warmup=0.5, duration=duration, script=script)
    finally:
        stop_process(stub)
