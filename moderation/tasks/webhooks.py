"""Deliver notifications to the platform's backend, and pick up the ones that are due again."""

from __future__ import annotations

from datetime import UTC

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from celery import shared_task

from moderation import webhook_signing
from moderation.actions import webhooks as webhook_actions
from moderation.models import WebhookDelivery

# Deliveries re-queued per run of the periodic retry; the rest wait for the next run.
RETRY_BATCH = 500


@shared_task(name="moderation.tasks.webhooks.deliver_webhook", acks_late=True, ignore_result=True)
def deliver_webhook(delivery_id: int) -> str:
    """Make one attempt at a due delivery; safe to run twice (the claim lets one worker through)."""
    delivery = webhook_actions.claim_webhook_delivery(delivery_id)
    if delivery is None:
        return "skipped"
    body = webhook_signing.build_body(
        delivery_id=delivery.pk,
        event=delivery.event,
        created_at=DjangoJSONEncoder().default(delivery.created_at.astimezone(UTC)),
        data=delivery.payload,
    )
    headers = webhook_signing.signed_headers(
        settings.LIVEWARD_PLATFORM_WEBHOOK_SECRET,
        event=delivery.event,
        delivery_id=delivery.pk,
        body=body,
        timestamp=int(timezone.now().timestamp()),  # each attempt signed afresh: a retry is no replay
    )
    result = webhook_signing.post(delivery.url, body, headers, timeout=settings.LIVEWARD_WEBHOOK_TIMEOUT)
    if result.ok:
        webhook_actions.mark_webhook_delivered(delivery)
        return "delivered"
    delay = webhook_actions.record_webhook_failure(delivery, error=result.error)
    if delay is None:
        return "failed"
    webhook_actions.enqueue_webhook(delivery.pk, countdown=delay)
    return "retrying"


@shared_task(name="moderation.tasks.webhooks.retry_due_webhooks", ignore_result=True)
def retry_due_webhooks() -> int:
    """Queue every pending delivery that is due: after a worker died mid-attempt or the broker was down."""
    if not settings.LIVEWARD_PLATFORM_WEBHOOK_URL:
        return 0
    due = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now())
    delivery_ids = list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:RETRY_BATCH])
    for delivery_id in delivery_ids:
        webhook_actions.enqueue_webhook(delivery_id)
    return len(delivery_ids)
