"""The escalation inbox (上报处理): a compliance admin claims an escalation and resolves it with a measure
taken on the stream's publisher since, or dismisses it with a reason. Compliance consoles see each change."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import events, permissions
from moderation.errors import ModerationError
from moderation.models import EscalationCase, ModerationAction

ESCALATION_CHANGED = "escalation.changed"  # to compliance consoles: an escalation arrived or changed
MEASURES = (
    ModerationAction.Kind.WARN,
    ModerationAction.Kind.BLOCK,
    ModerationAction.Kind.SUSPEND,
    ModerationAction.Kind.CLOSE,
)
NOTE_MAX = 300
Status = EscalationCase.Status


def announce_escalation(action_id: int) -> None:
    """Tell compliance consoles (after the commit) that an escalation arrived or changed."""
    transaction.on_commit(
        lambda: events.send_to_group(events.COMPLIANCE_GROUP, ESCALATION_CHANGED, {"escalation": action_id})
    )


def _escalation(action: ModerationAction) -> ModerationAction:
    escalation = ModerationAction.objects.select_for_update().filter(pk=action.pk).first()
    if escalation is None or escalation.kind != ModerationAction.Kind.ESCALATE:
        raise ModerationError("no such escalation", code="not_found")
    return escalation


def claim_escalation(action: ModerationAction, *, actor: User) -> EscalationCase:
    """Take an escalation to handle; one admin at a time (a claim by another is refused)."""
    permissions.check(actor, "escalation.handle")
    with transaction.atomic():
        escalation = _escalation(action)
        case = EscalationCase.objects.select_for_update().filter(escalation=escalation).first()
        if case is not None:
            if case.status != Status.CLAIMED:
                raise ModerationError("this escalation is resolved already", code="already_decided")
            if case.claimed_by_id != actor.pk:
                raise ModerationError(f"{case.claimed_by} handles this escalation", code="claimed_by_other")
            return case
        case = EscalationCase.objects.create(escalation=escalation, claimed_by=actor, claimed_at=timezone.now())
        log_staff_action(actor, "escalation.claim", target=escalation)
        announce_escalation(escalation.pk)
    return case


def resolve_escalation(action: ModerationAction, *, actor: User, dismiss: bool, note: str) -> EscalationCase:
    """Resolve a claimed escalation: with the latest measure on its publisher since it was raised, or dismissed
    with a reason. Only the admin who claimed it resolves it."""
    permissions.check(actor, "escalation.handle")
    note = note.strip()
    if dismiss and not note:
        raise ModerationError("a dismissal needs its reason", code="missing_field")
    if len(note) > NOTE_MAX:
        raise ModerationError(f"the note is longer than {NOTE_MAX} characters", code="bad_field")
    with transaction.atomic():
        escalation = _escalation(action)
        case = EscalationCase.objects.select_for_update().filter(escalation=escalation).first()
        if case is None or case.claimed_by_id != actor.pk:
            raise ModerationError("claim the escalation first", code="not_claimed")
        if case.status != Status.CLAIMED:
            raise ModerationError("this escalation is resolved already", code="already_decided")
        measure = None
        if not dismiss:
            measure = (
                ModerationAction.objects.filter(
                    publisher_id=escalation.publisher_id, kind__in=MEASURES, at__gte=escalation.at
                )
                .order_by("-at", "-id")
                .first()
            )
            if measure is None:
                raise ModerationError(
                    "no measure on this publisher since the escalation: take it from the stream page first",
                    code="no_measure",
                )
        EscalationCase.objects.filter(pk=case.pk).update(
            status=Status.DISMISSED if dismiss else Status.ACTED,
            resolved_by=actor,
            resolved_at=timezone.now(),
            note=note,
            measure=measure,
        )
        log_staff_action(
            actor,
            "escalation.resolve",
            target=escalation,
            data={"dismissed": dismiss, "measure": measure.pk if measure else None, "note": note},
        )
        announce_escalation(escalation.pk)
    case.refresh_from_db()
    return case
