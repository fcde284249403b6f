"""Real media servers for tests: Debian's nginx with the RTMP module, and ffmpeg as the publisher.

Use it from a test module with ``from tests.media import nginx_rtmp_fixture  # noqa: F401`` (the
fixture is named ``nginx_rtmp``) and mark the tests ``@pytest.mark.media_server``. When nginx, its
RTMP module or ffmpeg is missing, the fixtures skip the test on a laptop and fail it in CI (the CI
environment variable is set), naming what is missing.

The ``nginx_rtmp`` fixture runs nginx on free loopback ports, in its own prefix directory, with its
callbacks pointing at pytest-django's ``live_server`` (``nginx_rtmp_asgi``: at the uvicorn
``asgi_server`` of tests/browser.py instead); it registers the node through
``actions.register_media_server`` and tears everything down (nginx and any ffmpeg it started).
``nginx_rtmp_pair`` runs two such nodes (``edge-live`` and ``edge-live-2``), each in its own prefix.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import pytest

from moderation import actions
from moderation.models import MediaServer

RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")
NODE_NAME = "edge-live"
NODE_SECRET = "live-node-secret-for-tests"
# How often nginx re-asks the gate about a running publish (on_update).
UPDATE_INTERVAL_SECONDS = 2

T = TypeVar("T")


# --- tools and waiting -------------------------------------------------------------------------


def in_ci() -> bool:
    """Tell whether this run is CI, where a missing media tool is a failure, not a skip."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def find_nginx() -> str | None:
    """Return the nginx binary (Debian keeps it in /usr/sbin, often not on PATH)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def require_media_tools() -> tuple[str, str]:
    """Return (nginx, ffmpeg); skip the test locally or fail it in CI when one is missing."""
    nginx, ffmpeg = find_nginx(), shutil.which("ffmpeg")
    missing = []
    if nginx is None:
        missing.append("nginx (apt install nginx-light)")
    if not RTMP_MODULE.exists():
        missing.append(f"the nginx RTMP module {RTMP_MODULE} (apt install libnginx-mod-rtmp)")
    if ffmpeg is None:
        missing.append("ffmpeg (apt install ffmpeg)")
    if missing:
        message = "media-server test needs " + ", ".join(missing)
        if in_ci():
            pytest.fail(message + " — CI must have them", pytrace=False)
        pytest.skip(message)
    return nginx, ffmpeg


def wait_until(
    condition: Callable[[], T], *, timeout: float = 10.0, interval: float = 0.05, message: str = "condition"
) -> T:
    """Poll ``condition`` until it returns something truthy and return that; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:g}s waiting for {message}", pytrace=False)
        time.sleep(interval)


def free_port() -> int:
    """Return a loopback TCP port that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop_process(process: subprocess.Popen, *, grace: float = 5.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace)


# --- ffmpeg as a publisher ---------------------------------------------------------------------


@dataclass
class FfmpegPublish:
    """An ffmpeg process publishing a generated test picture and tone to an RTMP URL."""

    url: str
    process: subprocess.Popen
    stderr_path: Path

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def wait(self, timeout: float = 10.0) -> int:
        """Wait for ffmpeg to exit and return its exit status; fail the test if it does not."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"ffmpeg still publishing to {self.url} after {timeout:g}s", pytrace=False)

    def stderr(self) -> str:
        """Return what ffmpeg wrote to stderr so far."""
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def stop(self) -> None:
        """End ffmpeg if it still runs."""
        _stop_process(self.process, grace=3.0)


