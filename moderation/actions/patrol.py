"""Patrol actions (Art. 7, 8, 14): mark patrolled, block, suspend, close, escalate.

Cutting off is stored first and confirmed after: the action row commits with media_status
"pending", the key (or publisher) is denied at the gate in the same transaction, and only then,
on commit, the node's adapter drops the publisher (moderation/actions/cuts.py). If the node does not
confirm, the action stays "cut pending" and Celery retries with backoff until the drop is confirmed
or the stream is gone (moderation/tasks/cuts.py; a beat sweep picks up cuts whose process died in between).

Every action is idempotent by the client's request id: the same id from the same actor returns
the first action (``action.replayed`` is True) and changes nothing, also when the two frames race.
A measure (block, suspension, closure) is moreover taken once per stream: a second one of the same
kind on the stream, from anyone, returns the first (a block also the key's block whose cut is still
pending), so it cuts and charges once. The stream's row lock serialises them (a block's also its key's).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import cut_threads, events
from moderation.actions import platform_events
from moderation.actions.credit import charge_for_action
from moderation.actions.cuts import drop_and_record, perform_cut
from moderation.actions.escalations import announce_escalation
from moderation.errors import ModerationError
from moderation.models import Comment, Evidence, ModerationAction, Publisher, ReasonCode, Stream, StreamKey

logger = logging.getLogger(__name__)


Kind = ModerationAction.Kind


MediaStatus = ModerationAction.MediaStatus


MAX_SUSPEND_MINUTES = 30 * 24 * 60


# How many of the stream's last comments a block, suspension or closure keeps as evidence.
EVIDENCE_COMMENTS = 20


def replayed_action(request_id: str | None, actor: User | None) -> ModerationAction | None:
    """Return the action already done under this request id by this actor; refuse another's id."""
    if not request_id:
        return None
    existing = ModerationAction.objects.filter(request_id=request_id).first()
    if existing is None:
        return None
    if existing.actor_id != (actor.pk if actor is not None else None):
        raise ModerationError("this request id belongs to another action", code="request_id_taken")
    existing.replayed = True
    return existing


def _valid_reason(reason: str) -> str:
    if reason not in ReasonCode.values:
        raise ModerationError(f"unknown reason {str(reason)[:40]!r}", code="bad_field")
    return reason


class RequestIdClash(ModerationError):
    """Another frame with the same request id committed its action between our check and our insert."""


def _replaying_clashes(action_function):
    """Answer a request whose id a concurrent frame committed first with that frame's action, if it is the actor's."""

    @functools.wraps(action_function)
    def answer(stream, *, actor, request_id=None, **arguments):
        try:
            return action_function(stream, actor=actor, request_id=request_id, **arguments)
        except RequestIdClash:
            if transaction.get_connection().in_atomic_block:
                raise  # the caller's transaction is broken by the clash; it must not go on
            done = replayed_action(request_id, actor)
            if done is None:
                raise
            return done

    return answer


def _lock_for_measure(stream: Stream, kind: str) -> tuple[Stream, ModerationAction | None]:
    """Lock the stream (a block: and its key); return it with the measure of this kind already taken on it.

    Locked first, then looked up: of two measures racing on one stream (blocks: on one key) the second
    finds the first's action once that commits. A stream a new publish of its key replaced may still
    be measured: its key and publisher are what the measure is about.
    """
    lock = ("self", "key") if kind == Kind.BLOCK else ("self",)
    locked = Stream.objects.select_for_update(of=lock).select_related("key", "publisher", "node").filter(pk=stream.pk)
    locked = locked.first()
    if locked is None:
        raise ModerationError("no such stream", code="not_found")
    taken = ModerationAction.objects.filter(kind=kind, stream_id=locked.pk)
    if kind == Kind.BLOCK:
        # A block whose cut is pending covers every session of its key: this one too.
        same_key = Q(stream_id=locked.pk) | Q(media_status=MediaStatus.PENDING)
        taken = ModerationAction.objects.filter(same_key, kind=kind, stream__key_id=locked.key_id)
    existing = taken.order_by("pk").first()
    if existing is None and locked.ended_at is not None and locked.end_reason != Stream.EndReason.REPLACED:
        raise ModerationError("the stream has ended", code="stream_ended")
    return locked, existing


def _taken_already(existing: ModerationAction, request_id: str | None, actor: User | None) -> ModerationAction:
    """Answer a measure that was taken already with its action; a request id stays its owner's."""
    if request_id and existing.request_id == request_id and existing.actor_id != (actor.pk if actor else None):
        raise ModerationError("this request id belongs to another action", code="request_id_taken")
    existing.replayed = True
    return existing


