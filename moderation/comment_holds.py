"""The hold policy for comments (Art. 7, 11): which comments wait for staff before the platform shows them.

A policy is an ordered list of rules, each a function of the stream returning a hold reason or None;
the first reason wins. News streams hold every comment (先审后发); the comments capability adds its
rules (sensitive terms, unverified viewers …) to ``HOLD_RULES``. Who may decide a comment held for
each reason is in moderation/permissions.py.
"""

from __future__ import annotations

from collections.abc import Callable

from moderation import emergency_scope
from moderation.models import Comment, Stream

HoldRule = Callable[[Stream, str], str | None]


def news_stream_interaction_is_pre_reviewed(stream: Stream, text: str) -> str | None:
    """Hold every comment on a news stream until a news reviewer releases it."""
    return Comment.HoldReason.NEWS_PRE_REVIEW if stream.category.is_news else None


def emergency_holds_comments_in_scope(stream: Stream, text: str) -> str | None:
    """Hold a comment an emergency in force covers (its stream in scope, or one of its words in the text)."""
    return Comment.HoldReason.EMERGENCY if emergency_scope.holding(stream, text) is not None else None


HOLD_RULES: list[HoldRule] = [news_stream_interaction_is_pre_reviewed, emergency_holds_comments_in_scope]


def hold_reason_for(stream: Stream, text: str) -> str | None:
    """Return why a comment on this stream must be held, or None to publish it at once."""
    for rule in HOLD_RULES:
        reason = rule(stream, text)
        if reason:
            return reason
    return None
