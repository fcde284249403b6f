"""Records (Art. 14, 16): the purge beyond retention, and the audit that the last sixty days are whole.

``purge`` deletes what is past its retention and under no hold (``actions.purge_expired_records``).
``check`` looks at the last sixty days: every stream has the gate's allow that opened it (no gap in
the decision log), every piece of evidence still matches its SHA-256 (its stored file, or its JSON),
and every legal hold in force still covers at least what it held when it was placed.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from moderation import actions
from moderation.actions.records import count_held
from moderation.audits.context import AuditContext, Severity
from moderation.models import MINIMUM_RETENTION_DAYS, Evidence, GateDecision, LegalHold, Stream


def purge(context: AuditContext) -> dict:
    """Purge what is past its retention and under no legal hold in force."""
    return actions.purge_expired_records()


def _json_digest(content: dict) -> str:
    # The same serialisation keep_evidence hashes (moderation/actions/patrol.py).
    body = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def _file_digest(field) -> str | None:
    try:
        with field.storage.open(field.name, "rb") as handle:
            digest = hashlib.sha256()
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
            return digest.hexdigest()
    except (FileNotFoundError, OSError):
        return None


def check(context: AuditContext) -> dict:
    """Check the last sixty days: no stream without its allow, no evidence changed or gone, no hold broken."""
    since = timezone.now() - timedelta(days=MINIMUM_RETENTION_DAYS)
    allowed = GateDecision.objects.filter(stream=OuterRef("pk"), allowed=True, hook=GateDecision.Hook.PUBLISH)
    gaps = list(
        Stream.objects.filter(started_at__gte=since)
        .annotate(has_allow=Exists(allowed))
        .filter(has_allow=False)
        .values_list("pk", flat=True)[:1000]
    )
    streams = Stream.objects.in_bulk(gaps)
    for stream_id in gaps:
        context.finding(
            key=f"stream:{stream_id}:no-allow",
            severity=Severity.CRITICAL,
            title=f"stream {stream_id} has no gate decision that allowed it: a gap in the decision log",
            data={"stream": stream_id},
            stream=streams.get(stream_id),
        )
    evidence = Evidence.objects.filter(created_at__gte=since).order_by("pk")
    checked = changed = 0
    for item in evidence.iterator(2000):
        checked += 1
        digest = _file_digest(item.file) if item.file else _json_digest(item.content)
        if digest == item.sha256:
            continue
        changed += 1
        context.finding(
            key=f"evidence:{item.pk}:digest",
            severity=Severity.CRITICAL,
            title=(
                f"evidence {item.pk} of action {item.action_id}: "
                + ("its file is gone" if digest is None else "its SHA-256 no longer matches")
            ),
            data={"evidence": item.pk, "action": item.action_id, "stored": item.sha256, "now": digest},
        )
    broken = 0
    for hold in LegalHold.objects.filter(released_at__isnull=True):
        now_held = count_held(hold)
        short = {kind: count for kind, count in hold.held_counts.items() if now_held.get(kind, 0) < count}
        if short:
            broken += 1
            context.finding(
                key=f"hold:{hold.pk}:purged",
                severity=Severity.CRITICAL,
                title=f"records under legal hold {hold.pk} are missing: {short} held, now {now_held}",
                data={"hold": hold.pk, "held": hold.held_counts, "now": now_held},
                stream=hold.stream,
                publisher=hold.publisher,
            )
    return {
        "decision_gaps": len(gaps),
        "evidence_checked": checked,
        "evidence_changed": changed,
        "holds_broken": broken,
    }
