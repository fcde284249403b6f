"""Comments pushed by the platform, and staff releasing or rejecting the ones held (Art. 11)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from django.db import connection, transaction
from django.utils import timezone

import orjson

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


class IncomingComment(NamedTuple):
    """One comment as the platform pushes it."""

    stream_id: int
    external_id: str
    viewer_id: str
    text: str
    viewer_phone_verified: bool = False
    posted_at: datetime | None = None


class Stored(NamedTuple):
    """A stored comment's verdict as the batch answer gives it (no model instance per comment)."""

    pk: int
    stream_id: int
    status: str
    hold_reason: str
    block_reason: str
    matched_terms: list
    flagged: bool


@dataclass
class Received:
    """One comment's outcome in a batch: its stored verdict (new or replayed) or the error that refused it."""

    external_id: str
    stored: Stored | None = None
    replayed: bool = False
    error: ModerationError | None = None
    _comment: Comment | None = field(default=None, repr=False)

    @property
    def comment(self) -> Comment | None:
        """The stored comment as a model instance, read on first use (the batch answer does without one)."""
        if self.stored is None:
            return None
        if self._comment is None:
            self._comment = Comment.objects.select_related("stream").get(pk=self.stored.pk)
            self._comment.replayed = self.replayed
        return self._comment


_TEXT_FIELDS = (("id", 1, False), ("viewer_id", 2, False), ("text", 3, True))


def _refusal(item: IncomingComment) -> ModerationError | None:
    external_id, viewer_id, text = item.external_id, item.viewer_id, item.text
    if not isinstance(external_id, str) or not 1 <= len(external_id) <= ID_MAX:
        return ModerationError(f"id of 1–{ID_MAX} characters is required", code="bad_field")
    if not isinstance(viewer_id, str) or not 1 <= len(viewer_id) <= ID_MAX:
        return ModerationError(f"viewer_id of 1–{ID_MAX} characters is required", code="bad_field")
    if not isinstance(text, str) or not text.strip() or len(text) > TEXT_MAX:
        return ModerationError(f"text of 1–{TEXT_MAX} characters is required", code="bad_field")
    # Both ids in one search (neither may hold a line break or control character); which one failed
    # is looked for only then. The text, which may hold line breaks, in a second.
    if text_input.refusal(external_id + viewer_id) is None and text_input.refusal(text, multiline=True) is None:
        return None
    for name, position, multiline in _TEXT_FIELDS:
        refused = text_input.refusal(item[position], multiline=multiline)
        if refused is not None:
            return ModerationError(refused.describe(name), code="bad_text")
    return None


