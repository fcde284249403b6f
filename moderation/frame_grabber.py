"""Grabbing frames of live streams with ffmpeg, and finding the streams due one.

A grab pulls the stream from the play URL its node's adapter gives (moderation/mediaservers),
decodes one frame, scales it to a thumbnail and writes JPEG to a pipe; it is killed after
``settings.LIVEWARD_SNAPSHOT_TIMEOUT`` seconds. A failed grab is logged and records nothing.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from moderation import actions, credit_policy, mediaservers
from moderation.actions.snapshots import MAX_IMAGE_BYTES
from moderation.models import Category, Snapshot, Stream

logger = logging.getLogger(__name__)

THUMBNAIL_WIDTH = 320
CLAIM_KEY = "snapshot-claim:{stream_id}"


class FrameGrabFailed(Exception):
    """ffmpeg could not deliver a frame (missing, timed out, stream gone, not an image)."""


def grab_frame(url: str, *, timeout: float) -> bytes:
    """Return one JPEG thumbnail frame of the stream at ``url``; raise FrameGrabFailed otherwise."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise FrameGrabFailed("ffmpeg is not installed")
    command = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error"]
    # rw_timeout ends a stalled read inside ffmpeg; the process timeout below is the hard limit.
    command += ["-rw_timeout", str(int(timeout * 1_000_000))]
    if urlsplit(url).scheme.startswith("rtmp"):
        command += ["-rtmp_live", "live"]
    command += ["-i", url, "-an", "-frames:v", "1", "-vf", f"scale={THUMBNAIL_WIDTH}:-2", "-q:v", "5"]
    command += ["-f", "mjpeg", "pipe:1"]
    try:
        result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise FrameGrabFailed(f"no frame within {timeout:g}s") from None
    except OSError as exc:
        raise FrameGrabFailed(f"ffmpeg could not run: {exc}") from None
    if result.returncode != 0 or not result.stdout:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        raise FrameGrabFailed(f"ffmpeg exited {result.returncode}: {message[-1] if message else 'no output'}")
    if not result.stdout.startswith(b"\xff\xd8") or len(result.stdout) > MAX_IMAGE_BYTES:
        raise FrameGrabFailed("ffmpeg did not write a JPEG thumbnail")
    return result.stdout


def capture_snapshot(stream: Stream) -> Snapshot | None:
    """Grab a frame of a live stream and record it; on any failure log it and return None."""
    try:
        url = mediaservers.adapter_for(stream.node).play_url(stream)
    except mediaservers.MediaServerError as exc:  # a node of a kind no adapter speaks
        logger.warning("no snapshot of stream %s: %s", stream.pk, exc)
        return None
    if url is None:
        logger.info("no snapshot of stream %s: node %s has no play URL", stream.pk, stream.node.name)
        return None
    try:
        image = grab_frame(url, timeout=settings.LIVEWARD_SNAPSHOT_TIMEOUT)
    except FrameGrabFailed as exc:
        logger.warning("no snapshot of stream %s from node %s: %s", stream.pk, stream.node.name, exc)
        return None
    try:
        return actions.record_snapshot(stream, image_bytes=image, source=Snapshot.Source.CAPTURE)
    except actions.ModerationError as exc:  # the stream ended while ffmpeg ran
        logger.info("snapshot of stream %s not recorded: %s", stream.pk, exc)
        return None


def streams_due_for_snapshot(now: datetime | None = None) -> list[tuple[int, int]]:
    """Return (stream id, interval seconds) of live streams whose latest snapshot is older than their interval.

    A stream's interval is its category's, tightened by its publisher's credit level when the level
    sets one (moderation.credit_policy.snapshot_interval_for). Two queries whatever the number of streams:
    the categories' intervals, then the streams; the level intervals come from the cached policy.
    """
    now = now or timezone.now()
    intervals = set(Category.objects.values_list("snapshot_interval_seconds", flat=True))
    if not intervals:
        return []
    level_intervals = {
        level.code: level.snapshot_interval_seconds
        for level in credit_policy.current_policy().levels
        if level.snapshot_interval_seconds
    }

    def stale(seconds: int) -> Q:
        return Q(latest_snapshot__isnull=True) | Q(latest_snapshot__taken_at__lte=now - timedelta(seconds=seconds))

    due = Q()
    for seconds in intervals:
        by_category = Q(category__snapshot_interval_seconds=seconds)
        due |= by_category & ~Q(publisher__credit_level__in=list(level_intervals)) & stale(seconds)
        for code, level_seconds in level_intervals.items():
            due |= by_category & Q(publisher__credit_level=code) & stale(min(seconds, level_seconds))
    rows = (
        Stream.objects.live()
        .filter(due, node__enabled=True)
        .exclude(node__play_url="")
        .order_by("category__risk_tier", "pk")
        .values_list("pk", "category__snapshot_interval_seconds", "publisher__credit_level")
    )
    return [
        (pk, credit_policy.snapshot_interval_for(category_seconds=seconds, level_code=level))
        for pk, seconds, level in rows
    ]


def claim_due_snapshots(now: datetime | None = None) -> list[tuple[int, int]]:
    """Claim the streams due a snapshot for one interval each; return those claimed here.

    The claim is a cache key added only if absent, so two beat ticks or workers never claim the
    same stream twice within its interval.
    """
    claimed = []
    for stream_id, seconds in streams_due_for_snapshot(now):
        if cache.add(CLAIM_KEY.format(stream_id=stream_id), 1, timeout=max(seconds, 1)):
            claimed.append((stream_id, seconds))
    return claimed
