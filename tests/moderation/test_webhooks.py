"""Signed, retried notifications to the platform, against a real local HTTP receiver."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.db import connection, transaction
from django.utils import timezone

import pytest
from kombu.exceptions import OperationalError

from accounts.models import StaffActionLog
from moderation import actions, webhook_signing
from moderation.actions.webhooks import delivery_retry_delay
from moderation.models import WebhookDelivery
from moderation.tasks.webhooks import deliver_webhook, retry_due_webhooks
from tests.console.test_settings import start

SECRET = "platform-shared-secret-for-tests"
Status = WebhookDelivery.Status


class Receiver:
    """The platform's backend: a local HTTP server that checks each request's signature with ``verify``.

    ``answers`` is the script of replies, one per request (an HTTP status, or "hang" to never
    answer); after it runs out, every request gets 200.
    """

    def __init__(self, answers: list[int | str] | None = None, *, hold: float = 0.0) -> None:
        self.answers = list(answers or [])
        self.hold = hold
        self.requests: list[dict] = []
        self.released = threading.Event()
        self.lock = threading.Lock()
        # Each attempt is signed afresh, so a receiver that refuses replays accepts every retry.
        self.replay_guard = webhook_signing.ReplayGuard()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.requests.append(
                        {
                            "path": self.path,
                            "headers": dict(self.headers.items()),
                            "body": body,
                            "verified": webhook_signing.verify(
                                SECRET, self.headers, body, replay_guard=receiver.replay_guard
                            ),
                        }
                    )
                    answer = receiver.answers.pop(0) if receiver.answers else 200
                if answer == "hang":
                    receiver.released.wait(30)
                    return
                time.sleep(receiver.hold)
                self.send_response(int(answer))
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if answer == 200 else b"receiver says no")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/liveward/hooks?v=1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    with Receiver() as running:
        settings.LIVEWARD_PLATFORM_WEBHOOK_URL = running.url
        settings.LIVEWARD_PLATFORM_WEBHOOK_SECRET = SECRET
        yield running


@pytest.fixture
def enqueued(monkeypatch):
    """Record what would go to the broker instead of sending it."""
    calls: list[dict] = []

    def apply_async(args=None, kwargs=None, **options):
        calls.append({"args": tuple(args or ()), **options})

    monkeypatch.setattr(deliver_webhook, "apply_async", apply_async)
    return calls


@pytest.fixture
def clock(monkeypatch):
    """Let a test move ``timezone.now`` forward instead of sleeping."""

    class Clock:
        offset = timedelta()

        def advance(self, seconds: float) -> None:
            self.offset += timedelta(seconds=seconds)

    real_now = timezone.now
    moved = Clock()
    monkeypatch.setattr(timezone, "now", lambda: real_now() + moved.offset)
    return moved


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- signing ----------------------------------------------------------------------------------


def signed(body: bytes = b'{"id":1}', timestamp: int | None = None) -> dict[str, str]:
    return webhook_signing.signed_headers(
        SECRET, event="publisher.warned", delivery_id=1, body=body, timestamp=timestamp
    )


def test_sign_is_t_and_v1_the_hmac_sha256_of_timestamp_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), b"1700000000.{}", hashlib.sha256).hexdigest()
    assert webhook_signing.sign(SECRET, 1700000000, b"{}") == f"t=1700000000,v1={expected}"
    assert webhook_signing.sign(SECRET, "1700000000", "{}") == f"t=1700000000,v1={expected}"
    old = hmac.new(b"old-secret", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert webhook_signing.sign(["old-secret", SECRET], 1700000000, b"{}") == f"t=1700000000,v1={old},v1={expected}"


def test_verify_accepts_a_fresh_signed_request_with_any_header_case():
    headers = signed()
    assert "X-Liveward-Timestamp" not in headers  # the time is signed inside the signature header
    assert webhook_signing.verify(SECRET, headers, b'{"id":1}')
    assert webhook_signing.verify(SECRET, {name.lower(): value for name, value in headers.items()}, b'{"id":1}')
    assert webhook_signing.verify(["old-secret", SECRET], headers, b'{"id":1}')


def test_verify_accepts_a_request_signed_with_the_old_and_the_new_secret_while_rotating():
    headers = webhook_signing.signed_headers(["old-secret", SECRET], event="e", delivery_id=1, body=b"{}")
    assert webhook_signing.verify(SECRET, headers, b"{}")
    assert webhook_signing.verify("old-secret", headers, b"{}")
    assert not webhook_signing.verify("third-secret", headers, b"{}")


def _with_signature(headers: dict[str, str], value: str) -> dict[str, str]:
    return {**headers, "X-Liveward-Signature": value}


def _retimed(headers: dict[str, str]) -> dict[str, str]:
    # The same digest under another time: the time is signed, so this must fail.
    t, v1 = headers["X-Liveward-Signature"].split(",")
    return _with_signature(headers, f"t={int(t[2:]) - 1},{v1}")


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda h, b: (_with_signature(h, f"t={int(time.time())},v1=" + "0" * 64), b), id="bad-digest"),
        pytest.param(lambda h, b: (_with_signature(h, h["X-Liveward-Signature"].split(",")[1]), b), id="no-time"),
        pytest.param(lambda h, b: (_with_signature(h, h["X-Liveward-Signature"].split(",")[0]), b), id="no-digest"),
        pytest.param(
            lambda h, b: (_with_signature(h, h["X-Liveward-Signature"].replace("v1=", "v0=")), b), id="scheme"
        ),
        pytest.param(lambda h, b: (_with_signature(h, h["X-Liveward-Signature"] + "," * 2000), b), id="too-long"),
        pytest.param(lambda h, b: (h, b'{"id":2}'), id="changed-body"),
        pytest.param(lambda h, b: (_retimed(h), b), id="changed-time"),
        pytest.param(lambda h, b: ({k: v for k, v in h.items() if k != "X-Liveward-Signature"}, b), id="unsigned"),
    ],
)
def test_verify_rejects_a_tampered_request(tamper):
    headers, body = tamper(signed(), b'{"id":1}')
    assert not webhook_signing.verify(SECRET, headers, body)


def test_verify_rejects_another_secret():
    assert not webhook_signing.verify("another-secret-entirely", signed(), b'{"id":1}')


def test_verify_rejects_a_stale_or_future_timestamp():
    now = time.time()
    old = signed(timestamp=int(now) - 301)
    assert not webhook_signing.verify(SECRET, old, b'{"id":1}', now=now)
    assert webhook_signing.verify(SECRET, signed(timestamp=int(now) - 299), b'{"id":1}', now=now)
    assert webhook_signing.verify(SECRET, old, b'{"id":1}', now=now, tolerance=600)
    assert not webhook_signing.verify(SECRET, signed(timestamp=int(now) + 301), b'{"id":1}', now=now)


def test_verify_with_a_replay_guard_accepts_each_signature_once():
    guard = webhook_signing.ReplayGuard()
    now = time.time()
    headers = signed(timestamp=int(now))
    assert webhook_signing.verify(SECRET, headers, b'{"id":1}', now=now, replay_guard=guard)
    assert not webhook_signing.verify(SECRET, headers, b'{"id":1}', now=now + 1, replay_guard=guard)
    # A retry is signed afresh (another time): it is not a replay.
    retry = signed(timestamp=int(now) + 5)
    assert webhook_signing.verify(SECRET, retry, b'{"id":1}', now=now + 5, replay_guard=guard)
    # A forged or stale request does not fill the guard, and is refused before it.
    assert not webhook_signing.verify("wrong-secret", signed(timestamp=int(now) + 6), b"x", replay_guard=guard)


def test_the_replay_guard_forgets_what_the_tolerance_already_refuses():
    guard = webhook_signing.ReplayGuard(tolerance=300)
    assert guard.first_time("100.abc", now=1000.0)
    assert not guard.first_time("100.abc", now=1599.0)
    assert guard.first_time("100.abc", now=1601.0)  # by then verify refuses it as stale anyway


def test_the_verifier_in_the_docs_behaves_like_ours():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(code, "docs/webhooks.md", "exec"), namespace)  # the verifier the platform copies
    verify_request = namespace["verify_request"]
    now = int(time.time())
    headers = signed(timestamp=now)
    assert verify_request(SECRET, headers, b'{"id":1}')
    assert not verify_request(SECRET, headers, b'{"id":1}')  # replayed
    assert not verify_request(SECRET, signed(timestamp=now - 301), b'{"id":1}')  # stale
    assert not verify_request(SECRET, signed(timestamp=now + 1), b'{"id":2}')  # another body
    assert not verify_request("other-secret-entirely", signed(timestamp=now + 2), b'{"id":1}')


def test_body_is_canonical_json_keeping_chinese_readable():
    body = webhook_signing.build_body(
        delivery_id=7,
        event="publisher.warned",
        created_at="2026-01-01T00:00:00+00:00",
        data={"note": "请注意言辞", "b": 1, "a": 2},
    )
    assert (
        body
        == (
            '{"created_at":"2026-01-01T00:00:00+00:00","data":{"a":2,"b":1,"note":"请注意言辞"},'
            '"event":"publisher.warned","id":7}'
        ).encode()
    )


def test_backoff_doubles_from_five_seconds_up_to_thirty_minutes_with_jitter():
    assert [delivery_retry_delay(n, jitter=0) for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert delivery_retry_delay(11, jitter=0) == 1800
    assert delivery_retry_delay(1000, jitter=0) == 1800
    waits = {delivery_retry_delay(3) for _ in range(50)}
    assert len(waits) > 1 and all(16 <= wait <= 24 for wait in waits)


# --- recording and enqueueing -------------------------------------------------------------------


def test_notify_platform_enqueues_on_commit_only(db, receiver, enqueued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        delivery = actions.notify_platform("publisher.warned", {"at": timezone.now(), "stream": 5})
    assert len(callbacks) == 1
    assert enqueued == [{"args": (delivery.pk,), "countdown": None}]
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and delivery.attempts == 0 and delivery.url == receiver.url
    assert isinstance(delivery.payload["at"], str)  # dates stored as ISO 8601, as sent


def test_a_rolled_back_notification_leaves_no_row_and_enqueues_nothing(
    db, receiver, enqueued, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        actions.notify_platform("publisher.warned", {"stream": 5})
        raise RuntimeError("the action failed after notifying")
    assert callbacks == [] and enqueued == []
    assert not WebhookDelivery.objects.exists()


def test_a_broker_outage_does_not_fail_the_action(db, receiver, monkeypatch, django_capture_on_commit_callbacks):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis")

    monkeypatch.setattr(deliver_webhook, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = actions.notify_platform("publisher.warned", {"stream": 5})
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == Status.PENDING


def test_a_bad_event_name_is_refused(db):
    with pytest.raises(actions.ModerationError):
        actions.notify_platform("", {})
    with pytest.raises(actions.ModerationError):
        actions.notify_platform("x" * 65, {})


# --- delivery ---------------------------------------------------------------------------------


def test_a_delivery_arrives_signed_and_is_marked_delivered(db, receiver, enqueued):
    delivery = actions.notify_platform("publisher.warned", {"publisher": "acct-1001", "note": "请注意"})
    assert deliver_webhook.apply(args=(delivery.pk,)).get() == "delivered"

    [request] = receiver.requests
    assert request["verified"]
    assert request["path"] == "/liveward/hooks?v=1"
    assert request["headers"]["X-Liveward-Event"] == "publisher.warned"
    assert request["headers"]["X-Liveward-Delivery"] == str(delivery.pk)
    assert request["headers"]["Content-Type"] == "application/json; charset=utf-8"
    body = json.loads(request["body"])
    assert body["id"] == delivery.pk and body["event"] == "publisher.warned"
    assert body["data"] == {"publisher": "acct-1001", "note": "请注意"}
    assert body["created_at"].endswith("Z")  # UTC, as every time the platform gets

    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED and delivery.attempts == 1 and delivery.delivered_at
    # Delivered is final: running the task again (a duplicate message) sends nothing.
    assert deliver_webhook(delivery.pk) == "skipped"
    assert len(receiver.requests) == 1


def test_a_refusal_is_retried_with_backoff_and_delivered_on_the_second_attempt(db, receiver, enqueued, clock):
    receiver.answers = [500]
    delivery = actions.notify_platform("publisher.warned", {"stream": 5})

    before = timezone.now()
    assert deliver_webhook(delivery.pk) == "retrying"
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and delivery.attempts == 1
    assert delivery.last_error == "HTTP 500 receiver says no"
    assert timedelta(seconds=4) <= delivery.next_attempt_at - before <= timedelta(seconds=6.5)
    [retry] = enqueued
    assert retry["args"] == (delivery.pk,) and 4 <= retry["countdown"] <= 6

    # Not due yet: a duplicate or early message does nothing.
    assert deliver_webhook(delivery.pk) == "skipped"
    assert len(receiver.requests) == 1

    clock.advance(7)
    assert deliver_webhook(delivery.pk) == "delivered"
    first, second = receiver.requests
    assert first["verified"] and second["verified"]
    assert first["body"] == second["body"]
    assert first["headers"]["X-Liveward-Delivery"] == second["headers"]["X-Liveward-Delivery"]
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED and delivery.attempts == 2 and delivery.last_error == ""


def test_a_delivery_is_given_up_after_max_attempts(db, receiver, enqueued, clock, settings):
    settings.LIVEWARD_WEBHOOK_MAX_ATTEMPTS = 3
    receiver.answers = [503, 503, 503, 503]
    delivery = actions.notify_platform("publisher.warned", {"stream": 5})

    outcomes = []
    for _attempt in range(4):
        outcomes.append(deliver_webhook(delivery.pk))
        clock.advance(3600)
    assert outcomes == ["retrying", "retrying", "failed", "skipped"]
    assert len(receiver.requests) == 3
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED and delivery.attempts == 3
    assert delivery.last_error.startswith("HTTP 503")
    assert StaffActionLog.objects.filter(verb="webhook.give_up", target_id=str(delivery.pk)).exists()
    assert retry_due_webhooks() == 0


def test_a_receiver_that_is_down_is_retried(db, settings, enqueued):
    settings.LIVEWARD_PLATFORM_WEBHOOK_URL = f"http://127.0.0.1:{free_port()}/hooks"
    settings.LIVEWARD_PLATFORM_WEBHOOK_SECRET = SECRET
    delivery = actions.notify_platform("publisher.warned", {"stream": 5})
    assert deliver_webhook(delivery.pk) == "retrying"
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and delivery.last_error == "connection refused"


def test_a_receiver_that_hangs_is_cut_off_at_the_timeout(db, receiver, enqueued, settings):
    settings.LIVEWARD_WEBHOOK_TIMEOUT = 1
    receiver.answers = ["hang"]
    delivery = actions.notify_platform("publisher.warned", {"stream": 5})
    started = time.monotonic()
    assert deliver_webhook(delivery.pk) == "retrying"
    assert time.monotonic() - started < 3
    delivery.refresh_from_db()
    assert delivery.last_error == "timed out after 1 s"


def test_without_a_url_deliveries_wait_and_go_out_once_one_is_set(db, settings, enqueued):
    settings.LIVEWARD_PLATFORM_WEBHOOK_URL = ""
    delivery = actions.notify_platform("publisher.warned", {"stream": 5})
    assert deliver_webhook(delivery.pk) == "skipped"
    assert retry_due_webhooks() == 0
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and delivery.attempts == 0 and delivery.url == ""

    with Receiver() as running:
        settings.LIVEWARD_PLATFORM_WEBHOOK_URL = running.url
        settings.LIVEWARD_PLATFORM_WEBHOOK_SECRET = SECRET
        assert retry_due_webhooks() == 1
        assert deliver_webhook(delivery.pk) == "delivered"
        assert running.requests[0]["verified"]
    delivery.refresh_from_db()
    assert delivery.url == running.url


def test_the_periodic_retry_queues_only_due_pending_deliveries(db, receiver, enqueued, clock):
    due = actions.notify_platform("publisher.warned", {"stream": 1})
    later = actions.notify_platform("publisher.warned", {"stream": 2})
    done = actions.notify_platform("publisher.warned", {"stream": 3})
    WebhookDelivery.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    WebhookDelivery.objects.filter(pk=done.pk).update(status=Status.DELIVERED)
    assert retry_due_webhooks() == 1
    assert enqueued == [{"args": (due.pk,), "countdown": None}]


def test_a_claimed_delivery_whose_worker_died_is_due_again_after_the_lease(db, receiver, enqueued, clock):
    delivery = actions.notify_platform("publisher.warned", {"stream": 5})
    assert actions.claim_webhook_delivery(delivery.pk) is not None  # ... and the worker dies here
    assert retry_due_webhooks() == 0 and deliver_webhook(delivery.pk) == "skipped"
    clock.advance(actions.webhooks.webhook_lease_seconds() + 1)
    assert retry_due_webhooks() == 1
    assert deliver_webhook(delivery.pk) == "delivered"
    assert WebhookDelivery.objects.get(pk=delivery.pk).attempts == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_post_a_delivery_once(settings, enqueued):
    with Receiver(hold=0.3) as running:
        settings.LIVEWARD_PLATFORM_WEBHOOK_URL = running.url
        settings.LIVEWARD_PLATFORM_WEBHOOK_SECRET = SECRET
        delivery = actions.notify_platform("publisher.warned", {"stream": 5})
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def worker() -> None:
            try:
                barrier.wait()
                outcomes.append(deliver_webhook(delivery.pk))
            finally:
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(outcomes) == ["delivered", "skipped"]
        assert len(running.requests) == 1
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED and delivery.attempts == 1


# --- settings -----------------------------------------------------------------------------------


def test_a_webhook_url_without_a_secret_stops_start_up():
    result = start({"LIVEWARD_PLATFORM_WEBHOOK_URL": "https://platform.example/hooks"})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "LIVEWARD_PLATFORM_WEBHOOK_SECRET" in result.stderr


@pytest.mark.parametrize(
    ("env", "named"),
    [
        (
            {"LIVEWARD_PLATFORM_WEBHOOK_URL": "ftp://platform.example/", "LIVEWARD_PLATFORM_WEBHOOK_SECRET": SECRET},
            "LIVEWARD_PLATFORM_WEBHOOK_URL",
        ),
        (
            {"LIVEWARD_PLATFORM_WEBHOOK_URL": "https://platform.example/", "LIVEWARD_PLATFORM_WEBHOOK_SECRET": "short"},
            "LIVEWARD_PLATFORM_WEBHOOK_SECRET",
        ),
        ({"LIVEWARD_WEBHOOK_MAX_ATTEMPTS": "0"}, "LIVEWARD_WEBHOOK_MAX_ATTEMPTS"),
        ({"LIVEWARD_WEBHOOK_TIMEOUT": "soon"}, "LIVEWARD_WEBHOOK_TIMEOUT"),
    ],
)
def test_bad_webhook_settings_stop_start_up(env, named):
    result = start(env)
    assert result.returncode != 0
    assert named in result.stderr


def test_the_webhook_secret_may_come_from_a_file(tmp_path):
    secret_file = tmp_path / "webhook-secret"
    secret_file.write_text(SECRET + "\n")
    result = start(
        {
            "LIVEWARD_PLATFORM_WEBHOOK_URL": "https://platform.example/hooks",
            "LIVEWARD_PLATFORM_WEBHOOK_SECRET_FILE": str(secret_file),
        }
    )
    assert result.returncode == 0, result.stderr