def _live_stream_for_update(stream: Stream) -> Stream:
    # Lock the stream row only: the joined publisher and node rows stay free for other actions and
    # for the gate (a node's row must not serialise blocks of its different streams).
    live = Stream.objects.select_for_update(of=("self",)).select_related("key", "publisher", "node")
    locked = live.filter(pk=stream.pk).first()
    if locked is None:
        raise ModerationError("no such stream", code="not_found")
    if locked.ended_at is not None:
        raise ModerationError("the stream has ended", code="stream_ended")
    return locked


def _create_action(**fields) -> ModerationAction:
    # No savepoint (two round trips on the block path): a clash fails the caller's whole
    # transaction, which is what a second frame with the same request id must get.
    try:
        with transaction.atomic(savepoint=False):
            return ModerationAction.objects.create(**fields)
    except IntegrityError:
        # The same request id raced in from a second frame: the first one wins.
        raise RequestIdClash("this request is being handled already", code="request_id_taken") from None


def _digest(payload: dict) -> tuple[dict, str]:
    body = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return payload, hashlib.sha256(body.encode()).hexdigest()


def keep_evidence(action: ModerationAction, stream: Stream) -> None:
    """Keep the stream's metadata, its last comments and latest snapshot with the action, each with its SHA-256."""
    latest = Comment.objects.filter(stream_id=stream.pk).order_by("-received_at", "-pk")[:EVIDENCE_COMMENTS]
    Evidence.objects.bulk_create(evidence_for(action, stream, list(latest)))


def evidence_for(action: ModerationAction, stream: Stream, latest: list[Comment]) -> list[Evidence]:
    """The evidence rows (unsaved) of a measure on ``stream``, given its last comments, newest first."""
    rows = []
    metadata, digest = _digest(
        {
            "stream": stream.pk,
            "title": stream.title,
            "publisher": {"id": stream.publisher_id, "account": stream.publisher.platform_account_id},
            "category": stream.category_id,
            "node": stream.node.name,
            "app": stream.app,
            "client_id": stream.client_id,
            "addr": stream.addr,
            "viewers": stream.viewers,
            "started_at": stream.started_at.isoformat(),
            "review_flag": stream.review_flag,
            "review_score": stream.review_score,
            "recorded_at": timezone.now().isoformat(),
        }
    )
    rows.append(Evidence(action=action, kind=Evidence.Kind.METADATA, content=metadata, sha256=digest))
    comments = [
        {
            "id": comment.external_id,
            "viewer": comment.viewer_id,
            "text": comment.text,
            "status": comment.status,
            "posted_at": comment.posted_at.isoformat(),
            "received_at": comment.received_at.isoformat(),
        }
        for comment in reversed(latest)  # oldest first, as they were read
    ]
    if comments:
        content, digest = _digest({"stream": stream.pk, "comments": comments})
        rows.append(Evidence(action=action, kind=Evidence.Kind.COMMENTS, content=content, sha256=digest))
    snapshot = stream.latest_snapshot
    if snapshot is not None and snapshot.sha256:
        rows.append(
            Evidence(
                action=action,
                kind=Evidence.Kind.SNAPSHOT,
                content={
                    "snapshot": snapshot.pk,
                    "file": snapshot.image.name,
                    "taken_at": snapshot.taken_at.isoformat(),
                },
                file=snapshot.image.name,
                sha256=snapshot.sha256,
            )
        )
    return rows


def after_commit_cut(
    action: ModerationAction, stamps: dict, event: str, stream_ids: list[int], *, targets: list[Stream] | None = None
) -> None:
    """Register, in order: the stored stamp, the console delta, the cut at the media server, the credit.

    ``targets``: the live streams to cut, already loaded (with node and key) and locked by the
    action, so the cut right after the commit need not read them again.
    """
    transaction.on_commit(lambda: stamps.__setitem__("stored", time.perf_counter()))
    for stream_id in stream_ids:
        transaction.on_commit(lambda stream_id=stream_id: events.queue_delta(event, stream_id))
    transaction.on_commit(lambda: stamps.__setitem__("broadcast", time.perf_counter()))
    if stream_ids:
        transaction.on_commit(lambda: _cut_now(action, stamps, targets))
    # The credit charge comes after the cut: the cut is on the stream's critical path, the charge is
    # not. It runs in a transaction of its own; a charge the process never made (it died after the
    # commit) is made by the beat sweep (moderation.tasks.credit.settle_credit_charges).
    transaction.on_commit(lambda: _after_cut(action, lambda: _charge_after_cut(action.pk, announced=stream_ids)))


def _charge_after_cut(action_id: int, *, announced: list[int]) -> None:
    try:
        charge_for_action(ModerationAction.objects.get(pk=action_id), announced_stream_ids=announced)
    except Exception:  # the cut stands; the sweep charges it later
        logger.exception("could not charge credit for action %s; the sweep will", action_id)


