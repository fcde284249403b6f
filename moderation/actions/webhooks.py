"""Notifications to the platform's backend: record, claim, mark delivered, retry, give up.

A notification is a ``WebhookDelivery`` row first and an HTTP request after the transaction commits,
so a rolled-back action tells the platform nothing and a committed one is retried until the
platform answers 2xx or ``LIVEWARD_WEBHOOK_MAX_ATTEMPTS`` is used up. With no
``LIVEWARD_PLATFORM_WEBHOOK_URL`` configured, deliveries are kept pending (no attempt is spent) and
go out once a URL is set. The HTTP side is ``moderation.webhooks``; see docs/webhooks.md.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.actions import log_staff_action
from moderation import permissions, task_queue
from moderation.backoff import backoff_delay
from moderation.errors import ModerationError
from moderation.models import WebhookDelivery

logger = logging.getLogger(__name__)

_EVENT_MAX_LENGTH = WebhookDelivery._meta.get_field("event").max_length

DELIVER_TASK = "moderation.tasks.webhooks.deliver_webhook"


def notify_platform(event: str, data: Mapping) -> WebhookDelivery:
    """Record a notification for the platform and send it once the current transaction commits."""
    if not event or len(event) > _EVENT_MAX_LENGTH:
        raise ModerationError(f"Bad webhook event name {event!r}.", code="invalid")
    # Dates, UUIDs and decimals become strings now, so the stored payload is what is sent.
    payload = json.loads(json.dumps(dict(data), cls=DjangoJSONEncoder))
    delivery = WebhookDelivery.objects.create(event=event, payload=payload, url=settings.LIVEWARD_PLATFORM_WEBHOOK_URL)
    delivery_id = delivery.pk
    transaction.on_commit(lambda: enqueue_webhook(delivery_id))
    return delivery


def notify_platform_many(event: str, payloads: list[Mapping]) -> list[WebhookDelivery]:
    """Record several notifications of one event in one statement; each is sent once the transaction commits."""
    if not event or len(event) > _EVENT_MAX_LENGTH:
        raise ModerationError(f"Bad webhook event name {event!r}.", code="invalid")
    url = settings.LIVEWARD_PLATFORM_WEBHOOK_URL
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(event=event, payload=json.loads(json.dumps(dict(data), cls=DjangoJSONEncoder)), url=url)
            for data in payloads
        ]
    )
    delivery_ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: [enqueue_webhook(delivery_id) for delivery_id in delivery_ids])
    return deliveries


def enqueue_webhook(delivery_id: int, *, countdown: float | None = None) -> None:
    """Queue the delivery task; if the broker is unreachable, leave it to ``retry_due_webhooks``."""
    if not settings.LIVEWARD_PLATFORM_WEBHOOK_URL:
        return
    try:
        task_queue.enqueue(DELIVER_TASK, delivery_id, countdown=countdown)
    except Exception:  # kombu raises several types; the row is committed and beat will retry it
        logger.warning("could not queue webhook delivery %s; the periodic retry will send it", delivery_id)


def claim_webhook_delivery(delivery_id: int) -> WebhookDelivery | None:
    """Take a due delivery for one attempt; None if it is not due, done, or already taken.

    The conditional UPDATE is the claim: it counts the attempt and moves the next attempt a lease
    away, so a second worker (a duplicate task, the periodic retry) finds nothing due and skips it.
    If this worker dies mid-attempt, the lease runs out and the delivery is due again.
    """
    url = settings.LIVEWARD_PLATFORM_WEBHOOK_URL
    if not url:
        return None
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + timedelta(seconds=webhook_lease_seconds()), url=url)
    if not claimed:
        return None
    return WebhookDelivery.objects.get(pk=delivery_id)


def webhook_lease_seconds() -> int:
    """Return how long a claimed delivery is left to its worker: well past one request's timeout."""
    return 2 * settings.LIVEWARD_WEBHOOK_TIMEOUT + 30


def mark_webhook_delivered(delivery: WebhookDelivery) -> bool:
    """Record that the platform accepted the delivery (answered 2xx); False if already recorded."""
    now = timezone.now()
    # A late 2xx after giving up is still the truth: the platform has it.
    updated = WebhookDelivery.objects.filter(
        pk=delivery.pk, status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.FAILED]
    ).update(status=WebhookDelivery.Status.DELIVERED, delivered_at=now, last_error="")
    if updated:
        delivery.status, delivery.delivered_at, delivery.last_error = WebhookDelivery.Status.DELIVERED, now, ""
    return bool(updated)


def delivery_retry_delay(attempts: int, *, jitter: float = 0.2) -> float:
    """Seconds before the next delivery attempt: 5, 10, 20 … capped at 30 minutes, ±20 % (docs/webhooks.md)."""
    return backoff_delay(attempts, base=5.0, cap=30 * 60.0, jitter=jitter)


def record_webhook_failure(delivery: WebhookDelivery, *, error: str) -> float | None:
    """Record a failed attempt; return the seconds until the next one, or None once given up.

    ``delivery`` is the claimed row: its ``attempts`` is this attempt's number. If another worker
    has claimed it since (this one outlived its lease), the newer attempt's outcome stands.
    """
    error = error[: WebhookDelivery._meta.get_field("last_error").max_length]
    current = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDelivery.Status.PENDING, attempts=delivery.attempts
    )
    if delivery.attempts >= settings.LIVEWARD_WEBHOOK_MAX_ATTEMPTS:
        with transaction.atomic():
            if current.update(status=WebhookDelivery.Status.FAILED, last_error=error):
                delivery.status, delivery.last_error = WebhookDelivery.Status.FAILED, error
                log_staff_action(
                    None,
                    "webhook.give_up",
                    target=delivery,
                    data={"event": delivery.event, "attempts": delivery.attempts, "error": error},
                )
        logger.error(
            "gave up webhook delivery %s (%s) after %s attempts: %s",
            delivery.pk,
            delivery.event,
            delivery.attempts,
            error,
        )
        return None
    delay = delivery_retry_delay(delivery.attempts)
    next_attempt_at = timezone.now() + timedelta(seconds=delay)
    if current.update(last_error=error, next_attempt_at=next_attempt_at):
        delivery.last_error, delivery.next_attempt_at = error, next_attempt_at
    logger.warning("webhook delivery %s attempt %s failed: %s", delivery.pk, delivery.attempts, error)
    return delay


def retry_webhook_now(delivery: WebhookDelivery, *, actor) -> WebhookDelivery:
    """Send a pending or given-up delivery again now (a compliance admin's "retry now"); a given-up one
    gets its full number of attempts back. A delivered one is left as it is."""
    permissions.check(actor, "webhooks.manage")
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        if delivery.status == WebhookDelivery.Status.DELIVERED:
            raise ModerationError("this notification was delivered already", code="invalid")
        fields = {"next_attempt_at": timezone.now(), "status": WebhookDelivery.Status.PENDING}
        if delivery.status == WebhookDelivery.Status.FAILED:
            fields["attempts"] = 0
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
        log_staff_action(actor, "webhook.retry_now", target=delivery, data={"event": delivery.event})
        delivery_id = delivery.pk
        transaction.on_commit(lambda: enqueue_webhook(delivery_id))
    delivery.refresh_from_db()
    return delivery
