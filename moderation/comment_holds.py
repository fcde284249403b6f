"""The hold policy for comments (Art. 7, 11): which comments wait for staff before the platform shows them.

A policy is an ordered list of rules, each a function of the stream returning a hold reason or None;
the first reason wins. News streams hold every comment (先审后发); the comments capability adds its
rules (sensitive terms, unverified viewers …) to ``HOLD_RULES`` and roles to ``REVIEW_ROLES``.
"""

from __future__ import annotations

from collections.abc import Callable

from accounts.roles import Role
from moderation.models import Comment, Stream

HoldRule = Callable[[Stream, str], str | None]


def news_stream_interaction_is_pre_reviewed(stream: Stream, text: str) -> str | None:
    """Hold every comment on a news stream until a news reviewer releases it."""
    return Comment.HoldReason.NEWS_PRE_REVIEW if stream.category.is_news else None


HOLD_RULES: list[HoldRule] = [news_stream_interaction_is_pre_reviewed]

# Who may release or reject a comment held for each reason.
REVIEW_ROLES: dict[str, tuple[str, ...]] = {
    Comment.HoldReason.NEWS_PRE_REVIEW: (Role.NEWS_REVIEWER, Role.EDITOR_IN_CHIEF),
}


def hold_reason_for(stream: Stream, text: str) -> str | None:
    """Return why a comment on this stream must be held, or None to publish it at once."""
    for rule in HOLD_RULES:
        reason = rule(stream, text)
        if reason:
            return reason
    return None


def review_roles_for(hold_reason: str) -> tuple[str, ...]:
    """Return the roles that may decide a comment held for this reason (compliance admins for unknown ones)."""
    return REVIEW_ROLES.get(hold_reason, (Role.COMPLIANCE_ADMIN,))
