"""Console-level Celery tasks."""

from django.utils import timezone

from celery import shared_task


@shared_task(name="console.tasks.ping")
def ping(token: str) -> dict:
    """Answer with the token, proving a round trip through broker, worker and result backend."""
    return {"token": token, "at": timezone.now().isoformat()}


@shared_task(name="console.tasks.heartbeat")
def heartbeat() -> str:
    """Record that beat and a worker are alive, for the console's health line."""
    from django.core.cache import cache

    now = timezone.now().isoformat()
    cache.set("liveward:beat-heartbeat", now, timeout=600)
    return now
