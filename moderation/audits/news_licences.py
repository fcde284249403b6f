"""News licences and approvals (Art. 5): the news audit, and a finding for each licence near or past its end."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from moderation import actions
from moderation.actions.news import EXPIRY_ALERT_DAYS
from moderation.audits.context import AuditContext, Severity
from moderation.models import ModerationAction, PlatformLicence, PublisherLicence


def check(context: AuditContext) -> dict:
    """Alert on licences expiring, lapse approvals on expired ones, cut uncovered news; report each."""
    started = timezone.now()
    today = timezone.localdate(started)
    summary = actions.audit_news_licences(started)
    soon = today + timedelta(days=EXPIRY_ALERT_DAYS)
    platform = PlatformLicence.objects.filter(withdrawn_at=None, valid_until__lte=soon, valid_until__gte=today)
    publisher = PublisherLicence.objects.filter(
        verification=PublisherLicence.Verification.VERIFIED, valid_until__lte=soon, valid_until__gte=today
    ).select_related("publisher")
    for kind, licence in [("platform", item) for item in platform] + [("publisher", item) for item in publisher]:
        days = (licence.valid_until - today).days
        context.finding(
            key=f"{kind}-licence:{licence.pk}:expiring",
            severity=Severity.CRITICAL if days <= 7 else Severity.WARNING,
            title=f"{kind} news licence {licence.number} expires {licence.valid_until.isoformat()} ({days} d)",
            data={"licence": licence.pk, "kind": kind, "valid_until": licence.valid_until.isoformat()},
            publisher=licence.publisher if kind == "publisher" else None,
        )
    # The news streams this run cut: live without an approval covering now.
    cuts = ModerationAction.objects.filter(kind=ModerationAction.Kind.NEWS_CUT, actor=None, at__gte=started)
    for action in cuts.select_related("stream", "publisher"):
        context.finding(
            key=f"news-cut:{action.pk}",
            severity=Severity.CRITICAL,
            title=f"news stream {action.stream_id} was live without an approval covering now: cut",
            data={"action": action.pk},
            stream=action.stream,
            publisher=action.publisher,
        )
    return summary
