"""Blocks of many streams at once (an emergency's bulk cut): a few statements per chunk, drops in parallel.

Each stream is blocked as ``block_stream`` (moderation/actions/patrol.py) blocks one: its row and its
key's locked, a block already taken on it (or pending on its key) answered instead of a second one,
the key and the publisher denied for the cooling-off, the action stored with its evidence, the staff
log and the platform told, a console delta on commit. What changes is the cost: the writes of a
chunk of streams go in a handful of statements (one lock query, one insert of the actions, one of
their evidence, one update of the keys and one of the publishers), and the drops at the media
servers run in parallel, ``DROPS_PER_NODE`` at a time per node, so a thousand streams are cut in
seconds rather than one by one. A drop a node does not confirm leaves the block pending with its
retry scheduled, as any block's.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from accounts.actions import log_staff_actions
from accounts.models import User
from moderation import events, mediaservers
from moderation.actions import platform_events
from moderation.actions.cuts import record_cut_failure
from moderation.actions.patrol import EVIDENCE_COMMENTS, _valid_reason, evidence_for
from moderation.models import Comment, Evidence, ModerationAction, Publisher, Stream, StreamKey

logger = logging.getLogger(__name__)
Kind = ModerationAction.Kind
MediaStatus = ModerationAction.MediaStatus

# How many drops run at once at one node, and how many threads the drops of a chunk use at most.
DROPS_PER_NODE = 4
MAX_DROP_THREADS = 32


@dataclass
class Blocked:
    """One stream's block in a bulk: its action (new, or taken before), or why it was not blocked."""

    stream_id: int
    action: ModerationAction | None = None
    new: bool = False
    error: str = ""  # not_found, stream_ended
    targets: list[Stream] = field(default_factory=list)  # the sessions the new block must drop


def block_streams(
    stream_ids: list[int],
    *,
    actor: User | None,
    reason: str,
    note: str,
    request_ids: dict[int, str],
    cooling_off_minutes: int | None = None,
) -> dict[int, Blocked]:
    """Block these streams in one transaction; return each stream's outcome (its drop not yet done).

    ``request_ids`` gives each stream's request id: a stream blocked before under it answers that block.
    """
    _valid_reason(reason)
    minutes = settings.LIVEWARD_BLOCK_COOLING_OFF_MINUTES if cooling_off_minutes is None else cooling_off_minutes
    outcome = {stream_id: Blocked(stream_id) for stream_id in stream_ids}
    with transaction.atomic():
        locked = Stream.objects.select_for_update(of=("self", "key")).select_related(
            "key", "publisher", "node", "category", "latest_snapshot"
        )
        streams = list(locked.filter(pk__in=list(stream_ids)).order_by("pk"))
        for stream_id in set(stream_ids) - {stream.pk for stream in streams}:
            outcome[stream_id].error = "not_found"
        taken = _taken_already(streams, request_ids, actor)
        now = timezone.now()
        until = now + timedelta(minutes=minutes)
        new: list[tuple[Stream, ModerationAction]] = []
        by_key: dict[int, ModerationAction] = {}  # a second stream of a key in the chunk: the key's block
        for stream in streams:
            existing = taken.get(stream.pk) or by_key.get(stream.key_id)
            if existing is not None:
                existing.replayed = True
                outcome[stream.pk].action = existing
                continue
            if stream.ended_at is not None and stream.end_reason != Stream.EndReason.REPLACED:
                outcome[stream.pk].error = "stream_ended"
                continue
            action = ModerationAction(
                actor=actor, kind=Kind.BLOCK, stream=stream, publisher_id=stream.publisher_id, reason=reason,
                note=note, request_id=request_ids.get(stream.pk), media_status=MediaStatus.PENDING, until=until, at=now,
            )  # fmt: skip
            by_key[stream.key_id] = action
            new.append((stream, action))
        if not new:
            return outcome
        chosen = [stream for stream, _action in new]
        # Deny first: from this commit on the keys cannot come back, whatever the media servers do.
        StreamKey.objects.filter(pk__in=[stream.key_id for stream in chosen]).update(denied_until=until)
        Publisher.objects.filter(pk__in=[stream.publisher_id for stream in chosen]).filter(
            Q(cooling_off_until__isnull=True) | Q(cooling_off_until__lt=until)
        ).update(cooling_off_until=until)
        ModerationAction.objects.bulk_create([action for _stream, action in new])
        latest = _latest_comments([stream.pk for stream in chosen])
        Evidence.objects.bulk_create(
            [row for stream, action in new for row in evidence_for(action, stream, latest.get(stream.pk, []))]
        )
        others = _other_sessions(chosen)
        log_staff_actions(
            actor, "stream.block", [(stream, {"action": action.pk, "reason": reason}) for stream, action in new]
        )
        accounts = {stream.publisher_id: stream.publisher.platform_account_id for stream in chosen}
        platform_events.streams_blocked([action for _stream, action in new], accounts)
        for stream, action in new:
            outcome[stream.pk].action, outcome[stream.pk].new = action, True
            outcome[stream.pk].targets = [stream, *others.get(stream.key_id, [])]
            transaction.on_commit(lambda stream_id=stream.pk: events.queue_delta(events.STREAM_BLOCKED, stream_id))
    return outcome


