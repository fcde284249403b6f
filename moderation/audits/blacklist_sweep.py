"""The blacklist sweep (Art. 15): accounts matching an entry they were not closed for, closed and reported."""

from __future__ import annotations

from moderation import actions
from moderation.audits.context import AuditContext, Severity
from moderation.models import Publisher


def check(context: AuditContext) -> dict:
    """Close publishers found matching an entry in force; a finding per publisher and entry."""
    closed = actions.sweep_blacklist()
    publishers = Publisher.objects.in_bulk(list(closed))
    for publisher_id, references in closed.items():
        for reference in references:
            context.finding(
                key=f"blacklist:{publisher_id}:{reference}",
                severity=Severity.WARNING,
                title=f"publisher {publisher_id} matched blacklist entry {reference}: account closed",
                data={"publisher": publisher_id, "entry": reference},
                publisher=publishers.get(publisher_id),
            )
    return {"closed": len(closed)}
