"""Appeals (申诉): the platform submits one for a publisher; a compliance admin who did not act decides.

What an appeal can target is a registry keyed by ``Appeal.Kind``: each kind says how to load its
target (the publisher, who acted) and how to reverse it when the appeal is upheld. Credit events are
registered here; the blacklist registers ``blacklisting`` with ``register_appeal_target``. A kind with
nothing registered is refused at submission. The platform learns every decision by signed webhook.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import permissions
from moderation.actions.credit import reverse_credit_event
from moderation.actions.webhooks import notify_platform
from moderation.errors import ModerationError
from moderation.models import Appeal, CreditEvent, Publisher

APPEAL_DECIDED = "appeal.decided"
STATEMENT_MAX = 4000
NOTE_MAX = 2000


@dataclass(frozen=True)
class AppealSubject:
    """What an appeal's target is about: whose it is and who acted (they may not decide)."""

    publisher_id: int
    acted_by: frozenset[int]
    credit_event_id: int | None = None
    # Other publishers who may appeal it too: a blacklisting closes every account that matched.
    also_for: frozenset[int] = frozenset()


@dataclass(frozen=True)
class AppealTarget:
    """How to load and to reverse one kind of appealed thing."""

    load: Callable[[int], AppealSubject]  # raises ModerationError not_found / not_appealable
    reverse: Callable[[int, Appeal, User], None]  # runs inside the decision's transaction


APPEAL_TARGETS: dict[str, AppealTarget] = {}


def register_appeal_target(
    kind: str, *, load: Callable[[int], AppealSubject], reverse: Callable[[int, Appeal, User], None]
) -> None:
    """Make ``kind`` appealable: how to load its target and how to reverse it."""
    Appeal.Kind(kind)
    APPEAL_TARGETS[kind] = AppealTarget(load=load, reverse=reverse)


# --- credit events ------------------------------------------------------------------------------


def _load_credit_event(target_id: int) -> AppealSubject:
    event = CreditEvent.objects.select_related("action").filter(pk=target_id).first()
    if event is None:
        raise ModerationError(f"no credit event {target_id}", code="not_found")
    if event.kind not in (CreditEvent.Kind.ACTION, CreditEvent.Kind.MANUAL) or event.points >= 0:
        raise ModerationError("only a deduction can be appealed", code="not_appealable")
    if event.reversed_by_id is not None:
        raise ModerationError("this credit event is reversed already", code="not_appealable")
    acted_by = {event.actor_id, event.action.actor_id if event.action is not None else None} - {None}
    return AppealSubject(publisher_id=event.publisher_id, acted_by=frozenset(acted_by), credit_event_id=event.pk)


def _reverse_credit_event(target_id: int, appeal: Appeal, actor: User) -> None:
    event = CreditEvent.objects.get(pk=target_id)
    reverse_credit_event(event, actor=actor, reason=f"appeal #{appeal.pk}: {appeal.decision_note}"[:300])


register_appeal_target(Appeal.Kind.CREDIT_EVENT, load=_load_credit_event, reverse=_reverse_credit_event)


# --- submit and decide ------------------------------------------------------------------------


