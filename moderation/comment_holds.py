"""The hold and block policy for comments (Art. 7, 11, 12, 14): what the platform may show at once.

A policy is an ordered list of rules, each a function of the incoming comment returning a
``Verdict`` (block or hold, with its reason) or None; the first verdict wins and a comment no rule
stops is published. Blocks come first, so a blocked viewer or a blocking term never lands in a
reviewer's queue: a viewer without a verified phone (Art. 12, when
``LIVEWARD_COMMENTS_REQUIRE_VERIFIED_PHONE``), a muted viewer, a term whose action is block. Then
the holds: an emergency in force holds every comment in its scope (moderation/emergency_scope.py),
news streams hold every comment (先审后发), so does a publisher whose credit level
requires pre-review and a stream switched to hold-all (slow mode), and a term whose action is hold.
A term whose action is flag publishes the comment, flagged. Who may decide a comment held for each
reason is in moderation/permissions.py.

The rules read only what the caller loaded before (the stream with its category and publisher, the
viewer's mutes, the term matches), so a batch of a thousand costs no query per comment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings

from moderation import credit_policy, emergency_scope
from moderation.models import Comment, Stream
from moderation.sensitive_terms import NO_MATCHES, Matches

BLOCK = "block"
HOLD = "hold"
PUBLISH = "publish"


class Incoming(NamedTuple):
    """A comment as the rules see it: plain values (a tuple), made once per comment of a batch."""

    stream: Stream
    text: str
    viewer_id: str = ""
    viewer_phone_verified: bool = True
    muted: bool = False
    matches: Matches = NO_MATCHES


@dataclass(frozen=True)
class Verdict:
    """What a rule decided: ``block`` or ``hold``, and why (a Comment.BlockReason or HoldReason)."""

    outcome: str
    reason: str


Rule = Callable[[Incoming], Verdict | None]


def viewer_without_verified_phone_may_not_comment(comment: Incoming) -> Verdict | None:
    """Block a viewer whose mobile number the platform has not verified (后台实名, Art. 12)."""
    if not comment.viewer_phone_verified and settings.LIVEWARD_COMMENTS_REQUIRE_VERIFIED_PHONE:
        return Verdict(BLOCK, Comment.BlockReason.UNVERIFIED_PHONE)
    return None


def muted_viewer_is_blocked(comment: Incoming) -> Verdict | None:
    """Block a viewer muted on this stream or everywhere."""
    return Verdict(BLOCK, Comment.BlockReason.MUTED) if comment.muted else None


def blocking_term_blocks(comment: Incoming) -> Verdict | None:
    """Block a comment that contains a term whose action is block."""
    return Verdict(BLOCK, Comment.BlockReason.SENSITIVE_TERM) if comment.matches.blocks else None


def emergency_holds_comments_in_scope(comment: Incoming) -> Verdict | None:
    """Hold a comment an emergency in force covers (its stream in scope, or one of its words in the text)."""
    if emergency_scope.holding(comment.stream, comment.text) is not None:
        return Verdict(HOLD, Comment.HoldReason.EMERGENCY)
    return None


def news_stream_interaction_is_pre_reviewed(comment: Incoming) -> Verdict | None:
    """Hold every comment on a news stream until a news reviewer releases it."""
    return Verdict(HOLD, Comment.HoldReason.NEWS_PRE_REVIEW) if comment.stream.category.is_news else None


def credit_level_requires_pre_review(comment: Incoming) -> Verdict | None:
    """Hold every comment on a stream whose publisher's credit level requires pre-review."""
    if credit_policy.level_requires_pre_review(comment.stream.publisher):
        return Verdict(HOLD, Comment.HoldReason.CREDIT_PRE_REVIEW)
    return None


def stream_in_slow_mode_holds_all(comment: Incoming) -> Verdict | None:
    """Hold every comment on a stream a patroller switched to hold-all."""
    return Verdict(HOLD, Comment.HoldReason.SLOW_MODE) if comment.stream.comments_hold_all else None


def holding_term_holds(comment: Incoming) -> Verdict | None:
    """Hold a comment that contains a term whose action is hold."""
    return Verdict(HOLD, Comment.HoldReason.SENSITIVE_TERM) if comment.matches.holds else None


HOLD_RULES: list[Rule] = [
    viewer_without_verified_phone_may_not_comment,
    muted_viewer_is_blocked,
    blocking_term_blocks,
    emergency_holds_comments_in_scope,
    news_stream_interaction_is_pre_reviewed,
    credit_level_requires_pre_review,
    stream_in_slow_mode_holds_all,
    holding_term_holds,
]


# Rules whose verdict depends on the stream alone: a batch asks each of them once per stream.
STREAM_RULES = frozenset(
    {news_stream_interaction_is_pre_reviewed, credit_level_requires_pre_review, stream_in_slow_mode_holds_all}
)


def verdict_for(comment: Incoming) -> Verdict | None:
    """Return the first rule's verdict on the comment, or None to publish it at once."""
    for rule in HOLD_RULES:
        verdict = rule(comment)
        if verdict is not None:
            return verdict
    return None


def batch_verdicts() -> Callable[[Incoming], Verdict | None]:
    """Return ``verdict_for`` for the comments of one batch: the same rules in the same order, those of
    ``STREAM_RULES`` asked once per stream of the batch (a profile of the ingest found them repeated
    for each of hundreds of comments on the same few streams)."""
    plan = [(rule, rule in STREAM_RULES) for rule in HOLD_RULES]
    by_stream: dict[tuple[int, int], Verdict | None] = {}

    def verdict(comment: Incoming) -> Verdict | None:
        for position, (rule, of_stream) in enumerate(plan):
            if of_stream:
                # id(): the batch's stream objects live as long as it does, and hashing a model is slower.
                key = (position, id(comment.stream))
                if key in by_stream:
                    found = by_stream[key]
                else:
                    found = by_stream[key] = rule(comment)
            else:
                found = rule(comment)
            if found is not None:
                return found
        return None

    return verdict
