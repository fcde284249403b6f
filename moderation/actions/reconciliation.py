"""Reconciliation (docs/audits.md): what the gate holds live against what each node reports live.

Rows the node no longer has are closed with ``NODE_LOST``; a session live at a node without a live
row (no allow the console knows of) is cut at the node; a node that does not answer is marked
unreachable and its streams show as unknown on the wall until it answers again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.actions import log_staff_action
from moderation import events, mediaservers
from moderation.mediaservers import LiveSession, MediaServerError
from moderation.models import MediaServer, Stream, hash_stream_key
from moderation.models.publishers import STREAM_KEY_PREFIX_LENGTH

# A row opened (or closed) this recently may not show in the node's list yet (or still show in it):
# it is left to the next run.
SESSION_GRACE_SECONDS = 30


@dataclass
class NodeReconciliation:
    """What one node's reconciliation found and did."""

    node: MediaServer
    error: str = ""
    sessions: int = 0
    rows: int = 0
    closed: list[int] = field(default_factory=list)
    cut: list[LiveSession] = field(default_factory=list)
    cut_failed: list[tuple[LiveSession, str]] = field(default_factory=list)
    unknown_streams: int = 0


def _push_cards_of(node_id: int) -> None:
    for stream_id in Stream.objects.live().filter(node_id=node_id).values_list("pk", flat=True):
        events.stream_updated(stream_id)


def mark_node_unreachable(node: MediaServer, *, error: str, now: datetime | None = None) -> int:
    """Note that the node did not answer; the first time, its live streams' cards turn unknown. Return them."""
    now = now or timezone.now()
    with transaction.atomic():
        changed = MediaServer.objects.filter(pk=node.pk, unreachable_since__isnull=True).update(unreachable_since=now)
        if changed:
            log_staff_action(None, "node.unreachable", target=node, data={"error": error[:300]})
            transaction.on_commit(lambda: _push_cards_of(node.pk))
    return Stream.objects.live().filter(node=node).count()


def mark_node_reachable(node: MediaServer, *, now: datetime | None = None) -> None:
    """Note that the node answered; if it had been unreachable, its cards show their state again."""
    now = now or timezone.now()
    with transaction.atomic():
        back = MediaServer.objects.filter(pk=node.pk, unreachable_since__isnull=False).update(
            unreachable_since=None, reconciled_at=now
        )
        if back:
            log_staff_action(None, "node.reachable", target=node)
            transaction.on_commit(lambda: _push_cards_of(node.pk))
        else:
            MediaServer.objects.filter(pk=node.pk).update(reconciled_at=now)


def close_lost_stream(stream_id: int) -> bool:
    """Close a live row its node no longer reports (``NODE_LOST``); False if it was closed meanwhile."""
    with transaction.atomic():
        closed = Stream.objects.filter(pk=stream_id, ended_at__isnull=True).update(
            ended_at=timezone.now(), end_reason=Stream.EndReason.NODE_LOST
        )
        if closed:
            log_staff_action(None, "stream.node_lost", target=Stream(pk=stream_id))
            transaction.on_commit(lambda: events.stream_ended(stream_id, Stream.EndReason.NODE_LOST))
    return bool(closed)


def cut_unallowed_session(node: MediaServer, session: LiveSession) -> int:
    """Cut a session live at the node without a live row (no allow): log it, then drop it; return how many ended."""
    data = {
        "app": session.app,
        "key": session.name[:STREAM_KEY_PREFIX_LENGTH],
        "key_hash": hash_stream_key(session.name),
        "client_id": session.client_id,
        "addr": session.addr,
    }
    log_staff_action(None, "node.cut_unallowed", target=node, data=data)
    return mediaservers.adapter_for(node).drop_session(session).dropped


def reconcile_node(node: MediaServer) -> NodeReconciliation:
    """Compare the node's live sessions with the gate's live rows for it, and put right what differs."""
    result = NodeReconciliation(node=node)
    asked_at = timezone.now()
    try:
        # The node first, then the rows: a publish in between has its row, so it is not cut.
        sessions = mediaservers.adapter_for(node).live_streams()
    except MediaServerError as exc:
        result.error = str(exc)[:300]
        result.unknown_streams = mark_node_unreachable(node, error=result.error, now=asked_at)
        return result
    mark_node_reachable(node, now=asked_at)
    # Matched by the key's hash: the rows keep no key in plain text.
    at_node = {(session.app, hash_stream_key(session.name), session.client_id): session for session in sessions}
    live = Stream.objects.live().filter(node=node)
    rows = list(live.values_list("pk", "app", "key__key_hash", "client_id", "started_at"))
    result.sessions, result.rows = len(at_node), len(rows)
    grace = asked_at - timedelta(seconds=SESSION_GRACE_SECONDS)
    known = set()
    for stream_id, app, key, client_id, started_at in rows:
        known.add((app, key, client_id))
        if (app, key, client_id) not in at_node and started_at < grace and close_lost_stream(stream_id):
            result.closed.append(stream_id)
    unknown = [session for identity, session in at_node.items() if identity not in known]
    if unknown:
        # A row opened after the list was read, or closed just before it, is not a session without an allow.
        recent = set(
            Stream.objects.filter(node=node, client_id__in={session.client_id for session in unknown})
            .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=grace))
            .values_list("app", "key__key_hash", "client_id")
        )
        for session in unknown:
            if (session.app, hash_stream_key(session.name), session.client_id) in recent:
                continue
            try:
                cut_unallowed_session(node, session)
            except MediaServerError as exc:
                result.cut_failed.append((session, str(exc)[:200]))
            else:
                result.cut.append(session)
    return result
