"""Comments pushed by the platform, and staff releasing or rejecting the ones held (Art. 11)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import comment_holds, events, permissions, queries, sensitive_terms, text_input
from moderation.actions.webhooks import notify_platform
from moderation.errors import ModerationError
from moderation.models import Comment, Stream

TEXT_MAX = 2000
ID_MAX = 64
NOTE_MAX = 300
BULK_DECISION_MAX = 500


@dataclass(frozen=True)
class IncomingComment:
    """One comment as the platform pushes it."""

    stream_id: int
    external_id: str
    viewer_id: str
    text: str
    viewer_phone_verified: bool = False
    posted_at: datetime | None = None


@dataclass
class Received:
    """One comment's outcome in a batch: its stored row (new or replayed) or the error that refused it."""

    external_id: str
    comment: Comment | None = None
    replayed: bool = False
    error: ModerationError | None = None


def _refusal(item: IncomingComment) -> ModerationError | None:
    if not isinstance(item.external_id, str) or not 1 <= len(item.external_id) <= ID_MAX:
        return ModerationError(f"id of 1–{ID_MAX} characters is required", code="bad_field")
    if not isinstance(item.viewer_id, str) or not 1 <= len(item.viewer_id) <= ID_MAX:
        return ModerationError(f"viewer_id of 1–{ID_MAX} characters is required", code="bad_field")
    if not isinstance(item.text, str) or not item.text.strip() or len(item.text) > TEXT_MAX:
        return ModerationError(f"text of 1–{TEXT_MAX} characters is required", code="bad_field")
    for name, value, multiline in (
        ("id", item.external_id, False),
        ("viewer_id", item.viewer_id, False),
        ("text", item.text, True),
    ):
        refused = text_input.refusal(value, multiline=multiline)
        if refused is not None:
            return ModerationError(refused.describe(name), code="bad_text")
    return None


def receive_comments(items: Sequence[IncomingComment], *, actor: User | None) -> list[Received]:
    """Take a batch of comments from the platform and decide each: publish, hold or block.

    Every comment is stored with its verdict and the terms it matched. An id seen before returns its
    first verdict (``replayed``); an id twice in one batch, a bad field, an unknown or ended stream
    refuse that item only. The rest are written in one transaction: all of them or, on a failure,
    none. A cost of five queries per batch, whatever its size: streams, known ids, mutes, the insert,
    and the term list's version at most every ``LIVEWARD_TERMS_REFRESH_SECONDS``.
    """
    results = [Received(external_id=item.external_id if isinstance(item.external_id, str) else "") for item in items]
    pending: dict[str, int] = {}  # external id → index of the item that carries it
    for index, item in enumerate(items):
        error = _refusal(item)
        if error is None and item.external_id in pending:
            error = ModerationError("this id is in the batch already", code="duplicate_in_batch")
        if error is not None:
            results[index].error = error
            continue
        pending[item.external_id] = index
    if not pending:
        return results
    matcher = sensitive_terms.current_matcher()  # before any write: a list that cannot load fails the batch
    for attempt in range(2):
        _replay_known(items, results, pending)
        todo = [index for index in pending.values() if results[index].comment is None and not results[index].error]
        if not todo:
            return results
        try:
            _store(items, results, todo, matcher)
            return results
        except IntegrityError:  # an id raced in from another request meanwhile: read it as known, once
            if attempt:
                for index in todo:
                    results[index].error = ModerationError("this comment is being received already", code="conflict")
                    results[index].comment = None
    return results


def _replay_known(items, results: list[Received], pending: dict[str, int]) -> None:
    known = Comment.objects.filter(external_id__in=list(pending)).only(*_VERDICT_FIELDS)
    for comment in known:
        index = pending[comment.external_id]
        if comment.stream_id != items[index].stream_id:
            results[index].error = ModerationError("this comment id was used on another stream", code="conflict")
        else:
            comment.replayed = True
            results[index].comment, results[index].replayed = comment, True


_VERDICT_FIELDS = (
    "id", "external_id", "stream_id", "status", "hold_reason", "block_reason", "matched_terms", "flagged",
    "received_at", "term_list_version",
)  # fmt: skip