def start_ffmpeg(url: str, *, log_dir: Path, ffmpeg: str = "ffmpeg", seconds: int = 120) -> FfmpegPublish:
    """Start ffmpeg publishing a cheap test signal to ``url`` for at most ``seconds``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    stderr_path = Path(tempfile.mkstemp(prefix="ffmpeg-", suffix=".log", dir=log_dir)[1])
    command = [
        ffmpeg,
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "warning",
        "-re",
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=15",
        "-f",
        "lavfi",
        "-i",
        "sine",
        "-t",
        str(seconds),  # a leaked publisher still ends
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-tune",
        "zerolatency",
        "-g",
        "30",
        "-c:a",
        "aac",
        "-f",
        "flv",
        url,
    ]
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
    return FfmpegPublish(url=url, process=process, stderr_path=stderr_path)


# --- nginx with the RTMP module ----------------------------------------------------------------

NGINX_CONF = """\
load_module {module};
worker_processes 1;
master_process on;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log info;

events {{
    worker_connections 256;
}}

rtmp {{
    server {{
        listen 127.0.0.1:{rtmp_port};
        chunk_size 4096;

        application live {{
            live on;
            notify_method post;
            on_publish {callback}/on_publish;
            on_publish_done {callback}/on_publish_done;
            on_update {callback}/on_update;
            notify_update_timeout {update_interval}s;
            notify_relay_redirect off;
            # HLS for the stream page's player (served below at /hls/<key>.m3u8).
            hls on;
            hls_path {prefix}/hls;
            hls_fragment 1s;
            hls_playlist_length 6s;
        }}
    }}
}}

http {{
    access_log {prefix}/logs/access.log;
    client_body_temp_path {prefix}/temp/client_body;
    proxy_temp_path {prefix}/temp/proxy;
    fastcgi_temp_path {prefix}/temp/fastcgi;
    uwsgi_temp_path {prefix}/temp/uwsgi;
    scgi_temp_path {prefix}/temp/scgi;

    server {{
        listen 127.0.0.1:{http_port};

        location /control {{
            rtmp_control all;
        }}
        location /stat {{
            rtmp_stat all;
        }}
        location /hls {{
            types {{
                application/vnd.apple.mpegurl m3u8;
                video/mp2t ts;
            }}
            root {prefix};
            add_header Cache-Control no-cache;
        }}
    }}
}}
"""


@dataclass
class NginxRtmp:
    """A running nginx-rtmp node registered with the console."""

    nginx: str
    ffmpeg: str
    prefix: Path
    callback_base: str
    rtmp_port: int = 0
    http_port: int = 0
    node: MediaServer | None = None
    process: subprocess.Popen | None = None
    publishers: list[FfmpegPublish] = field(default_factory=list)

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/"

    def rtmp_url(self, key: str, app: str = "live") -> str:
        return f"rtmp://127.0.0.1:{self.rtmp_port}/{app}/{key}"

    @property
    def watch_url(self) -> str:
        """The node's HLS, as a watch URL template (docs/deploy.md, "Watching streams")."""
        return f"http://127.0.0.1:{self.http_port}/hls/{{key}}.m3u8"

    @property
    def error_log(self) -> str:
        path = self.prefix / "logs" / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def publish(self, key: str, app: str = "live") -> FfmpegPublish:
        """Start ffmpeg publishing under ``key``; it is stopped at teardown if still running."""
        publish = start_ffmpeg(self.rtmp_url(key, app), log_dir=self.prefix / "logs", ffmpeg=self.ffmpeg)
        self.publishers.append(publish)
        return publish

    def start(self, *, attempts: int = 3) -> None:
        """Start nginx on fresh free ports and wait until its HTTP port answers."""
        for directory in ("logs", "temp", "conf"):
            (self.prefix / directory).mkdir(parents=True, exist_ok=True)
        # nginx's workers write the HLS files, as nobody when the tests run as root.
        (self.prefix / "hls").mkdir(exist_ok=True)
        (self.prefix / "hls").chmod(0o777)
        for attempt in range(attempts):
            self.rtmp_port, self.http_port = free_port(), free_port()
            config = self.prefix / "conf" / "nginx.conf"
            config.write_text(
                NGINX_CONF.format(
                    module=RTMP_MODULE,
                    prefix=self.prefix,
                    rtmp_port=self.rtmp_port,
                    http_port=self.http_port,
                    callback=self.callback_base,
                    update_interval=UPDATE_INTERVAL_SECONDS,
                )
            )
            stderr = (self.prefix / "logs" / "stderr.log").open("ab")
            self.process = subprocess.Popen(
                # -e: nginx opens its compiled-in error log before reading the config; keep it here.
                [self.nginx, "-p", f"{self.prefix}/", "-c", str(config), "-e", str(self.prefix / "logs/error.log")],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
            )
            stderr.close()
            if self._wait_until_answering():
                return
            _stop_process(self.process)
            if attempt == attempts - 1 or "Address already in use" not in self.error_log:
                break
        pytest.fail(f"nginx did not start; its error log:\n{self.error_log[-3000:]}", pytrace=False)

    def _wait_until_answering(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.control_url}stat", timeout=1) as response:
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        """Stop every ffmpeg started here, then nginx."""
        for publish in self.publishers:
            publish.stop()
        if self.process is not None:
            _stop_process(self.process)


