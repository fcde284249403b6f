"""Warning a publisher (警示): the action row, the staff log, and the signed notification to the platform."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from django.db import transaction

import pytest

from accounts.models import StaffActionLog
from moderation import actions
from moderation.models import ModerationAction, ReasonCode, WebhookDelivery
from moderation.tasks.webhooks import deliver_webhook
from tests.moderation.test_webhooks import SECRET, Receiver


@pytest.fixture
def stream(nginx_node, stream_key):
    return actions.open_stream(
        stream_key,
        published_name=stream_key.issued_key,
        node=nginx_node,
        app="live",
        client_id="7",
        addr="",
        title="深夜食堂直播",
    )


@pytest.fixture
def platform_receiver(settings):
    with Receiver() as running:
        settings.LIVEWARD_PLATFORM_WEBHOOK_URL = running.url
        settings.LIVEWARD_PLATFORM_WEBHOOK_SECRET = SECRET
        yield running


def nothing_written() -> bool:
    return (
        not ModerationAction.objects.exists()
        and not WebhookDelivery.objects.exists()
        and not StaffActionLog.objects.filter(verb="publisher.warn").exists()
    )


def test_a_warning_is_recorded_logged_and_sent_to_the_platform_signed(
    stream, patroller, platform_receiver, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(deliver_webhook, "apply_async", lambda args, **options: deliver_webhook.apply(args))
    with django_capture_on_commit_callbacks(execute=True):
        action = actions.warn_publisher(
            stream, actor=patroller, reason=ReasonCode.INSULT_DEFAMATION, note="辱骂观众", request_id="r-1"
        )

    action.refresh_from_db()
    assert action.kind == ModerationAction.Kind.WARN
    assert action.actor == patroller and action.stream == stream and action.publisher == stream.publisher
    assert action.reason == ReasonCode.INSULT_DEFAMATION and action.note == "辱骂观众"
    assert action.media_status == ModerationAction.MediaStatus.NOT_APPLICABLE
    log = StaffActionLog.objects.get(verb="publisher.warn")
    assert log.actor == patroller and log.data["action"] == action.pk and log.data["stream"] == stream.pk

    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "publisher.warned" and delivery.status == WebhookDelivery.Status.DELIVERED
    [request] = platform_receiver.requests
    assert request["verified"]
    assert request["headers"]["X-Liveward-Event"] == "publisher.warned"
    body = json.loads(request["body"])
    assert body["id"] == delivery.pk
    assert body["data"] == {
        "publisher": "acct-1001",
        "stream": stream.pk,
        "reason": "insult_defamation",
        "note": "辱骂观众",
        "action": action.pk,
        "at": body["data"]["at"],
    }
    assert abs(datetime.fromisoformat(body["data"]["at"]) - action.at) < timedelta(milliseconds=1)


def test_the_system_may_warn(stream):
    action = actions.warn_publisher(stream, actor=None, reason=ReasonCode.RUMOUR)
    assert action.actor is None and action.request_id is None
    assert WebhookDelivery.objects.get().payload["reason"] == "rumour"


def test_the_same_request_id_warns_once(stream, patroller):
    first = actions.warn_publisher(stream, actor=patroller, reason=ReasonCode.RUMOUR, request_id="r-1")
    again = actions.warn_publisher(stream, actor=patroller, reason=ReasonCode.FRAUD, request_id="r-1")
    assert again.pk == first.pk and again.replayed
    assert ModerationAction.objects.count() == 1 and WebhookDelivery.objects.count() == 1
    assert StaffActionLog.objects.filter(verb="publisher.warn").count() == 1


def test_another_actors_request_id_is_refused(stream, patroller, admin):
    actions.warn_publisher(stream, actor=patroller, reason=ReasonCode.RUMOUR, request_id="r-1")
    with pytest.raises(actions.ModerationError) as refused:
        actions.warn_publisher(stream, actor=admin, reason=ReasonCode.RUMOUR, request_id="r-1")
    assert refused.value.code == "request_id_taken"
    assert ModerationAction.objects.count() == 1 and WebhookDelivery.objects.count() == 1


def test_an_ended_stream_is_refused_and_nothing_is_written(stream, stream_key, nginx_node, patroller):
    actions.end_stream_session(node=nginx_node, client_id="7", key_name=stream_key.issued_key)
    with pytest.raises(actions.ModerationError) as refused:
        actions.warn_publisher(stream, actor=patroller, reason=ReasonCode.RUMOUR, request_id="r-1")
    assert refused.value.code == "stream_ended"
    assert nothing_written()


@pytest.mark.parametrize("reason", ["", "bad_vibes", ReasonCode.PATROLLED])
def test_a_bad_reason_is_refused_and_nothing_is_written(stream, patroller, reason):
    with pytest.raises(actions.ModerationError) as refused:
        actions.warn_publisher(stream, actor=patroller, reason=reason, request_id="r-1")
    assert refused.value.code == "bad_field"
    assert nothing_written()


def test_a_rolled_back_warning_sends_nothing(stream, patroller, platform_receiver, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        actions.warn_publisher(stream, actor=patroller, reason=ReasonCode.RUMOUR, request_id="r-1")
        raise RuntimeError("the caller failed after warning")
    assert callbacks == [] and platform_receiver.requests == []
    assert nothing_written()
