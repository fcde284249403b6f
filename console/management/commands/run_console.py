"""Run the whole console under one parent: embedded Redis, ASGI server, Celery worker and beat, simulator.

Each child is supervised (console/supervisor.py): one that dies is restarted with backoff and the
restart is logged; one that keeps dying is given up after LIVEWARD_RESTART_LIMIT deaths within
LIVEWARD_RESTART_WINDOW_SECONDS (the ASGI server, which answers the gate, stops everything then).
Only Ctrl-C (or SIGTERM) stops everything: the children newest first, the embedded Redis last.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from console.embedded import EmbeddedRedis
from console.ports import PortTaken, choose_port
from console.private_files import make_private_by_default, tighten
from console.supervisor import RestartPolicy, Supervisor
from moderation import events
from moderation.management.commands.seed_demo import SIMULATOR_CONTROL_PORT

# Ctrl-C stops the children in three stages, each once the one before has gone (console/supervisor.py):
# the simulator first (it ends its sessions at the gate), then the server, worker and beat together
# (none needs another on its way out), the embedded Redis last. Within 3 s on a quiet machine.
STOP_FIRST, STOP_TOGETHER, STOP_LAST = 2, 1, 0
# Where the console listens when LIVEWARD_PORT / --port is not given: the first free port from here.
CONSOLE_PORT = 8000

# The server's own limits (docs/deploy.md, "The server's own limits"). Headers: a deadline and a
# size cap (console/http_protocol.py); bodies are limited in console/asgi.py.
HTTP_PROTOCOL = "console.http_protocol:HeaderLimitedHttpToolsProtocol"
# An idle kept-alive connection is closed after this many seconds (uvicorn's default, said aloud).
KEEP_ALIVE_SECONDS = 5
# On Ctrl-C, open requests and WebSockets get this long before the server closes them.
GRACEFUL_SHUTDOWN_SECONDS = 5
# A WebSocket message larger than this closes the socket (1009). Console frames are refused above
# 8 KiB with a clear error frame (console/consumers.py); uvicorn's default would read 16 MiB.
WS_MAX_MESSAGE_BYTES = 64 * 1024
# WebSocket frames go uncompressed: a delta goes to every console, and per-message deflate would
# compress it once per socket (its context is the socket's), the largest cost of a broadcast after
# the write itself; a console's frames are a few KiB at most (docs/deploy.md).
WS_PER_MESSAGE_DEFLATE = "false"


def server_command(*, host: str, port: int, workers: int) -> list[str]:
    """Return the uvicorn command line the run command starts: the console with the server's limits."""
    return [
        sys.executable, "-m", "uvicorn", "console.asgi:application",
        "--host", host, "--port", str(port), "--workers", str(workers),
        "--no-access-log", "--lifespan", "off",
        "--http", HTTP_PROTOCOL,
        "--timeout-keep-alive", str(KEEP_ALIVE_SECONDS),
        "--timeout-graceful-shutdown", str(GRACEFUL_SHUTDOWN_SECONDS),
        "--limit-concurrency", str(settings.LIVEWARD_MAX_CONNECTIONS),
        "--ws-max-size", str(WS_MAX_MESSAGE_BYTES),
        "--ws-per-message-deflate", WS_PER_MESSAGE_DEFLATE,
    ]  # fmt: skip