def receive_comments(items: Sequence[IncomingComment], *, actor: User | None) -> list[Received]:
    """Take a batch of comments from the platform and decide each: publish, hold or block.

    Every comment is stored with its verdict and the terms it matched. An id seen before returns its
    first verdict (``replayed``); an id twice in one batch, a bad field, an unknown or ended stream
    refuse that item only. The rest are written in one transaction: all of them or, on a failure,
    none. A cost of four queries per batch, whatever its size: streams, mutes, the insert (which
    skips ids seen before: ``ON CONFLICT DO NOTHING``), and the term list's version at most every
    ``LIVEWARD_TERMS_REFRESH_SECONDS``; a fifth reads the first verdict of ids seen before, when
    there are any. No model instance is made per comment: the rules read plain values.
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
    _store(items, results, list(pending.values()), matcher)
    return results


def _store(items, results: list[Received], todo: list[int], matcher) -> None:
    streams = Stream.objects.select_related("category", "publisher", "latest_snapshot").in_bulk(
        {items[index].stream_id for index in todo}
    )
    now = timezone.now()
    muted = queries.muted_viewers({items[index].viewer_id for index in todo}, at=now)
    rows: list[tuple] = []  # the INSERT's values, in _INSERT_FIELDS order
    owners: dict[str, int] = {}  # external id → index, for the rows to insert
    refused: dict[str, int] = {}  # unknown or ended stream; an id stored before still gets its first verdict
    verdict_for, Incoming, match = comment_holds.batch_verdicts(), comment_holds.Incoming, matcher.match
    for index in todo:
        item = items[index]
        stream = streams.get(item.stream_id)
        if stream is None or stream.ended_at is not None:
            results[index].error = (
                ModerationError("no such stream", code="not_found")
                if stream is None
                else ModerationError("the stream has ended", code="stream_ended")
            )
            refused[item.external_id] = index
            continue
        matches = match(item.text)
        viewer_id = item.viewer_id
        verdict = verdict_for(
            Incoming(
                stream,
                item.text,
                viewer_id,
                item.viewer_phone_verified,
                (viewer_id, None) in muted or (viewer_id, item.stream_id) in muted,
                matches,
            )
        )
        outcome = verdict.outcome if verdict else comment_holds.PUBLISH
        owners[item.external_id] = index
        rows.append(
            (
                item.stream_id, item.external_id, viewer_id, item.viewer_phone_verified, item.text,
                item.posted_at or now, now, _STATUS_OF[outcome],
                verdict.reason if outcome == comment_holds.HOLD else "",
                verdict.reason if outcome == comment_holds.BLOCK else "",
                matches.as_list() if matches.hits else [], bool(matches.hits), matches.version or None, "",
            )
        )  # fmt: skip
    inserted: dict[str, int] = {}
    if rows:
        _insert_and_announce(rows, owners, inserted, results, streams)
    seen_before = {external_id: index for external_id, index in owners.items() if external_id not in inserted}
    if seen_before or refused:
        _replay_known(items, results, seen_before, refused)


def _insert_and_announce(rows, owners, inserted: dict[str, int], results: list[Received], streams) -> None:
    with transaction.atomic():
        inserted.update(_insert(rows))
        held = []
        for row in rows:
            pk = inserted.get(row[1])
            if pk is None:
                continue
            stored = Stored(pk, row[0], row[7], row[8], row[9], row[10], row[11])
            results[owners[row[1]]].stored = stored
            if stored.status == Comment.Status.HELD:
                held.append(_held_comment(stored, row, streams[row[0]]))
        if held:
            rows_for_console = [queries.comment_row(comment) for comment in held]
            transaction.on_commit(lambda: events.comments_held(rows_for_console))


def _held_comment(stored: Stored, row: tuple, stream: Stream) -> Comment:
    comment = Comment(
        pk=stored.pk, stream_id=stored.stream_id, external_id=row[1], viewer_id=row[2], text=row[4],
        received_at=row[6], status=stored.status, hold_reason=stored.hold_reason, matched_terms=stored.matched_terms,
    )  # fmt: skip
    Comment._meta.get_field("stream").set_cached_value(comment, stream)
    return comment


def _replay_known(items, results: list[Received], seen_before: dict[str, int], refused: dict[str, int]) -> None:
    """Answer ids stored before (by an earlier batch, or a concurrent one) with their first verdict.

    ``refused`` items (their stream unknown or ended) keep their error unless their id was stored before.
    """
    wanted = {**refused, **seen_before}
    known = Comment.objects.filter(external_id__in=list(wanted)).values_list("external_id", *Stored._fields)
    found = set()
    for external_id, *values in known:
        index = wanted[external_id]
        found.add(external_id)
        stored = Stored(*values)
        if stored.stream_id != items[index].stream_id:
            results[index].error = ModerationError("this comment id was used on another stream", code="conflict")
        else:
            results[index].stored, results[index].replayed, results[index].error = stored, True, None
    for external_id, index in seen_before.items():
        if external_id not in found:  # skipped by the insert, gone since: a purge raced in
            results[index].error = ModerationError("this comment is being received already", code="conflict")


# Every column a new comment fills (the rest are null until a decision), in the rows' order.
_INSERT_FIELDS = (
    "stream_id", "external_id", "viewer_id", "viewer_phone_verified", "text", "posted_at", "received_at", "status",
    "hold_reason", "block_reason", "matched_terms", "flagged", "term_list_version", "decision_note",
)  # fmt: skip
_JSON_COLUMN = _INSERT_FIELDS.index("matched_terms")
_TIME_COLUMNS = (_INSERT_FIELDS.index("posted_at"), _INSERT_FIELDS.index("received_at"))
# Each element of a row sent as JSON (PostgreSQL), cast to its column's type, in _INSERT_FIELDS order.
_FROM_JSON = (
    "(e->>0)::bigint", "e->>1", "e->>2", "(e->>3)::boolean", "e->>4", "(e->>5)::timestamptz", "(e->>6)::timestamptz",
    "e->>7", "e->>8", "e->>9", "(e->10)::jsonb", "(e->>11)::boolean", "(e->>12)::integer", "e->>13",
)  # fmt: skip


def _insert(rows: list[tuple]) -> dict[str, int]:
    """Insert new comments in multi-row INSERTs that skip ids stored already; return external id → new id.

    What ``bulk_create`` does, without a model instance per comment nor preparing each of the 14
    values of 500 rows through its field: that cost more than the rest of a batch (profiled:
    bench/comments.py). Values are adapted here, the way the fields would: JSON as text, date-times
    by the backend's adapter.
    """
    operations = connection.ops
    table = operations.quote_name(Comment._meta.db_table)
    columns = ", ".join(operations.quote_name(Comment._meta.get_field(name).column) for name in _INSERT_FIELDS)
    conflict = operations.quote_name(Comment._meta.get_field("external_id").column)
    returning = f"ON CONFLICT ({conflict}) DO NOTHING RETURNING {operations.quote_name('id')}, {conflict}"
    if connection.vendor == "postgresql":
        # The rows as one JSON parameter, unpacked by PostgreSQL: psycopg2 quotes each of 7,000
        # parameters at about a microsecond, which cost more than the rest of the batch.
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {', '.join(_FROM_JSON)} "
                f"FROM json_array_elements(%s::json) AS e {returning}",
                [orjson.dumps(rows, option=orjson.OPT_NAIVE_UTC).decode()],
            )
            return {external_id: pk for pk, external_id in cursor.fetchall()}
    row_sql = "(" + ", ".join(["%s"] * len(_INSERT_FIELDS)) + ")"
    size = max(1, operations.bulk_batch_size(_INSERT_FIELDS, rows))
    adapt_time = operations.adapt_datetimefield_value
    posted, received = _TIME_COLUMNS
    inserted: dict[str, int] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            values = []
            for row in chunk:
                adapted = list(row)
                adapted[posted], adapted[received] = adapt_time(row[posted]), adapt_time(row[received])
                adapted[_JSON_COLUMN] = json.dumps(row[_JSON_COLUMN], ensure_ascii=False) if row[_JSON_COLUMN] else "[]"
                values += adapted
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(chunk))} {returning}",
                values,
            )
            inserted.update((external_id, pk) for pk, external_id in cursor.fetchall())
    return inserted


_STATUS_OF = {
    comment_holds.PUBLISH: Comment.Status.PUBLISHED,
    comment_holds.HOLD: Comment.Status.HELD,
    comment_holds.BLOCK: Comment.Status.BLOCKED,
}


def verdict_of(comment: Comment | Stored) -> str:
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