def submit_appeal(
    *,
    kind: str,
    target_id: int,
    publisher_account_id: str,
    statement: str,
    submitted_by: User | None,
    platform_reference: str = "",
) -> Appeal:
    """Record a publisher's appeal against one credit event (or another registered kind)."""
    if kind not in Appeal.Kind.values:
        raise ModerationError(f"unknown appeal kind {str(kind)[:20]!r}", code="bad_field")
    target = APPEAL_TARGETS.get(kind)
    if target is None:
        raise ModerationError(f"appeals of kind {kind} are not accepted yet", code="appeal_kind_unsupported")
    statement = (statement or "").strip()
    if not statement:
        raise ModerationError("an appeal needs the publisher's statement", code="missing_field")
    if len(statement) > STATEMENT_MAX:
        raise ModerationError(f"the statement is longer than {STATEMENT_MAX} characters", code="bad_field")
    with transaction.atomic():
        subject = target.load(target_id)
        publisher = Publisher.objects.filter(platform_account_id=publisher_account_id).first()
        if publisher is None or publisher.pk not in {subject.publisher_id, *subject.also_for}:
            raise ModerationError("the target does not belong to this publisher", code="wrong_publisher")
        if Appeal.objects.filter(kind=kind, target_id=target_id).exists():
            raise ModerationError("this has been appealed already", code="duplicate_appeal")
        try:
            with transaction.atomic():
                appeal = Appeal.objects.create(
                    kind=kind,
                    target_id=target_id,
                    credit_event_id=subject.credit_event_id,
                    publisher=publisher,
                    statement=statement,
                    platform_reference=(platform_reference or "")[:64],
                    submitted_by=submitted_by,
                )
        except IntegrityError:  # the same appeal raced in
            raise ModerationError("this has been appealed already", code="duplicate_appeal") from None
        log_staff_action(submitted_by, "appeal.submit", target=appeal, data={"kind": kind, "target": target_id})
    return appeal


def decide_appeal(appeal: Appeal, *, actor: User, uphold: bool, note: str) -> Appeal:
    """Uphold (reverse the target and its effects) or dismiss an appeal; tell the platform."""
    if not permissions.may(actor, "credit.manage"):
        raise ModerationError("only a compliance admin may decide an appeal", code="forbidden")
    note = (note or "").strip()
    if not note:
        raise ModerationError("a decision needs a note", code="missing_field")
    if len(note) > NOTE_MAX:
        raise ModerationError(f"the note is longer than {NOTE_MAX} characters", code="bad_field")
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update(of=("self",)).select_related("publisher").get(pk=appeal.pk)
        if appeal.status != Appeal.Status.PENDING:
            raise ModerationError("this appeal is decided already", code="already_decided")
        target = APPEAL_TARGETS.get(appeal.kind)
        if target is None:
            raise ModerationError(
                f"appeals of kind {appeal.kind} cannot be decided yet", code="appeal_kind_unsupported"
            )
        subject = target.load(appeal.target_id) if uphold else None
        acted_by = subject.acted_by if subject is not None else _acted_by(appeal, target)
        if actor.pk in acted_by:
            raise ModerationError("you acted in this case; another compliance admin must decide", code="own_action")
        appeal.status = Appeal.Status.UPHELD if uphold else Appeal.Status.DISMISSED
        appeal.decided_by = actor
        appeal.decided_at = timezone.now()
        appeal.decision_note = note
        appeal.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        if uphold:
            target.reverse(appeal.target_id, appeal, actor)
        log_staff_action(actor, f"appeal.{appeal.status}", target=appeal, data={"note": note[:200]})
        score, level = Publisher.objects.filter(pk=appeal.publisher_id).values_list("credit_score", "credit_level")[0]
        notify_platform(
            APPEAL_DECIDED,
            {
                "appeal": appeal.pk,
                "kind": appeal.kind,
                "target": appeal.target_id,
                "publisher": appeal.publisher.platform_account_id,
                "platform_reference": appeal.platform_reference,
                "outcome": appeal.status,
                "note": note,
                "decided_at": appeal.decided_at,
                "credit_score": score,
                "credit_level": level,
            },
        )
    return appeal


def _acted_by(appeal: Appeal, target: AppealTarget) -> frozenset[int]:
    """Who acted in the appealed case, even when the target can no longer be appealed (dismissal)."""
    if appeal.kind == Appeal.Kind.CREDIT_EVENT and appeal.credit_event_id is not None:
        event = CreditEvent.objects.select_related("action").get(pk=appeal.credit_event_id)
        return frozenset({event.actor_id, event.action.actor_id if event.action is not None else None} - {None})
    try:
        return target.load(appeal.target_id).acted_by
    except ModerationError:
        return frozenset()
