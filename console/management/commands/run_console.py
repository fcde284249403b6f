"""Run the whole console under one parent: embedded Redis, ASGI server, Celery worker and beat, simulator.

Ctrl-C (or SIGTERM) stops every child, then the embedded Redis. If one child dies, the rest are
stopped too, so a half-running console never pretends to be up.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from console.embedded import EmbeddedRedis


class Command(BaseCommand):
    help = "Start the console: embedded Redis (if REDIS_URL is unset), ASGI server, Celery worker and beat."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=os.environ.get("LIVEWARD_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("LIVEWARD_PORT", "8000")))
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
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.redis: EmbeddedRedis | None = None
        self.stopping = False
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        try:
            self._start(options)
            self._watch()
        finally:
            self._stop_all()

    def _on_signal(self, signum, frame) -> None:
        self.stopping = True

    def _start(self, options) -> None:
        if settings.REDIS_IS_EMBEDDED:
            self.stdout.write(f"· embedded Redis on {settings.EMBEDDED_REDIS_SOCKET}")
            try:
                self.redis = EmbeddedRedis(
                    settings.EMBEDDED_REDIS_SOCKET, log_path=settings.VAR_DIR / "redis.log"
                ).start()
            except RuntimeError as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write("· migrating the database")
        call_command("migrate", interactive=False, verbosity=0)
        if not options["no_demo"]:
            call_command("seed_demo")

        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        server = [
            python, "-m", "uvicorn", "console.asgi:application",
            "--host", options["host"], "--port", str(options["port"]),
            "--workers", str(options["workers"]), "--no-access-log", "--lifespan", "off",
        ]  # fmt: skip
        self._spawn("web", server, env)
        self._spawn("worker", [python, "-m", "celery", "-A", "console", "worker", "-l", "INFO", "-c", "2"], env)
        self._spawn(
            "beat",
            [
                python,
                "-m",
                "celery",
                "-A",
                "console",
                "beat",
                "-l",
                "INFO",
                "-s",
                settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
            env,
        )
        if not options["no_simulator"]:
            base_url = f"http://{options['host']}:{options['port']}"
            simulator = [python, manage, "simulate_streams", "--streams", str(options["simulated_streams"])]
            self._spawn("simulator", [*simulator, "--gate-url", base_url], env)
        self.stdout.write(
            self.style.SUCCESS(f"Liveward is starting at http://{options['host']}:{options['port']} — Ctrl-C stops it.")
        )

    def _spawn(self, name: str, command: list[str], env: dict) -> None:
        # Each child gets its own process group so Ctrl-C reaches it only through us, in order.
        process = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, start_new_session=True)
        self.children.append((name, process))

    def _watch(self) -> None:
        while not self.stopping:
            for name, process in self.children:
                code = process.poll()
                if code is not None:
                    self.stderr.write(f"{name} exited with code {code}; stopping the console")
                    self.stopping = True
                    break
            time.sleep(0.3)

    def _stop_all(self) -> None:
        for _name, process in reversed(self.children):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for _name, process in self.children:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self.redis is not None:
            self.redis.stop()
        self.stdout.write("· stopped")
