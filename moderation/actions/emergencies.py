"""Emergencies (应急处置, Art. 7): declare, confirm, end; the bulk cut of every live stream in scope.

A compliance admin declares an emergency with a scope (moderation/emergency_scope.py), measures and a
reason. One whose scope is everything waits for a second compliance admin's confirmation; any other
is in force at once. In force, its measures apply: every matching live stream is cut (one
``EmergencyCut`` row per stream, made in the same transaction, then cut by the Celery task
``moderation.tasks.emergencies.run_emergency_cuts``), comments in scope are held and new streams in
scope refused (the comment holds and the gate ask ``emergency_scope.in_force``). Each cut is a block,
as a patroller's (moderation/actions/patrol.py): stored first, the key denied for its cooling-off,
then dropped, retried until confirmed. They are taken a chunk of ``CUT_CHUNK`` streams at a time
(moderation/actions/bulk_cuts.py): the chunk's blocks written in a few statements, then dropped in
parallel, a few at a time per node, so a slow node holds only its own streams. Ending (or cancelling)
restores the normal rules; blocks already taken stay, like any block. Both ends record who and why.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import emergency_scope, events, permissions, queries, task_queue, text_input
from moderation.actions import bulk_cuts
from moderation.actions.patrol import _charge_after_cut
from moderation.errors import ModerationError
from moderation.models import Emergency, EmergencyCut, ModerationAction, ReasonCode

logger = logging.getLogger(__name__)
Status = Emergency.Status
Outcome = EmergencyCut.Outcome
RUN_TASK = "moderation.tasks.emergencies.run_emergency_cuts"
REASON_MAX = 1000
# How many streams the bulk cut blocks in one transaction (then drops in parallel, then reports progress).
CUT_CHUNK = 100


def _reason(reason, name: str = "reason") -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ModerationError(f"a {name} is required", code="missing_reason")
    if len(reason) > REASON_MAX:
        raise ModerationError(f"the {name} is longer than {REASON_MAX} characters", code="bad_field")
    try:
        return text_input.check_text(reason.strip(), name, multiline=True)
    except text_input.TextRefused as exc:
        raise ModerationError(str(exc), code="bad_text") from None


def declare_emergency(*, actor: User, scope, measures, reason: str, reason_code: str = "") -> Emergency:
    """Declare an emergency; in force at once unless its scope is everything (then a second admin confirms)."""
    permissions.check(actor, "emergency.manage")
    reason = _reason(reason)
    if not isinstance(measures, list | tuple) or not measures or set(measures) - set(Emergency.Measure.values):
        raise ModerationError("measures: one or more of " + ", ".join(Emergency.Measure.values), code="bad_field")
    code = reason_code or ReasonCode.OTHER_ILLEGAL
    if code not in ReasonCode.values or code == ReasonCode.PATROLLED:
        raise ModerationError("reason_code must be one of the reason codes", code="bad_field")
    scope = emergency_scope.normalise_scope(scope) | {"reason_code": code}
    with transaction.atomic():
        emergency = Emergency.objects.create(
            reference="YJ-" + timezone.now().strftime("%Y%m%d") + "-" + secrets.token_hex(3).upper(),
            status=Status.AWAITING_CONFIRMATION if scope["everything"] else Status.ACTIVE,
            scope=scope,
            measures=sorted(set(measures)),
            reason=reason,
            declared_by=actor,
        )
        log_staff_action(actor, "emergency.declare", target=emergency, data={"scope": scope, "measures": measures})
        if emergency.status == Status.ACTIVE:
            _put_in_force(emergency)
        transaction.on_commit(_announce)
    return emergency


def confirm_emergency(emergency: Emergency, *, actor: User) -> Emergency:
    """Put an emergency whose scope is everything in force: a second compliance admin confirms it."""
    permissions.check(actor, "emergency.manage")
    with transaction.atomic():
        emergency = Emergency.objects.select_for_update().get(pk=emergency.pk)
        if emergency.status != Status.AWAITING_CONFIRMATION:
            raise ModerationError("this emergency awaits no confirmation", code="invalid")
        if emergency.declared_by_id == actor.pk:
            raise ModerationError("a second compliance admin must confirm", code="same_admin")
        emergency.status, emergency.confirmed_by = Status.ACTIVE, actor
        emergency.save(update_fields=["status", "confirmed_by"])
        log_staff_action(actor, "emergency.confirm", target=emergency)
        _put_in_force(emergency)
        transaction.on_commit(_announce)
    return emergency


def _put_in_force(emergency: Emergency) -> None:
    emergency.started_at = timezone.now()
    emergency.save(update_fields=["started_at"])
    emergency_scope.forget_cached()
    transaction.on_commit(emergency_scope.forget_cached)
    if Emergency.Measure.CUT not in emergency.measures:
        return
    streams = emergency_scope.matching_live_streams(emergency.scope)
    EmergencyCut.objects.bulk_create([EmergencyCut(emergency=emergency, stream=stream) for stream in streams])
    if streams:
        transaction.on_commit(lambda: _queue_run(emergency.pk))


def _queue_run(emergency_id: int) -> None:
    try:
        task_queue.enqueue(RUN_TASK, emergency_id)
    except Exception:  # the broker is down: the cuts stay queued and the beat sweep runs them
        logger.exception("could not queue the bulk cut of emergency %s", emergency_id)


def end_emergency(emergency: Emergency, *, actor: User, reason: str) -> Emergency:
    """End an emergency (or cancel one awaiting confirmation): the normal rules apply again."""
    permissions.check(actor, "emergency.manage")
    reason = _reason(reason)
    with transaction.atomic():
        emergency = Emergency.objects.select_for_update().get(pk=emergency.pk)
        if emergency.status not in (Status.ACTIVE, Status.AWAITING_CONFIRMATION):
            raise ModerationError("this emergency has ended already", code="invalid")
        ended = Status.ENDED if emergency.status == Status.ACTIVE else Status.CANCELLED
        emergency.status, emergency.ended_by, emergency.ended_at, emergency.end_reason = (
            ended,
            actor,
            timezone.now(),
            reason,
        )
        emergency.save(update_fields=["status", "ended_by", "ended_at", "end_reason"])
        log_staff_action(actor, f"emergency.{ended}", target=emergency, data={"reason": reason})
        emergency_scope.forget_cached()
        transaction.on_commit(emergency_scope.forget_cached)
        transaction.on_commit(_announce)
    return emergency


def emergency_banner() -> dict:
    """What every console's banner shows: the emergencies in force or awaiting confirmation."""
    return {
        "emergencies": [
            {"id": e.pk, "reference": e.reference, "status": e.status, "reason": e.reason[:200]}
            for e in queries.current_emergencies()
        ]
    }