def _cut_now(action: ModerationAction, stamps: dict, targets: list[Stream] | None) -> None:
    # On a thread answering consoles (or the gate) the drop runs on the cut threads, in its node's
    # lane, so a slow node holds none of them; ``action.cut`` is its future (the console's
    # acknowledgement waits on it without a thread). Elsewhere it runs here, as it is.
    lane = targets[0].node_id if targets else None
    action.cut = cut_threads.start(lane, _drop_now, action, stamps, targets)


def _after_cut(action: ModerationAction, then) -> None:
    """Run ``then`` when the action's cut is done (on its cut thread if it runs on one), or now."""
    cut = getattr(action, "cut", None)
    if cut is None:
        then()
    else:
        cut.add_done_callback(lambda _cut: then())


def _drop_now(action: ModerationAction, stamps: dict, targets: list[Stream] | None) -> None:
    outcome = perform_cut(action.pk) if targets is None else drop_and_record(action, targets)
    action.media_status = outcome  # the caller's acknowledgement reports what the node said
    if outcome in (MediaStatus.CONFIRMED, MediaStatus.GONE):
        stamps["media_confirmed"] = time.perf_counter()


@_replaying_clashes
def mark_patrolled(stream: Stream, *, actor: User, note: str = "", request_id: str | None = None) -> ModerationAction:
    """Note that the actor patrolled the stream now."""
    if (done := replayed_action(request_id, actor)) is not None:
        return done
    with transaction.atomic():
        stream = _live_stream_for_update(stream)
        now = timezone.now()
        Stream.objects.filter(pk=stream.pk).update(last_patrolled_at=now, last_patrolled_by=actor)
        action = _create_action(
            actor=actor,
            kind=Kind.MARK_PATROLLED,
            stream=stream,
            publisher_id=stream.publisher_id,
            reason=ReasonCode.PATROLLED,
            note=note,
            request_id=request_id,
            at=now,
        )
        log_staff_action(actor, "stream.mark_patrolled", target=stream, data={"action": action.pk})
        action.stamps = {}
        transaction.on_commit(lambda: action.stamps.__setitem__("stored", time.perf_counter()))
        transaction.on_commit(lambda: events.queue_delta(events.STREAM_PATROLLED, stream.pk))
        transaction.on_commit(lambda: action.stamps.__setitem__("broadcast", time.perf_counter()))
    return action


@_replaying_clashes
def block_stream(
    stream: Stream,
    *,
    actor: User | None,
    reason: str,
    note: str = "",
    request_id: str | None = None,
    cooling_off_minutes: int | None = None,
) -> ModerationAction:
    """Cut the stream now and deny its key at the gate for the cooling-off (or until lifted)."""
    if (done := replayed_action(request_id, actor)) is not None:
        return done
    _valid_reason(reason)
    minutes = settings.LIVEWARD_BLOCK_COOLING_OFF_MINUTES if cooling_off_minutes is None else cooling_off_minutes
    with transaction.atomic():
        stream, existing = _lock_for_measure(stream, Kind.BLOCK)
        if existing is not None:
            return _taken_already(existing, request_id, actor)
        now = timezone.now()
        until = now + timedelta(minutes=minutes)
        # Deny first: from this commit on the key cannot come back, whatever the media server does.
        StreamKey.objects.filter(pk=stream.key_id).update(denied_until=until)
        # … and no other key of the publisher, including keys issued during the cooling-off.
        Publisher.objects.filter(pk=stream.publisher_id).filter(
            Q(cooling_off_until__isnull=True) | Q(cooling_off_until__lt=until)
        ).update(cooling_off_until=until)
        action = _create_action(
            actor=actor,
            kind=Kind.BLOCK,
            stream=stream,
            publisher_id=stream.publisher_id,
            reason=reason,
            note=note,
            request_id=request_id,
            media_status=MediaStatus.PENDING,
            until=until,
            at=now,
        )
        keep_evidence(action, stream)
        log_staff_action(actor, "stream.block", target=stream, data={"action": action.pk, "reason": reason})
        platform_events.stream_blocked(action)
        action.stamps = {}
        after_commit_cut(action, action.stamps, events.STREAM_BLOCKED, [stream.pk], targets=[stream])
    return action


@_replaying_clashes
def suspend_publisher(
    stream: Stream,
    *,
    actor: User | None,
    reason: str,
    minutes: int,
    note: str = "",
    request_id: str | None = None,
) -> ModerationAction:
    """Suspend the stream's publisher for ``minutes``: cut all their live streams; the gate denies until then."""
    if (done := replayed_action(request_id, actor)) is not None:
        return done
    _valid_reason(reason)
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= MAX_SUSPEND_MINUTES:
        raise ModerationError(f"minutes must be between 1 and {MAX_SUSPEND_MINUTES}", code="bad_field")
    until = timezone.now() + timedelta(minutes=minutes)
    return _cut_publisher(
        stream,
        kind=Kind.SUSPEND,
        actor=actor,
        reason=reason,
        note=note,
        request_id=request_id,
        status={"status": Publisher.Status.SUSPENDED, "suspended_until": until},
        until=until,
        event=events.PUBLISHER_SUSPENDED,
    )


