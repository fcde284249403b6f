"""Credit on schedule: the nightly earn-back for clean broadcasting hours, and charges left unsettled."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from moderation import actions


@shared_task(name="moderation.tasks.credit.nightly_earn_back", acks_late=True, ignore_result=True)
def nightly_earn_back(night: str | None = None) -> int:
    """Give back points for yesterday's (or ``night``'s, ISO date) clean broadcasting; safe to run twice."""
    return actions.nightly_earn_back(date.fromisoformat(night) if night else None)


@shared_task(name="moderation.tasks.credit.settle_credit_charges", acks_late=True, ignore_result=True)
def settle_credit_charges() -> int:
    """Charge the cutting actions whose charge after the cut never happened; safe to run twice."""
    return actions.settle_credit_charges()


@shared_task(name="moderation.tasks.credit.recompute_credit_levels", acks_late=True, ignore_result=True)
def recompute_credit_levels(version: int) -> int:
    """Give every publisher its level under the latest policy (queued when ``version`` was published); idempotent."""
    return actions.recompute_credit_levels(version=version)