def _taken_already(
    streams: list[Stream], request_ids: dict[int, str], actor: User | None
) -> dict[int, ModerationAction]:
    """The block each stream already has: by its request id, on the stream itself, or pending on its key."""
    if not streams:
        return {}
    wanted = [request_ids[stream.pk] for stream in streams if request_ids.get(stream.pk)]
    by_request = {action.request_id: action for action in ModerationAction.objects.filter(request_id__in=wanted)}
    keys = {stream.key_id for stream in streams}
    blocks = ModerationAction.objects.filter(kind=Kind.BLOCK, stream__key_id__in=keys).filter(
        Q(stream_id__in=[stream.pk for stream in streams]) | Q(media_status=MediaStatus.PENDING)
    )
    on_stream: dict[int, ModerationAction] = {}
    pending_on_key: dict[int, ModerationAction] = {}
    for action in blocks.select_related("stream").order_by("pk"):
        on_stream.setdefault(action.stream_id, action)
        if action.media_status == MediaStatus.PENDING:
            pending_on_key.setdefault(action.stream.key_id, action)
    taken = {}
    actor_id = actor.pk if actor is not None else None
    for stream in streams:
        replay = by_request.get(request_ids.get(stream.pk) or "")
        if replay is not None and replay.actor_id == actor_id:
            taken[stream.pk] = replay
            continue
        candidates = [a for a in (on_stream.get(stream.pk), pending_on_key.get(stream.key_id)) if a is not None]
        if candidates:
            taken[stream.pk] = min(candidates, key=lambda action: action.pk)
    return taken


def _latest_comments(stream_ids: list[int]) -> dict[int, list[Comment]]:
    """The last EVIDENCE_COMMENTS comments of each stream, newest first, in one query."""
    ranked = Comment.objects.filter(stream_id__in=stream_ids).annotate(
        rank=Window(RowNumber(), partition_by=[F("stream_id")], order_by=[F("received_at").desc(), F("pk").desc()])
    )
    latest: dict[int, list[Comment]] = {}
    for comment in ranked.filter(rank__lte=EVIDENCE_COMMENTS).order_by("stream_id", "-received_at", "-pk"):
        latest.setdefault(comment.stream_id, []).append(comment)
    return latest


def _other_sessions(streams: list[Stream]) -> dict[int, list[Stream]]:
    """Other sessions of these streams' keys still on air (live, or replaced with their cut pending), by key."""
    uncut = ModerationAction.objects.filter(stream=OuterRef("pk"), kind=Kind.REPLACE, media_status=MediaStatus.PENDING)
    on_air = Stream.objects.select_related("node", "key").filter(key_id__in={stream.key_id for stream in streams})
    on_air = on_air.filter(Q(ended_at__isnull=True) | (Q(end_reason=Stream.EndReason.REPLACED) & Q(Exists(uncut))))
    others: dict[int, list[Stream]] = {}
    for session in on_air.exclude(pk__in=[stream.pk for stream in streams]).order_by("pk"):
        others.setdefault(session.key_id, []).append(session)
    return others


