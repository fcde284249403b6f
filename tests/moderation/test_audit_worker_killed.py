"""An audit whose worker is SIGKILLed mid-run runs again to completion without duplicating findings.

Real processes, a real broker: a Celery worker (``celery -A console worker``, solo pool) on
RabbitMQ takes the patrol-coverage audit over enough unwatched streams that it writes its findings
in several committed chunks; the test kills that worker with SIGKILL once the first chunk is in
and the run is not finished. The task is ``acks_late``, so the broker still holds its message and
hands it, redelivered with the same task id, to a second worker, which carries on with the same run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta

from django.db import connection
from django.utils import timezone

import pytest
from celery import Celery

from console.settings import BASE_DIR
from moderation.audit_catalogue import RUN_AUDIT_TASK
from moderation.models import AuditRun, Finding, Stream, StreamKey, hash_stream_key
from tests.console.test_celery import AMQP_URL, amqp_reachable

# A separate process must see the seeded rows and the test must see the worker's: committed data.
pytestmark = pytest.mark.django_db(transaction=True)

UNWATCHED = 4000  # eight chunks of findings (moderation.actions.audits.FINDINGS_CHUNK)


def database_url() -> str:
    """The URL of the test database, for the worker processes."""
    given = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{given['NAME']}"
    host, port = given.get("HOST") or "127.0.0.1", given.get("PORT") or 5432
    password = f":{given['PASSWORD']}" if given.get("PASSWORD") else ""
    return f"postgres://{given['USER']}{password}@{host}:{port}/{given['NAME']}"


def start_worker(queue: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "console.settings",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": AMQP_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "console", "worker", "-P", "solo", "-Q", queue, "-l", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(condition, *, timeout: float, what: str, interval: float = 0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def seed_unwatched_streams(publisher, category, node, count: int) -> None:
    """``count`` live streams started 20 minutes ago and never watched (bulk: the volume is the point)."""
    keys = StreamKey.objects.bulk_create(
        [
            StreamKey(
                key_hash=hash_stream_key(f"killed-run-{index:05d}"),
                key_prefix="killed",
                publisher=publisher,
                category=category,
            )
            for index in range(count)
        ]
    )
    started = timezone.now() - timedelta(minutes=20)
    common = {"publisher": publisher, "category": category, "node": node, "app": "live", "started_at": started}
    Stream.objects.bulk_create([Stream(key=key, client_id=str(index), **common) for index, key in enumerate(keys)])


def test_a_killed_audit_runs_again_to_completion_without_duplicating_findings(publisher, entertainment, nginx_node):
    if not amqp_reachable():
        if os.environ.get("CI"):
            pytest.fail("RabbitMQ is not reachable on 127.0.0.1:5672 in CI")
        pytest.skip("no RabbitMQ on 127.0.0.1:5672")
    seed_unwatched_streams(publisher, entertainment, nginx_node, UNWATCHED)
    queue, task_id = f"test-killed-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    client = Celery("liveward-test-client", broker=AMQP_URL)
    first = start_worker(queue)
    second = None
    try:
        client.send_task(RUN_AUDIT_TASK, args=["patrol_coverage"], queue=queue, task_id=task_id)
        wait_for(
            lambda: AuditRun.objects.filter(task_id=task_id, findings_new__gt=0).exists(),
            timeout=120,
            what="the first chunk of findings",
        )
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=15)
        killed = AuditRun.objects.get(task_id=task_id)
        found_before = Finding.objects.filter(audit="patrol_coverage").count()
        assert killed.finished_at is None and killed.attempts == 1  # killed mid-run, not after it
        assert 0 < found_before < UNWATCHED

        second = start_worker(queue)  # the broker redelivers the unacknowledged message to it
        run = wait_for(
            lambda: AuditRun.objects.filter(task_id=task_id, finished_at__isnull=False).first(),
            timeout=180,
            what="the redelivered run to finish",
            interval=0.2,
        )
    finally:
        stop(first)
        if second is not None:
            stop(second)
        with client.connection_for_write() as broker:
            broker.default_channel.queue_delete(queue)
    assert AuditRun.objects.filter(audit="patrol_coverage").count() == 1  # the same run, carried on
    assert run.attempts == 2 and run.outcome == AuditRun.Outcome.FINDINGS
    assert run.summary == {"live": UNWATCHED, "overdue": UNWATCHED, "covered": 0}
    findings = Finding.objects.filter(audit="patrol_coverage")
    assert findings.count() == UNWATCHED == run.findings_new and run.findings_seen == 0
    assert set(findings.values_list("times_seen", flat=True)) == {1}
    assert findings.values("stream").distinct().count() == UNWATCHED
    assert not findings.exclude(first_run=run).exists() and not findings.exclude(last_run=run).exists()