def _announce() -> None:
    events.send_to_group(events.QUEUE_GROUP, events.EMERGENCY_CHANGED, emergency_banner())


# --- the bulk cut ----------------------------------------------------------------------------------


def run_emergency_cuts(emergency_id: int) -> dict[str, int]:
    """Cut every stream of the emergency still queued, a chunk at a time; report progress; return the counts.

    Each chunk's blocks are written in a few statements and dropped in parallel per node
    (moderation/actions/bulk_cuts.py). Safe to run twice: a stream blocked already answers with its block.
    """
    emergency = Emergency.objects.filter(pk=emergency_id).first()
    if emergency is None or emergency.status != Status.ACTIVE:
        return queries.emergency_progress(emergency_id)
    queued = list(
        EmergencyCut.objects.filter(emergency_id=emergency_id, outcome=Outcome.QUEUED)
        .order_by("pk")
        .values_list("pk", "stream_id")
    )
    note = f"{emergency.reference}: {emergency.reason}"[:500]
    reason = emergency.scope.get("reason_code") or ReasonCode.OTHER_ILLEGAL
    charged: list[ModerationAction] = []
    for start in range(0, len(queued), CUT_CHUNK):
        chunk = dict(queued[start : start + CUT_CHUNK])  # cut id → stream id
        try:
            charged += _cut_chunk(emergency, chunk, reason=reason, note=note)
        except Exception as exc:  # the chunk's blocks did not commit: record it, its streams stay in scope
            logger.exception("emergency %s: a chunk of cuts failed", emergency_id)
            for cut_id in chunk:
                _record(cut_id, Outcome.FAILED, None, str(exc))
        _progress({"id": emergency_id, "counts": queries.emergency_progress(emergency_id)})
    counts = queries.emergency_progress(emergency_id)
    _progress({"id": emergency_id, "counts": counts, "done": True})
    for action in charged:  # the credit after the cuts, off their critical path (the sweep makes up what fails)
        _charge_after_cut(action.pk, announced=[action.stream_id])
    return counts


