"""A task round-trips through a real Celery worker, on the Redis broker and on RabbitMQ."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from contextlib import contextmanager

import pytest
from celery import Celery

from console.settings import BASE_DIR

AMQP_URL = os.environ.get("LIVEWARD_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")


@contextmanager
def worker(env_overrides: dict[str, str]):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "console.settings", **env_overrides}
    queue = f"test-{uuid.uuid4().hex[:8]}"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "console", "worker", "-P", "solo", "-Q", queue, "-l", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield queue
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def client_app(broker: str) -> Celery:
    from django.conf import settings

    app = Celery("liveward-test-client", broker=broker, backend=settings.CELERY_RESULT_BACKEND)
    app.conf.broker_connection_retry_on_startup = True
    return app


def test_ping_round_trips_through_a_worker_on_redis():
    from django.conf import settings

    with worker({}) as queue:
        app = client_app(settings.CELERY_BROKER_URL)
        token = uuid.uuid4().hex
        result = app.send_task("console.tasks.ping", args=[token], queue=queue)
        assert result.get(timeout=60)["token"] == token


def amqp_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=1):
            return True
    except OSError:
        return False


def test_ping_round_trips_through_a_worker_on_rabbitmq():
    if not amqp_reachable():
        if os.environ.get("CI"):
            pytest.fail("RabbitMQ is not reachable on 127.0.0.1:5672 in CI")
        pytest.skip("no RabbitMQ on 127.0.0.1:5672")
    with worker({"CELERY_BROKER_URL": AMQP_URL}) as queue:
        app = client_app(AMQP_URL)
        token = uuid.uuid4().hex
        result = app.send_task("console.tasks.ping", args=[token], queue=queue)
        assert result.get(timeout=60)["token"] == token


def test_every_task_on_the_beat_schedule_is_registered_in_a_worker():
    # What a worker registers: the app's autodiscovery, in a fresh process (as `celery -A console`).
    probe = (
        "import json, django; django.setup(); from console.celery import app; "
        "app.loader.import_default_modules(); print(json.dumps(sorted(app.tasks)))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "console.settings"}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    registered = set(json.loads(done.stdout.strip().splitlines()[-1]))
    from django.conf import settings

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled <= registered, sorted(scheduled - registered)