def drop_blocked(blocked: list[Blocked]) -> None:
    """Drop the new blocks' sessions at their nodes in parallel; record each block's outcome.

    A block whose every drop was answered is confirmed (or gone, when nothing was on air); one a
    node did not answer stays pending with its retry scheduled.
    """
    work = [item for item in blocked if item.new and item.targets]
    accounts = {item.targets[0].publisher_id: item.targets[0].publisher.platform_account_id for item in work}
    by_node: dict[int, list[Stream]] = {}
    for item in work:
        for stream in item.targets:
            by_node.setdefault(stream.node_id, []).append(stream)
    answers = _drop_in_parallel(by_node)
    now = timezone.now()
    dropped = [stream_id for stream_id, (count, _error) in answers.items() if count is not None]
    with transaction.atomic():
        closed = set(
            Stream.objects.select_for_update()
            .filter(pk__in=dropped, ended_at__isnull=True)
            .values_list("pk", flat=True)
        )
        Stream.objects.filter(pk__in=closed).update(ended_at=now, end_reason=Stream.EndReason.CUT)
        settled: dict[str, list[ModerationAction]] = {MediaStatus.CONFIRMED: [], MediaStatus.GONE: []}
        failed: list[tuple[int, str]] = []
        for item in work:
            errors = [answers[stream.pk][1] for stream in item.targets if answers[stream.pk][1]]
            if errors:
                failed.append((item.action.pk, "; ".join(errors)))
                continue
            any_dropped = any(answers[stream.pk][0] for stream in item.targets)
            settled[MediaStatus.CONFIRMED if any_dropped else MediaStatus.GONE].append(item.action)
        for status, settled_actions in settled.items():
            ids = [action.pk for action in settled_actions]
            confirmed = set(
                ModerationAction.objects.filter(pk__in=ids, media_status=MediaStatus.PENDING).values_list(
                    "pk", flat=True
                )
            )
            ModerationAction.objects.filter(pk__in=confirmed).update(
                media_status=status, media_confirmed_at=now, media_attempts=F("media_attempts") + 1, media_last_error=""
            )
            for action in settled_actions:
                action.media_status = status
            done = [action for action in settled_actions if action.pk in confirmed]
            platform_events.cuts_confirmed(done, accounts, outcome=status, at=now)
            for action in done:
                transaction.on_commit(
                    lambda stream_id=action.stream_id: events.queue_delta(events.STREAM_CUT_CONFIRMED, stream_id)
                )
        for stream_id in closed:
            transaction.on_commit(lambda stream_id=stream_id: events.stream_ended(stream_id, Stream.EndReason.CUT))
    for action_id, error in failed:
        record_cut_failure(action_id, error[:300])


def _drop_in_parallel(by_node: dict[int, list[Stream]]) -> dict[int, tuple[int | None, str]]:
    """Drop each session at its node, DROPS_PER_NODE at a time per node; return stream id → (count, error)."""
    answers: dict[int, tuple[int | None, str]] = {}
    lock = threading.Lock()

    def drop_each(streams: list[Stream]) -> None:
        for stream in streams:
            try:
                answer = (mediaservers.adapter_for(stream.node).drop(stream).dropped, "")
            except mediaservers.MediaServerError as exc:
                answer = (None, str(exc)[:150])
            except Exception as exc:  # whatever else a drop raises: the cut stays pending and is retried
                logger.exception("drop of stream %s failed", stream.pk)
                answer = (None, f"{type(exc).__name__}"[:150])
            with lock:
                answers[stream.pk] = answer

    shares = [
        streams[start::DROPS_PER_NODE] for streams in by_node.values() for start in range(DROPS_PER_NODE)
    ]  # each node's sessions dealt to DROPS_PER_NODE threads
    shares = [share for share in shares if share]
    threads: list[threading.Thread] = []
    for share in shares:
        thread = threading.Thread(target=drop_each, args=(share,), name="bulk-drop", daemon=True)
        threads.append(thread)
    for start in range(0, len(threads), MAX_DROP_THREADS):
        batch = threads[start : start + MAX_DROP_THREADS]
        for thread in batch:
            thread.start()
        for thread in batch:
            thread.join()
    return answers