@pytest.fixture(name="nginx_rtmp")
def nginx_rtmp_fixture(live_server) -> Iterator[NginxRtmp]:
    """Run nginx-rtmp as the registered node ``edge-live``, calling the gate at ``live_server``."""
    yield from _nginx_rtmp_calling(live_server.url)


@pytest.fixture(name="nginx_rtmp_pair")
def nginx_rtmp_pair_fixture(live_server) -> Iterator[tuple[NginxRtmp, NginxRtmp]]:
    """Run two nginx-rtmp nodes, ``edge-live`` and ``edge-live-2``, both calling the gate at ``live_server``."""
    first = _nginx_rtmp_calling(live_server.url)
    second = _nginx_rtmp_calling(live_server.url, name=f"{NODE_NAME}-2", secret=f"{NODE_SECRET}-2")
    try:
        yield next(first), next(second)
    finally:
        second.close()
        first.close()


@pytest.fixture(name="nginx_rtmp_asgi")
def nginx_rtmp_asgi_fixture(asgi_server) -> Iterator[NginxRtmp]:
    """Like ``nginx_rtmp``, but calling the gate at the uvicorn ``asgi_server`` (tests/browser.py).

    The module using it imports the ``asgi_server`` fixture too: then the gate, the console's
    WebSocket and the drop all run in the one live ASGI process, as in production.
    """
    yield from _nginx_rtmp_calling(asgi_server.url)


def _nginx_rtmp_calling(server_url: str, *, name: str = NODE_NAME, secret: str = NODE_SECRET) -> Iterator[NginxRtmp]:
    nginx, ffmpeg = require_media_tools()
    # The gate URL uses 127.0.0.1: nginx resolves names once, and "localhost" may mean ::1.
    port = urlsplit(server_url).port
    callback_base = f"http://127.0.0.1:{port}/gate/nginx-rtmp/{name}/{secret}"
    # nginx's workers run as nobody when the tests run as root: keep the prefix traversable.
    prefix = Path(tempfile.mkdtemp(prefix="liveward-nginx-"))
    prefix.chmod(0o755)
    server = NginxRtmp(nginx=nginx, ffmpeg=ffmpeg, prefix=prefix, callback_base=callback_base)
    try:
        server.start()
        # As in production: the node's own secret in its callback URLs, and its address allow-listed.
        server.node, _secret = actions.register_media_server(
            name,
            kind=MediaServer.Kind.NGINX_RTMP,
            control_url=server.control_url,
            secret=secret,
            allowed_networks=["127.0.0.1"],
        )
        yield server
    finally:
        server.stop()
        shutil.rmtree(prefix, ignore_errors=True)
        settle_database()


def settle_database(timeout: float = 5.0) -> None:
    """Wait until the callbacks nginx sent while stopping, and their console deltas, are done.

    Otherwise they can still be reading when the test database is flushed, and on PostgreSQL a
    multi-table SELECT and the flush's TRUNCATE can deadlock.
    """
    from django.db import connection

    from moderation import events

    events.flush(timeout)
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"
            )
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.05)