def _store(items, results: list[Received], todo: list[int], matcher) -> None:
    streams = Stream.objects.select_related("category", "publisher", "latest_snapshot").in_bulk(
        {items[index].stream_id for index in todo}
    )
    now = timezone.now()
    muted = queries.muted_viewers({items[index].viewer_id for index in todo}, at=now)
    created: list[tuple[int, Comment]] = []
    attnames, defaults, stream_field = _COLUMN_ORDER, _COLUMN_DEFAULTS, Comment._meta.get_field("stream")
    for index in todo:
        item = items[index]
        stream = streams.get(item.stream_id)
        if stream is None:
            results[index].error = ModerationError("no such stream", code="not_found")
            continue
        if stream.ended_at is not None:
            results[index].error = ModerationError("the stream has ended", code="stream_ended")
            continue
        matches = matcher.match(item.text)
        incoming = comment_holds.Incoming(
            stream=stream,
            text=item.text,
            viewer_id=item.viewer_id,
            viewer_phone_verified=item.viewer_phone_verified,
            muted=(item.viewer_id, None) in muted or (item.viewer_id, stream.pk) in muted,
            matches=matches,
        )
        verdict = comment_holds.verdict_for(incoming)
        outcome = verdict.outcome if verdict else comment_holds.PUBLISH
        values = {
            "stream_id": stream.pk,
            "external_id": item.external_id,
            "viewer_id": item.viewer_id,
            "viewer_phone_verified": item.viewer_phone_verified,
            "text": item.text,
            "posted_at": item.posted_at or now,
            "received_at": now,
            "status": _STATUS_OF[outcome],
            "hold_reason": verdict.reason if outcome == comment_holds.HOLD else "",
            "block_reason": verdict.reason if outcome == comment_holds.BLOCK else "",
            "matched_terms": matches.as_list(),
            "flagged": matches.flags,
            "term_list_version": matches.version or None,
        }
        # Positional arguments: Django's fast path (keyword arguments cost more than the matching).
        comment = Comment(*[values.get(name, defaults.get(name)) for name in attnames])
        stream_field.set_cached_value(comment, stream)
        created.append((index, comment))
    if not created:
        return
    with transaction.atomic():
        _insert([comment for _index, comment in created])
        held = [queries.comment_row(comment) for _index, comment in created if comment.status == Comment.Status.HELD]
        if held:
            transaction.on_commit(lambda: events.comments_held(held))
    for index, comment in created:
        comment.replayed = False
        results[index].comment = comment


_COLUMN_ORDER = [field.attname for field in Comment._meta.concrete_fields]
_COLUMN_DEFAULTS = {"id": None, "decided_by_id": None, "decided_at": None, "decision_note": ""}

# Every column a new comment fills (the rest are null until a decision).
_INSERT_FIELDS = (
    "stream_id", "external_id", "viewer_id", "viewer_phone_verified", "text", "posted_at", "received_at", "status",
    "hold_reason", "block_reason", "matched_terms", "flagged", "term_list_version", "decision_note",
)  # fmt: skip


def _insert(comments: list[Comment]) -> None:
    """Insert new comments in multi-row INSERTs, setting their ids.

    What ``bulk_create`` does, without preparing each of the 14 values of 500 rows through its field:
    that cost more than the rest of a batch (profiled: bench/comments.py). Values are adapted here,
    the way the fields would: JSON as text, date-times by the backend's adapter.
    """
    if not connection.features.can_return_rows_from_bulk_insert:
        Comment.objects.bulk_create(comments)
        return
    operations = connection.ops
    table = operations.quote_name(Comment._meta.db_table)
    columns = ", ".join(operations.quote_name(Comment._meta.get_field(name).column) for name in _INSERT_FIELDS)
    row = "(" + ", ".join(["%s"] * len(_INSERT_FIELDS)) + ")"
    size = max(1, operations.bulk_batch_size(_INSERT_FIELDS, comments))
    adapt_time = operations.adapt_datetimefield_value
    with connection.cursor() as cursor:
        for start in range(0, len(comments), size):
            chunk = comments[start : start + size]
            values = []
            for comment in chunk:
                values += [
                    comment.stream_id, comment.external_id, comment.viewer_id, comment.viewer_phone_verified,
                    comment.text, adapt_time(comment.posted_at), adapt_time(comment.received_at), comment.status,
                    comment.hold_reason, comment.block_reason,
                    json.dumps(comment.matched_terms, ensure_ascii=False) if comment.matched_terms else "[]",
                    comment.flagged, comment.term_list_version, comment.decision_note,
                ]  # fmt: skip
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(chunk))} RETURNING "
                f"{operations.quote_name('id')}",
                values,
            )
            for comment, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                comment.pk = pk
                comment._state.adding = False
                comment._state.db = connection.alias


_STATUS_OF = {
    comment_holds.PUBLISH: Comment.Status.PUBLISHED,
    comment_holds.HOLD: Comment.Status.HELD,
    comment_holds.BLOCK: Comment.Status.BLOCKED,
}


def verdict_of(comment: Comment) -> str:
    """Return what the platform does with the comment now: publish, hold or block."""
    if comment.status in (Comment.Status.PUBLISHED, Comment.Status.RELEASED):
        return comment_holds.PUBLISH
    if comment.status == Comment.Status.HELD:
        return comment_holds.HOLD
    return comment_holds.BLOCK


