"""Audiences (分级 by audience size, Art. 7): viewer counts from the nodes and the platform, and the cap.

Counts come from each node's stat (polled by beat, ``moderation.tasks.audiences``) and from the
platform's API where it knows better (CDN edges, app players). A changed count updates the card and
the patrol priority; a count above the publisher's credit-level audience cap flags the stream.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import credit_policy, events
from moderation.actions.queue_priority import refresh_queue_priority
from moderation.errors import ModerationError
from moderation.models import MediaServer, Stream

# More than this many concurrent viewers of one stream is not a count, it is a bug or a lie.
VIEWERS_MAX = 50_000_000
OVER_CAP_FLAG = "audience_over_cap"
OVER_CAP_SCORE = 0.9  # ranks with a strong machine-review flag in the patrol priority


def record_node_viewers(node: MediaServer, sessions: Iterable) -> int:
    """Write the viewer counts a node's stat reports for its live sessions; return how many changed.

    ``sessions`` are the adapter's ``LiveSession`` rows; a session without a count is left alone.
    """
    counts = {
        (session.name, session.client_id): session.viewers
        for session in sessions
        if session.viewers is not None and 0 <= session.viewers <= VIEWERS_MAX
    }
    if not counts:
        return 0
    changed = 0
    live = Stream.objects.live().filter(node=node).select_related("publisher")
    for stream in live:
        viewers = counts.get((stream.published_name, stream.client_id))
        if viewers is not None and viewers != stream.viewers:
            changed += _set_viewers(stream, viewers)
    return changed


def report_viewers(stream: Stream, *, viewers: int, actor: User | None) -> Stream:
    """Record the platform's viewer count for a live stream (it counts where the node cannot)."""
    if isinstance(viewers, bool) or not isinstance(viewers, int) or not 0 <= viewers <= VIEWERS_MAX:
        raise ModerationError(f"viewers must be a whole number from 0 to {VIEWERS_MAX}", code="bad_field")
    stream = Stream.objects.select_related("publisher").get(pk=stream.pk)
    if not stream.is_live:
        raise ModerationError("the stream is not live", code="stream_not_live")
    if viewers != stream.viewers:
        _set_viewers(stream, viewers)
        log_staff_action(actor, "stream.report_viewers", target=stream, data={"viewers": viewers})
    stream.viewers = viewers
    return stream


def _set_viewers(stream: Stream, viewers: int) -> int:
    """Update one live stream's count (and its over-cap flag); tell consoles. 1 if written, else 0."""
    cap = credit_policy.audience_cap_for(stream.publisher)
    fields = {"viewers": viewers}
    over = cap is not None and viewers > cap
    if over and stream.review_flag != OVER_CAP_FLAG and (stream.review_score or 0) < OVER_CAP_SCORE:
        fields.update(review_flag=OVER_CAP_FLAG, review_score=OVER_CAP_SCORE)
    with transaction.atomic():
        written = Stream.objects.filter(pk=stream.pk, ended_at__isnull=True).update(**fields)
        if written and "review_flag" in fields:
            log_staff_action(None, "stream.audience_over_cap", target=stream, data={"viewers": viewers, "cap": cap})
        if written:
            refresh_queue_priority(stream_ids=[stream.pk])
            stream_id = stream.pk
            transaction.on_commit(lambda: events.stream_updated(stream_id))
    return written
