"""Lifting a measure from the publisher page, and the page of notifications to the platform."""

from __future__ import annotations

from django.urls import reverse

import pytest

from moderation import actions
from moderation.models import ModerationAction, Publisher, ReasonCode, StreamKey, WebhookDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def stream(nginx_node, stream_key):
    return actions.open_stream(
        stream_key,
        published_name=stream_key.issued_key,
        node=nginx_node,
        app="live",
        client_id="7",
        addr="",
        title="深夜食堂",
    )


def test_a_compliance_admin_lifts_a_cooling_off_from_the_publisher_page(client, stream, patroller, admin):
    actions.block_stream(stream, actor=patroller, reason=ReasonCode.PORNOGRAPHY)
    client.force_login(admin)
    page = client.get(reverse("console:publisher", args=[stream.publisher_id])).content.decode()
    assert 'id="lift-form"' in page and 'value="cooling_off"' in page and 'value="suspension"' not in page

    url = reverse("console:publisher-lift", args=[stream.publisher_id])
    assert client.post(url, {"measure": "cooling_off", "note": ""}).status_code == 302
    assert Publisher.objects.get(pk=stream.publisher_id).cooling_off_until is not None  # no reason: nothing lifted
    assert client.post(url, {"measure": "cooling_off", "note": "复核后提前解除"}).status_code == 302
    assert Publisher.objects.get(pk=stream.publisher_id).cooling_off_until is None
    assert StreamKey.objects.get(pk=stream.key_id).denied_until is None
    lift = ModerationAction.objects.get(kind="lift")
    assert (lift.actor, lift.note) == (admin, "复核后提前解除")
    assert WebhookDelivery.objects.filter(event="publisher.lifted").count() == 1


def test_the_editor_in_chief_lifts_a_suspension(client, stream, patroller, editor_in_chief):
    actions.suspend_publisher(stream, actor=patroller, reason=ReasonCode.RUMOUR, minutes=60)
    client.force_login(editor_in_chief)
    url = reverse("console:publisher-lift", args=[stream.publisher_id])
    assert client.post(url, {"measure": "suspension", "note": "误判"}).status_code == 302
    assert Publisher.objects.get(pk=stream.publisher_id).status == Publisher.Status.ACTIVE


def test_a_patroller_may_not_lift(client, stream, patroller):
    actions.block_stream(stream, actor=patroller, reason=ReasonCode.PORNOGRAPHY)
    client.force_login(patroller)
    url = reverse("console:publisher-lift", args=[stream.publisher_id])
    assert client.post(url, {"measure": "cooling_off", "note": "想解除"}).status_code == 403
    assert Publisher.objects.get(pk=stream.publisher_id).cooling_off_until is not None


def test_lifting_what_is_not_running_changes_nothing(client, stream, admin):
    client.force_login(admin)
    url = reverse("console:publisher-lift", args=[stream.publisher_id])
    for measure in ("cooling_off", "suspension", "closure"):
        assert client.post(url, {"measure": measure, "note": "无"}).status_code == 302
    assert not ModerationAction.objects.filter(kind="lift").exists()


def test_the_delivery_page_lists_by_status_and_retries_a_given_up_one(client, admin, inspector, settings):
    settings.LIVEWARD_PLATFORM_WEBHOOK_URL = ""
    pending = actions.notify_platform("publisher.warned", {"stream": 1})
    failed = actions.notify_platform("stream.blocked", {"stream": 2})
    WebhookDelivery.objects.filter(pk=failed.pk).update(status="failed", attempts=12, last_error="HTTP 500")
    client.force_login(admin)
    page = client.get(reverse("console:webhooks"), {"status": "failed"}).content.decode()
    assert "stream.blocked" in page and "publisher.warned" not in page and "HTTP 500" in page

    assert client.post(reverse("console:webhooks"), {"delivery": failed.pk}).status_code == 302
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)
    WebhookDelivery.objects.filter(pk=pending.pk).update(status="delivered")
    client.post(reverse("console:webhooks"), {"delivery": pending.pk})
    assert WebhookDelivery.objects.get(pk=pending.pk).status == "delivered"

    client.force_login(inspector)
    assert client.get(reverse("console:webhooks")).status_code == 200
    assert client.post(reverse("console:webhooks"), {"delivery": failed.pk}).status_code == 403
