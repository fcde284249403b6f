"""Reads for the escalation inbox."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Q, Value, When

from moderation.models import EscalationCase, ModerationAction

# An escalation is open while nobody resolved it: no case yet, or a case still claimed.
OPEN = Q(escalation_case__isnull=True) | Q(escalation_case__status=EscalationCase.Status.CLAIMED)


def escalations_for_console(*, open_only: bool = False):
    """Escalations with their stream, publisher, raiser and handling; open ones first, newest first."""
    escalations = ModerationAction.objects.filter(kind=ModerationAction.Kind.ESCALATE).select_related(
        "stream",
        "publisher",
        "actor",
        "escalation_case__claimed_by",
        "escalation_case__resolved_by",
        "escalation_case__measure",
    )
    if open_only:
        escalations = escalations.filter(OPEN)
    open_first = Case(When(OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
    return escalations.order_by(open_first, "-at", "-id")


def open_escalation_count() -> int:
    return ModerationAction.objects.filter(kind=ModerationAction.Kind.ESCALATE).filter(OPEN).count()