@_replaying_clashes
def close_publisher(
    stream: Stream, *, actor: User | None, reason: str, note: str = "", request_id: str | None = None
) -> ModerationAction:
    """Close the stream's publisher's account for good: cut every live stream, deny at the gate."""
    if (done := replayed_action(request_id, actor)) is not None:
        return done
    _valid_reason(reason)
    return _cut_publisher(
        stream,
        kind=Kind.CLOSE,
        actor=actor,
        reason=reason,
        note=note,
        request_id=request_id,
        status={"status": Publisher.Status.CLOSED, "closed_at": timezone.now()},
        until=None,
        event=events.PUBLISHER_CLOSED,
    )


def close_publisher_account(
    publisher: Publisher, *, actor: User | None, reason: str, note: str = "", closure: dict | None = None
) -> ModerationAction:
    """Close a publisher's account whether or not they are live: cut every live stream, deny at the gate.

    ``closure``: what the platform's ``publisher.closed`` says of the cause (the blacklist's reference).
    """
    _valid_reason(reason)
    return _cut_publisher(
        None,
        publisher=publisher,
        kind=Kind.CLOSE,
        actor=actor,
        reason=reason,
        note=note,
        request_id=None,
        status={"status": Publisher.Status.CLOSED, "closed_at": timezone.now()},
        until=None,
        event=events.PUBLISHER_CLOSED,
        closure=closure,
    )


def _cut_publisher(
    stream: Stream | None,
    *,
    publisher: Publisher | None = None,
    kind: str,
    actor: User | None,
    reason: str,
    note: str,
    request_id: str | None,
    status: dict,
    until,
    event: str,
    closure: dict | None = None,
) -> ModerationAction:
    """Change the publisher's status and cut every live stream of theirs (suspend, close).

    From the wall the subject is a live stream; from the blacklist it is the publisher, live or not.
    """
    with transaction.atomic():
        if stream is not None:
            stream, existing = _lock_for_measure(stream, kind)
            if existing is not None:
                return _taken_already(existing, request_id, actor)
        publisher = Publisher.objects.select_for_update().get(pk=stream.publisher_id if stream else publisher.pk)
        if publisher.status == Publisher.Status.CLOSED:
            raise ModerationError("the account is closed", code="invalid")
        Publisher.objects.filter(pk=publisher.pk).update(**status)
        # The gate denies the publisher from this commit on; now cut what is live.
        live_ids = list(Stream.objects.live().filter(publisher=publisher).values_list("pk", flat=True))
        action = _create_action(
            actor=actor,
            kind=kind,
            stream=stream,
            publisher=publisher,
            reason=reason,
            note=note,
            request_id=request_id,
            media_status=MediaStatus.PENDING if live_ids else MediaStatus.NOT_APPLICABLE,
            until=until,
        )
        if stream is not None:
            keep_evidence(action, stream)
        log_staff_action(actor, f"publisher.{kind}", target=publisher, data={"action": action.pk, "reason": reason})
        if kind == Kind.SUSPEND:
            platform_events.publisher_suspended(action)
        else:
            platform_events.publisher_closed(action, **(closure or {}))
        action.stamps = {}
        after_commit_cut(action, action.stamps, event, live_ids)
    return action


@_replaying_clashes
def escalate_stream(
    stream: Stream, *, actor: User, reason: str, note: str = "", request_id: str | None = None
) -> ModerationAction:
    """Ask a compliance admin to look at the stream."""
    if (done := replayed_action(request_id, actor)) is not None:
        return done
    _valid_reason(reason)
    with transaction.atomic():
        stream = _live_stream_for_update(stream)
        action = _create_action(
            actor=actor,
            kind=Kind.ESCALATE,
            stream=stream,
            publisher_id=stream.publisher_id,
            reason=reason,
            note=note,
            request_id=request_id,
        )
        charge_for_action(action, announced_stream_ids=[stream.pk])
        log_staff_action(actor, "stream.escalate", target=stream, data={"action": action.pk, "reason": reason})
        action.stamps = {}
        transaction.on_commit(lambda: action.stamps.__setitem__("stored", time.perf_counter()))
        transaction.on_commit(lambda: events.queue_delta(events.STREAM_ESCALATED, stream.pk))
        announce_escalation(action.pk)  # to the compliance admins' inbox
    return action
