"""The ingest gate's writes: decisions, streams opened, replaced and closed."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from moderation import events
from moderation.actions.cuts import PUBLISHER_CUT_KINDS, cut_in_background
from moderation.actions.queue_priority import initial_queue_priority
from moderation.actions.terms import check_title_soon
from moderation.models import (
    GateDecision,
    MediaServer,
    ModerationAction,
    Stream,
    StreamKey,
    hash_stream_key,
)
from moderation.models.publishers import STREAM_KEY_PREFIX_LENGTH


def record_gate_decision(
    *,
    hook: str,
    allowed: bool,
    reason: str,
    node: MediaServer | None = None,
    key_name: str = "",
    stream_key_id: int | None = None,
    publisher_id: int | None = None,
    stream_id: int | None = None,
    client_id: str = "",
    addr: str = "",
    detail: str = "",
    at: datetime | None = None,
) -> GateDecision:
    """Keep one gate decision with its reason; of the key presented, only its first characters and its hash."""
    return GateDecision.objects.create(
        at=at or timezone.now(),
        hook=hook,
        node=node,
        key_name=key_name[:STREAM_KEY_PREFIX_LENGTH],
        key_hash=hash_stream_key(key_name) if key_name else "",
        stream_key_id=stream_key_id,
        publisher_id=publisher_id,
        stream_id=stream_id,
        client_id=client_id[:64],
        addr=addr[:64],
        allowed=allowed,
        reason=reason,
        detail=detail[:300],
    )


def open_stream(
    stream_key: StreamKey,
    *,
    node: MediaServer,
    app: str,
    client_id: str,
    addr: str,
    title: str,
    published_name: str,
    at: datetime | None = None,
) -> Stream:
    """Open a stream for an allowed publish (the key has no other live session: see replace_live_session).

    ``published_name`` is the name the node publishes it under (the key presented), kept encrypted
    so the stream can be dropped and played at its node.
    """
    at = at or timezone.now()
    stream = Stream.objects.create(
        key=stream_key,
        published_name=published_name,
        publisher_id=stream_key.publisher_id,
        category_id=stream_key.category_id,
        node=node,
        app=app,
        client_id=client_id,
        addr=addr,
        title=title or stream_key.default_title,
        started_at=at,
        queue_priority=initial_queue_priority(stream_key),
    )
    transaction.on_commit(lambda: events.stream_opened(stream.pk))
    transaction.on_commit(lambda: check_title_soon(stream.pk))  # the sensitive terms, off the gate's threads
    return stream


def replace_live_session(stream_id: int, *, publisher_id: int, note: str, at: datetime) -> ModerationAction | None:
    """End a key's live session for a new publish of the key, and cut it at its node; None if it had ended.

    The cut is a ``replace`` action, pending until the node confirms, made on a background thread
    after the commit (the publish is not kept waiting on the old session's node) and retried like
    any cut. Until it is confirmed every measure on the key or publisher cuts that session too.
    """
    ended = Stream.objects.filter(pk=stream_id, ended_at__isnull=True).update(
        ended_at=at, end_reason=Stream.EndReason.REPLACED
    )
    if not ended:
        return None
    node_id = Stream.objects.filter(pk=stream_id).values_list("node_id", flat=True).first()
    action = ModerationAction.objects.create(
        kind=ModerationAction.Kind.REPLACE,
        stream_id=stream_id,
        publisher_id=publisher_id,
        note=note[:1000],
        media_status=ModerationAction.MediaStatus.PENDING,
        at=at,
    )
    transaction.on_commit(lambda: events.stream_ended(stream_id, Stream.EndReason.REPLACED))
    transaction.on_commit(lambda: cut_in_background(action.pk, node_id=node_id))
    return action


def end_stream_session(
    *, node: MediaServer, client_id: str, key_name: str, reason: str = Stream.EndReason.UNPUBLISHED
) -> int | None:
    """Close the live stream of this node session (publish_done / unpublish); return its id, None if none."""
    live = Stream.objects.filter(
        node=node, client_id=client_id, key__key_hash=hash_stream_key(key_name), ended_at__isnull=True
    )
    found = next(iter(live.values_list("pk", "publisher_id")[:1]), None)
    if found is None:
        return None
    stream_id, publisher_id = found
    # A publisher who left while a cut of this stream (a block) or of all their streams (a suspension,
    # a closure) was pending was cut: the record says so, whichever of the drop and the callback is first.
    cutting_this_stream = Q(stream_id=stream_id) | Q(publisher_id=publisher_id, kind__in=PUBLISHER_CUT_KINDS)
    if ModerationAction.objects.filter(cutting_this_stream, media_status=ModerationAction.MediaStatus.PENDING).exists():
        reason = Stream.EndReason.CUT
    # Conditional on still being live, so a concurrent close (a cut, a replacement) wins once.
    with transaction.atomic():
        closed = Stream.objects.filter(pk=stream_id, ended_at__isnull=True).update(
            ended_at=timezone.now(), end_reason=reason
        )
        if closed:
            transaction.on_commit(lambda: events.stream_ended(stream_id, reason))
    return stream_id if closed else None


def touch_stream_session(*, node: MediaServer, client_id: str, key_name: str) -> int:
    """Note that a node still reports the session live; return how many open streams matched."""
    live = Stream.objects.filter(
        node=node, client_id=client_id, key__key_hash=hash_stream_key(key_name), ended_at__isnull=True
    )
    return live.update(last_update_at=timezone.now())


def withdraw_unanswered_stream(stream_id: int) -> int | None:
    """Close a stream whose publish the node was refused while its decision still committed; keep why.

    The gate answered for a decision the database held past the answer budget (a deny), so the node
    never ran this session; a live row would show it on air (moderation/gate/faults.py).
    """
    with transaction.atomic():
        stream = Stream.objects.select_related("key", "node").filter(pk=stream_id, ended_at__isnull=True).first()
        if stream is None:
            return None  # its decision rolled back, or it is closed already
        now = timezone.now()
        Stream.objects.filter(pk=stream_id, ended_at__isnull=True).update(
            ended_at=now, end_reason=Stream.EndReason.GATE_DENIED
        )
        record_gate_decision(
            hook=GateDecision.Hook.PUBLISH,
            allowed=False,
            reason=GateDecision.Reason.GATE_ERROR,
            node=stream.node,
            key_name=stream.published_name,
            stream_key_id=stream.key_id,
            publisher_id=stream.publisher_id,
            stream_id=stream_id,
            client_id=stream.client_id,
            detail="withdrawn: the gate answered before the database let the decision finish",
            at=now,
        )
        transaction.on_commit(lambda: events.stream_ended(stream_id, Stream.EndReason.GATE_DENIED))
    return stream_id
