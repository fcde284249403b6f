"""Snapshots and machine-review verdicts: record them, flag the stream for review."""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import events
from moderation.actions.patrol import block_stream
from moderation.actions.queue_priority import refresh_queue_priority
from moderation.errors import ModerationError
from moderation.models import ModerationAction, ReasonCode, Snapshot, Stream

logger = logging.getLogger(__name__)

# Largest image accepted, decoded; a thumbnail is a few tens of kilobytes.
MAX_IMAGE_BYTES = 2 * 1024 * 1024
IMAGE_SIGNATURES = {b"\xff\xd8\xff": ".jpg", b"\x89PNG\r\n\x1a\n": ".png"}
VERDICT_LABEL_MAX = 64
FLAGGING_SUGGESTIONS = {Snapshot.Suggestion.REVIEW, Snapshot.Suggestion.BLOCK}


@dataclass(frozen=True)
class Verdict:
    """A machine-review service's opinion of a frame."""

    label: str
    score: float
    suggestion: str = Snapshot.Suggestion.NONE


def image_extension(data: bytes) -> str | None:
    """Return the file extension for JPEG or PNG bytes (by their magic bytes), None for anything else."""
    for signature, extension in IMAGE_SIGNATURES.items():
        if data.startswith(signature):
            return extension
    return None


def _check_verdict(verdict: Verdict) -> None:
    if not verdict.label or len(verdict.label) > VERDICT_LABEL_MAX:
        raise ModerationError(f"verdict label must be 1 to {VERDICT_LABEL_MAX} characters", code="bad_verdict")
    if not isinstance(verdict.score, int | float) or not math.isfinite(verdict.score) or not 0 <= verdict.score <= 1:
        raise ModerationError("verdict score must be between 0 and 1", code="bad_verdict")
    if verdict.suggestion not in Snapshot.Suggestion.values:
        raise ModerationError(f"unknown suggestion {str(verdict.suggestion)[:20]!r}", code="bad_verdict")


def verdict_flags_stream(verdict: Verdict | None) -> bool:
    """Tell whether a verdict puts the stream on the review list (suggestion or score)."""
    if verdict is None:
        return False
    return verdict.suggestion in FLAGGING_SUGGESTIONS or verdict.score >= settings.LIVEWARD_REVIEW_FLAG_SCORE


def verdict_blocks_stream(verdict: Verdict | None) -> bool:
    """Tell whether the auto-block policy (settings) says this verdict cuts the stream by itself."""
    if verdict is None or not verdict.suggestion:
        return False
    return (
        verdict.suggestion in settings.LIVEWARD_AUTO_BLOCK_SUGGESTIONS
        and verdict.score >= settings.LIVEWARD_AUTO_BLOCK_MIN_SCORE
    )


def record_snapshot(
    stream: Stream,
    *,
    image_bytes: bytes | None,
    source: str,
    verdict: Verdict | None = None,
    taken_at: datetime | None = None,
    actor: User | None = None,
) -> Snapshot:
    """Store a frame of a live stream (and a verdict on it); make it the card's snapshot."""
    Snapshot.Source(source)
    if image_bytes is None and verdict is None:
        raise ModerationError("a snapshot needs an image, a verdict or both", code="empty_snapshot")
    extension = None
    if image_bytes is not None:
        extension = image_extension(image_bytes)
        if extension is None:
            raise ModerationError("the image is neither JPEG nor PNG", code="not_an_image")
        if len(image_bytes) > MAX_IMAGE_BYTES:
            raise ModerationError(f"the image is larger than {MAX_IMAGE_BYTES} bytes", code="image_too_large")
    if verdict is not None:
        _check_verdict(verdict)
    taken_at = taken_at or timezone.now()

    snapshot = Snapshot(stream_id=stream.pk, taken_at=taken_at, source=source)
    if verdict is not None:
        snapshot.verdict_label = verdict.label
        snapshot.verdict_score = float(verdict.score)
        snapshot.verdict_suggestion = verdict.suggestion
    try:
        with transaction.atomic():
            locked = Stream.objects.select_for_update().get(pk=stream.pk)
            if not locked.is_live:
                raise ModerationError("the stream is not live", code="stream_not_live")
            if image_bytes is not None:
                snapshot.sha256 = hashlib.sha256(image_bytes).hexdigest()
                name = f"{stream.pk}-{taken_at:%H%M%S}-{secrets.token_hex(6)}{extension}"
                snapshot.image.save(name, ContentFile(image_bytes), save=False)
            snapshot.save()
            if image_bytes is not None and _is_newer_than_latest(locked, taken_at):
                locked.latest_snapshot = snapshot
                locked.save(update_fields=["latest_snapshot"])
                transaction.on_commit(lambda: events.stream_updated(locked.pk))
            if actor is not None:
                log_staff_action(
                    actor,
                    "snapshot.record",
                    target=snapshot,
                    data={"stream": stream.pk, "source": source, "verdict": verdict.label if verdict else ""},
                )
            if verdict_flags_stream(verdict):
                flag_stream_for_review(locked, label=verdict.label, score=float(verdict.score), actor=actor)
    except BaseException:
        # The row is gone with the transaction; do not leave its file behind.
        if snapshot.image:
            snapshot.image.storage.delete(snapshot.image.name)
        raise
    # After the snapshot's commit: the frame and flag are kept even if the block is refused.
    snapshot.auto_block = _block_by_policy(stream, verdict) if verdict_blocks_stream(verdict) else None
    return snapshot


def _block_by_policy(stream: Stream, verdict: Verdict) -> ModerationAction | None:
    note = f"machine review: {verdict.label} {verdict.score:g}"
    try:
        return block_stream(stream, actor=None, reason=ReasonCode.OTHER_ILLEGAL, note=note, request_id=None)
    except ModerationError as exc:  # ended or blocked meanwhile
        logger.info("machine review could not block stream %s: %s", stream.pk, exc)
        return None


def _is_newer_than_latest(stream: Stream, taken_at: datetime) -> bool:
    if stream.latest_snapshot_id is None:
        return True
    latest = Snapshot.objects.filter(pk=stream.latest_snapshot_id).values_list("taken_at", flat=True).first()
    return latest is None or latest <= taken_at


def flag_stream_for_review(stream: Stream, *, label: str, score: float, actor: User | None = None) -> Stream:
    """Put a machine-review flag on a live stream, raising its priority in the patrol queue."""
    if not label or len(label) > VERDICT_LABEL_MAX or not 0 <= score <= 1:
        raise ModerationError("a review flag needs a label and a score between 0 and 1", code="bad_verdict")
    with transaction.atomic():
        stream = Stream.objects.select_for_update().get(pk=stream.pk)
        if not stream.is_live:
            raise ModerationError("the stream is not live", code="stream_not_live")
        stream.review_flag = label
        stream.review_score = score
        stream.save(update_fields=["review_flag", "review_score"])
        refresh_queue_priority(stream_ids=[stream.pk])
        log_staff_action(actor, "stream.flag_for_review", target=stream, data={"label": label, "score": score})
        transaction.on_commit(lambda: events.stream_updated(stream.pk))
    return stream