def receive_comment(
    stream: Stream,
    *,
    external_id: str,
    viewer_id: str,
    text: str,
    viewer_phone_verified: bool = False,
    posted_at: datetime | None = None,
    actor: User | None,
) -> Comment:
    """Take one comment from the platform (``receive_comments`` with a batch of one); raise its refusal.

    The same ``external_id`` again returns the first comment (``comment.replayed`` is True).
    """
    item = IncomingComment(
        stream_id=stream.pk,
        external_id=external_id,
        viewer_id=viewer_id,
        text=text,
        viewer_phone_verified=viewer_phone_verified,
        posted_at=posted_at,
    )
    (result,) = receive_comments([item], actor=actor)
    if result.error is not None:
        raise result.error
    return result.comment


def decide_held_comment(comment: Comment, *, release: bool, actor: User, note: str = "") -> Comment:
    """Release a held comment to the platform, or reject it; the platform learns it by webhook."""
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ModerationError(f"the note is longer than {NOTE_MAX} characters", code="bad_field")
    with transaction.atomic():
        comment = Comment.objects.select_for_update().select_related("stream__publisher").get(pk=comment.pk)
        if not permissions.may(actor, permissions.comment_review_capability(comment.hold_reason)):
            raise ModerationError("your role may not do this", code="forbidden")
        if comment.status != Comment.Status.HELD:
            raise ModerationError(f"the comment is {comment.status} already", code="conflict")
        comment.status = Comment.Status.RELEASED if release else Comment.Status.REJECTED
        comment.decided_by = actor
        comment.decided_at = timezone.now()
        comment.decision_note = note
        comment.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        verb = "released" if release else "rejected"
        log_staff_action(actor, f"comment.{verb}", target=comment, data={"stream": comment.stream_id})
        notify_platform(
            f"comment.{verb}",
            {
                "comment": comment.external_id,
                "stream": comment.stream_id,
                "status": comment.status,
                "decided_at": comment.decided_at,
            },
        )
        rows = [queries.comment_row(comment)]
        transaction.on_commit(lambda: events.comments_decided(rows))
    return comment


def decide_held_comments(
    *, actor: User, release: bool, comment_ids: Sequence[int] = (), stream: Stream | None = None, note: str = ""
) -> list[Comment]:
    """Release or reject held comments: a selection by id, or every comment held on a stream.

    Each comment is decided only if the actor may decide its hold reason (moderation/permissions.py);
    a comment decided already is left alone. The platform learns the decisions in one signed webhook
    (``comments.decided``), consoles in one frame. Return the comments decided now.
    """
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ModerationError(f"the note is longer than {NOTE_MAX} characters", code="bad_field")
    if not comment_ids and stream is None:
        raise ModerationError("comments (a list of ids) or stream (an id) is required", code="missing_field")
    if (
        not isinstance(comment_ids, list | tuple)
        or len(comment_ids) > BULK_DECISION_MAX
        or not all(isinstance(value, int) and not isinstance(value, bool) and value > 0 for value in comment_ids)
    ):
        raise ModerationError(f"comments must be a list of 1–{BULK_DECISION_MAX} comment ids", code="bad_field")
    with transaction.atomic():
        held = Comment.objects.select_for_update().filter(status=Comment.Status.HELD)
        held = held.filter(pk__in=list(comment_ids)) if comment_ids else held.filter(stream=stream)
        held = list(held.order_by("pk")[:BULK_DECISION_MAX])
        allowed = {
            reason: permissions.may(actor, permissions.comment_review_capability(reason))
            for reason in {comment.hold_reason for comment in held}
        }
        if held and not any(allowed.values()):
            raise ModerationError("your role may not do this", code="forbidden")
        decided = [comment for comment in held if allowed[comment.hold_reason]]
        if not decided:
            return []
        now = timezone.now()
        status = Comment.Status.RELEASED if release else Comment.Status.REJECTED
        Comment.objects.filter(pk__in=[comment.pk for comment in decided]).update(
            status=status, decided_by=actor, decided_at=now, decision_note=note
        )
        streams = Stream.objects.select_related("publisher", "latest_snapshot").in_bulk(
            {comment.stream_id for comment in decided}
        )
        for comment in decided:
            comment.status, comment.decided_by, comment.decided_at, comment.decision_note = status, actor, now, note
            comment.stream = streams[comment.stream_id]
        verb = "released" if release else "rejected"
        log_staff_action(
            actor,
            f"comments.{verb}",
            data={"comments": [comment.pk for comment in decided], "streams": sorted(streams), "note": note},
        )
        notify_platform(
            "comments.decided",
            {
                "comments": [
                    {"comment": comment.external_id, "stream": comment.stream_id, "status": status, "decided_at": now}
                    for comment in decided
                ]
            },
        )
        rows = [queries.comment_row(comment) for comment in decided]
        transaction.on_commit(lambda: events.comments_decided(rows))
    return decided