def _cut_chunk(emergency: Emergency, chunk: dict[int, int], *, reason: str, note: str) -> list[ModerationAction]:
    """Block and drop one chunk of the emergency's streams; record each cut; return the new blocks."""
    stream_ids = list(chunk.values())
    request_ids = {stream_id: f"emergency-{emergency.pk}-{stream_id}" for stream_id in stream_ids}
    blocked = bulk_cuts.block_streams(
        stream_ids, actor=emergency.declared_by, reason=reason, note=note, request_ids=request_ids
    )
    bulk_cuts.drop_blocked(list(blocked.values()))
    by_outcome: dict[tuple[str, int | None, str], list[int]] = {}
    for cut_id, stream_id in chunk.items():
        item = blocked[stream_id]
        if item.action is None:
            outcome = Outcome.GONE if item.error in ("stream_ended", "not_found") else Outcome.FAILED
            key = (outcome, None, item.error)
        else:
            outcome = {
                ModerationAction.MediaStatus.CONFIRMED: Outcome.CONFIRMED,
                ModerationAction.MediaStatus.GONE: Outcome.GONE,
            }.get(item.action.media_status, Outcome.PENDING)
            key = (outcome, item.action.pk, "")
        by_outcome.setdefault(key, []).append(cut_id)
    pending = list(ModerationAction.objects.filter(
        pk__in=[action_id for (outcome, action_id, _e) in by_outcome if outcome == Outcome.PENDING and action_id]
    ).values_list("pk", "media_last_error"))  # fmt: skip
    errors = dict(pending)
    now = timezone.now()
    recorded = []
    for (outcome, action_id, error), cut_ids in by_outcome.items():
        error = (errors.get(action_id, "") if outcome == Outcome.PENDING else error or "")[:300]
        recorded += [
            EmergencyCut(pk=cut_id, outcome=outcome, action_id=action_id, error=error, updated_at=now)
            for cut_id in cut_ids
        ]
    with transaction.atomic():
        # Only cuts still queued (a second run in parallel recorded nothing twice): one statement for the chunk.
        still_queued = set(
            EmergencyCut.objects.select_for_update()
            .filter(pk__in=[cut.pk for cut in recorded], outcome=Outcome.QUEUED)
            .values_list("pk", flat=True)
        )
        # The outcome and error by group (a handful of statements), the action per cut in one CASE:
        # Django's bulk_update builds one CASE per field and row, which costs more than the cut itself.
        groups: dict[tuple[str, str], list[int]] = {}
        for cut in recorded:
            if cut.pk in still_queued:
                groups.setdefault((cut.outcome, cut.error), []).append(cut.pk)
        for (outcome, error), cut_ids in groups.items():
            EmergencyCut.objects.filter(pk__in=cut_ids).update(outcome=outcome, error=error, updated_at=now)
        with_actions = [cut for cut in recorded if cut.pk in still_queued and cut.action_id is not None]
        EmergencyCut.objects.bulk_update(with_actions, ["action"])
    return [item.action for item in blocked.values() if item.new]


def _progress(payload: dict) -> None:
    events.send_to_group(events.QUEUE_GROUP, events.EMERGENCY_PROGRESS, payload)


def _record(cut_id: int, outcome: str, action_id: int | None, error: str) -> None:
    EmergencyCut.objects.filter(pk=cut_id).update(
        outcome=outcome, action_id=action_id, error=(error or "")[:300], updated_at=timezone.now()
    )


def settle_pending_emergency_cuts() -> int:
    """Turn pending emergency cuts whose block was confirmed since into confirmed, and run cuts left queued
    (the broker was down when the emergency began): the beat sweep. Return how many it settled."""
    stale = EmergencyCut.objects.filter(
        outcome=Outcome.QUEUED,
        emergency__status=Status.ACTIVE,
        emergency__started_at__lt=timezone.now() - timedelta(seconds=30),
    )
    for emergency_id in set(stale.values_list("emergency_id", flat=True)):
        run_emergency_cuts(emergency_id)
    settled = 0
    for cut in EmergencyCut.objects.filter(outcome=Outcome.PENDING).select_related("action")[:1000]:
        if cut.action and cut.action.media_status in (
            ModerationAction.MediaStatus.CONFIRMED,
            ModerationAction.MediaStatus.GONE,
        ):
            _record(cut.pk, Outcome.CONFIRMED, cut.action_id, "")
            settled += 1
    return settled