class Command(BaseCommand):
    help = "Start the console: embedded Redis (if REDIS_URL is unset), ASGI server, Celery worker and beat."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=settings.LIVEWARD_HOST)
        parser.add_argument(
            "--port",
            type=int,
            default=settings.LIVEWARD_PORT,
            help=f"the console's port (also LIVEWARD_PORT; default: the first free one from {CONSOLE_PORT})",
        )
        parser.add_argument(
            "--simulator-port",
            type=int,
            default=settings.LIVEWARD_SIMULATOR_CONTROL_PORT,
            help="the stand-in node's control port (also LIVEWARD_SIMULATOR_CONTROL_PORT; "
            f"default: the first free one from {SIMULATOR_CONTROL_PORT})",
        )
        parser.add_argument("--workers", type=int, default=1, help="ASGI server processes")
        parser.add_argument(
            "--no-simulator",
            action="store_true",
            default=os.environ.get("LIVEWARD_SIMULATE", "1").lower() in {"0", "false", "no", "off"},
            help="do not start the stand-in media-server node (also LIVEWARD_SIMULATE=0)",
        )
        parser.add_argument(
            "--simulated-streams", type=int, default=int(os.environ.get("LIVEWARD_SIMULATED_STREAMS", "24"))
        )
        parser.add_argument("--no-demo", action="store_true", help="do not create demo accounts and publishers")

    def handle(self, *args, **options) -> None:
        self.stopping = False
        self.supervisor = Supervisor(
            policy=RestartPolicy(
                limit=settings.LIVEWARD_RESTART_LIMIT, window=float(settings.LIVEWARD_RESTART_WINDOW_SECONDS)
            ),
            log=self._log,
            error=self._error,
        )
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        try:
            self._choose_ports(options)
        except PortTaken as exc:
            raise CommandError(str(exc)) from exc
        try:
            self._start(options)
            status = self.supervisor.run(lambda: self.stopping)
        finally:
            self.supervisor.stop_all()
            self.stdout.write("· stopped")
        if status:
            raise CommandError(f"{self.supervisor.failed} could not be kept running; the console has stopped.")

    def _on_signal(self, signum, frame) -> None:
        self.stopping = True

    def _log(self, message: str) -> None:
        self.stdout.write(f"· {message}")
        self.stdout.flush()

    def _error(self, message: str) -> None:
        self.stderr.write(self.style.ERROR(f"! {message}"))
        self.stderr.flush()

    def _choose_ports(self, options) -> None:
        """Settle the console's and the stand-in node's ports before anything starts."""
        host = options["host"]
        options["port"] = choose_port(host, asked=options["port"], default=CONSOLE_PORT, name="LIVEWARD_PORT")
        if options["port"] != CONSOLE_PORT:
            self._log(f"the console listens on port {options['port']} (LIVEWARD_PORT or the first free one)")
        if not options["no_simulator"]:
            options["simulator_port"] = choose_port(
                "127.0.0.1",
                asked=options["simulator_port"],
                default=SIMULATOR_CONTROL_PORT,
                name="LIVEWARD_SIMULATOR_CONTROL_PORT",
                avoid=frozenset({options["port"]}),
            )
            self._log(f"the stand-in node answers on port {options['simulator_port']}")

    def _start(self, options) -> None:
        # Everything the console makes from here on (the SQLite files, media, exports) is the user's alone.
        make_private_by_default()
        tightened = tighten(settings.VAR_DIR, settings.MEDIA_ROOT)
        if tightened:
            self.stdout.write(f"· made {len(tightened)} files and directories private to this user")
        if settings.REDIS_IS_EMBEDDED:
            self.stdout.write(f"· embedded Redis on {settings.EMBEDDED_REDIS_SOCKET}")
            redis = EmbeddedRedis(settings.EMBEDDED_REDIS_SOCKET, log_path=settings.VAR_DIR / "redis.log")
            try:
                self.supervisor.add("redis", lambda: redis.start().process, cleanup=redis.stop, stop_stage=STOP_LAST)
            except RuntimeError as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write("· migrating the database")
        call_command("migrate", interactive=False, verbosity=0)
        if not options["no_demo"]:
            call_command("seed_demo", simulator_control_port=options["simulator_port"] or None)
            # Hand what the demo announced to the channel layer now, while the Redis is surely up:
            # at exit, with the Redis stopped, the outbox would wait its whole flush timeout.
            events.flush(10.0)

        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        server = server_command(host=options["host"], port=options["port"], workers=options["workers"])
        self._spawn("web", server, essential=True)
        self._spawn("worker", [python, "-m", "celery", "-A", "console", "worker", "-l", "INFO", "-c", "2"])
        # Beat reads its schedule from the database (django-celery-beat, CELERY_BEAT_SCHEDULER): audits'
        # schedules are edited on the audits page.
        beat = [python, "-m", "celery", "-A", "console", "beat", "-l", "INFO"]
        self._spawn("beat", [*beat, "--scheduler", settings.CELERY_BEAT_SCHEDULER])
        if not options["no_simulator"]:
            base_url = f"http://{options['host']}:{options['port']}"
            simulator = [python, manage, "simulate_streams", "--streams", str(options["simulated_streams"])]
            simulator += ["--control-port", str(options["simulator_port"])]
            self._spawn("simulator", [*simulator, "--gate-url", base_url], stop_stage=STOP_FIRST)
        self.stdout.write(
            self.style.SUCCESS(f"Liveward is starting at http://{options['host']}:{options['port']} — Ctrl-C stops it.")
        )

    def _spawn(
        self, name: str, command: list[str], *, essential: bool = False, stop_stage: int = STOP_TOGETHER
    ) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}

        def start() -> subprocess.Popen:
            # Its own session (process group): Ctrl-C reaches it only through us, in order, and
            # stopping it stops what it started.
            return subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, start_new_session=True)

        self.supervisor.add(name, start, essential=essential, stop_stage=stop_stage)
