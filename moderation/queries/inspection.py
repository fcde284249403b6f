"""Reads of the inspection exports: each kind's rows in a period, as flat dicts (columns first)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import Prefetch
from django.utils import timezone

from accounts.models import StaffActionLog
from moderation.models import BlacklistEntry, Comment, CreditEvent, Evidence, GateDecision, ModerationAction, Stream

BATCH = 2000


def _iso(moment: datetime | None) -> str:
    return timezone.localtime(moment).isoformat() if moment else ""  # the console's zone, its offset stated


def _streams(start: datetime, end: datetime) -> Iterator[dict]:
    rows = Stream.objects.filter(started_at__gte=start, started_at__lt=end).order_by("started_at", "pk")
    for stream in rows.select_related("key", "category", "node").iterator(BATCH):
        yield {
            "id": stream.pk,
            "publisher_id": stream.publisher_id,
            "stream_key_id": stream.key_id,
            "category": stream.category.slug,
            "node": stream.node.name,
            "app": stream.app,
            "client_id": stream.client_id,
            "title": stream.title,
            "addr": stream.addr,
            "viewers": stream.viewers,
            "started_at": _iso(stream.started_at),
            "ended_at": _iso(stream.ended_at),
            "end_reason": stream.end_reason,
            "last_patrolled_at": _iso(stream.last_patrolled_at),
            "last_patrolled_by_id": stream.last_patrolled_by_id or "",
        }


def _gate_decisions(start: datetime, end: datetime) -> Iterator[dict]:
    rows = GateDecision.objects.filter(at__gte=start, at__lt=end).order_by("at", "pk").select_related("node")
    for decision in rows.iterator(BATCH):
        yield {
            "id": decision.pk,
            "at": _iso(decision.at),
            "hook": decision.hook,
            "node": decision.node.name if decision.node else "",
            "key_name": decision.key_name,
            "publisher_id": decision.publisher_id or "",
            "stream_id": decision.stream_id or "",
            "client_id": decision.client_id,
            "addr": decision.addr,
            "allowed": decision.allowed,
            "reason": decision.reason,
            "detail": decision.detail,
        }


def _actions(start: datetime, end: datetime) -> Iterator[dict]:
    evidence = Prefetch("evidence", queryset=Evidence.objects.order_by("pk"))
    rows = ModerationAction.objects.filter(at__gte=start, at__lt=end).order_by("at", "pk").select_related("actor")
    for action in rows.prefetch_related(evidence).iterator(BATCH):
        yield {
            "id": action.pk,
            "at": _iso(action.at),
            "kind": action.kind,
            "actor": action.actor.get_username() if action.actor else "",
            "stream_id": action.stream_id or "",
            "publisher_id": action.publisher_id or "",
            "reason": action.reason,
            "note": action.note,
            "media_status": action.media_status,
            "media_confirmed_at": _iso(action.media_confirmed_at),
            "until": _iso(action.until),
            "evidence": ";".join(f"{item.kind}:{item.sha256}" for item in action.evidence.all()),
        }


def _comments(start: datetime, end: datetime) -> Iterator[dict]:
    rows = Comment.objects.filter(received_at__gte=start, received_at__lt=end).order_by("received_at", "pk")
    for comment in rows.iterator(BATCH):
        yield {
            "id": comment.pk,
            "stream_id": comment.stream_id,
            "external_id": comment.external_id,
            "viewer_id": comment.viewer_id,
            "viewer_phone_verified": comment.viewer_phone_verified,
            "text": comment.text,
            "posted_at": _iso(comment.posted_at),
            "received_at": _iso(comment.received_at),
            "status": comment.status,
            "hold_reason": getattr(comment, "hold_reason", ""),
        }


def _staff_log(start: datetime, end: datetime) -> Iterator[dict]:
    rows = StaffActionLog.objects.filter(at__gte=start, at__lt=end).order_by("at", "pk")
    for line in rows.iterator(BATCH):
        yield {
            "id": line.pk,
            "at": _iso(line.at),
            "actor": line.actor_name,
            "verb": line.verb,
            "target_type": line.target_type,
            "target_id": line.target_id,
            "data": line.data,
            "ip": line.ip or "",
        }


def _blacklist(start: datetime, end: datetime) -> Iterator[dict]:
    rows = BlacklistEntry.objects.filter(created_at__gte=start, created_at__lt=end).order_by("created_at", "pk")
    for entry in rows.select_related("author").iterator(BATCH):
        yield {
            "reference": entry.reference,
            "created_at": _iso(entry.created_at),
            "kind": entry.kind,
            "masked_value": entry.masked_value,
            "reason": entry.reason,
            "note": entry.note,
            "status": entry.status,
            "expires_at": _iso(entry.expires_at),
            "author": entry.author.get_username() if entry.author else "",
            "report_status": entry.report_status,
        }


def _credit(start: datetime, end: datetime) -> Iterator[dict]:
    rows = CreditEvent.objects.filter(at__gte=start, at__lt=end).order_by("at", "pk").select_related("actor")
    for event in rows.iterator(BATCH):
        yield {
            "id": event.pk,
            "at": _iso(event.at),
            "publisher_id": event.publisher_id,
            "kind": event.kind,
            "points": event.points,
            "action_id": event.action_id or "",
            "reason": event.reason,
            "actor": event.actor.get_username() if event.actor else "",
        }


EXPORT_READERS = {
    "streams": _streams,
    "gate_decisions": _gate_decisions,
    "actions": _actions,
    "comments": _comments,
    "staff_log": _staff_log,
    "blacklist": _blacklist,
    "credit": _credit,
}


def export_rows(kind: str, start: datetime, end: datetime) -> Iterator[dict]:
    """The rows of one export kind in [start, end), oldest first."""
    return EXPORT_READERS[kind](start, end)
