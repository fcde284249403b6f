"""Reads for onboarding: the service agreement in force, verification reports."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from moderation.models import ServiceAgreement


def current_agreement(now: datetime | None = None) -> ServiceAgreement | None:
    """Return the service agreement in force at ``now`` (the latest whose effective date has come)."""
    now = now or timezone.now()
    return ServiceAgreement.objects.filter(effective_at__lte=now).order_by("-effective_at").first()
