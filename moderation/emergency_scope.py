"""What an emergency (应急处置, Art. 7) covers: its scope, checked and matched against streams and comments.

A scope names categories (slugs), tiers, words (in a stream's title or a comment's text), publishers
(platform account ids), or everything. ``normalise_scope`` checks what a compliance admin gave and
refuses an empty scope; ``matches_stream`` and ``matches_comment`` say whether a stream or comment is
in it. The gate and the comment holds read the emergencies in force through ``in_force``, a
per-process cache refreshed every ``CACHE_SECONDS`` (one small query), so an emergency takes effect
everywhere within that time and ending it restores the normal rules just as fast.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from moderation.errors import ModerationError
from moderation.models import Category, Emergency, Publisher, Stream
from moderation.text_input import TextRefused, check_text

CACHE_SECONDS = 2.0
MAX_WORDS = 50
WORD_MAX = 50
SCOPE_KEYS = ("everything", "categories", "tiers", "words", "publishers")


def normalise_scope(scope) -> dict:
    """Return the scope checked and in its stored form; refuse an empty or unknown one."""
    if not isinstance(scope, dict) or set(scope) - set(SCOPE_KEYS):
        raise ModerationError("a scope names categories, tiers, words, publishers or everything", code="bad_scope")
    everything = scope.get("everything", False) is True
    categories = _strings(scope.get("categories", []), "categories", limit=64)
    tiers = scope.get("tiers", [])
    if not isinstance(tiers, list) or any(
        not isinstance(t, int) or isinstance(t, bool) or not 1 <= t <= 9 for t in tiers
    ):
        raise ModerationError("tiers are numbers from 1 to 9", code="bad_scope")
    words = _strings(scope.get("words", []), "words", limit=MAX_WORDS)
    publishers = _strings(scope.get("publishers", []), "publishers", limit=1000)
    known = set(Category.objects.filter(slug__in=categories).values_list("slug", flat=True))
    if set(categories) - known:
        raise ModerationError(
            "unknown categories: " + ", ".join(sorted(set(categories) - known))[:200], code="bad_scope"
        )
    found = set(
        Publisher.objects.filter(platform_account_id__in=publishers).values_list("platform_account_id", flat=True)
    )
    if set(publishers) - found:
        raise ModerationError(
            "unknown publishers: " + ", ".join(sorted(set(publishers) - found))[:200], code="bad_scope"
        )
    if not (everything or categories or tiers or words or publishers):
        raise ModerationError("the scope is empty: name what the emergency covers", code="empty_scope")
    return {
        "everything": everything,
        "categories": sorted(set(categories)),
        "tiers": sorted(set(tiers)),
        "words": sorted(set(words)),
        "publishers": sorted(set(publishers)),
    }


def _strings(values, name: str, *, limit: int) -> list[str]:
    if not isinstance(values, list) or len(values) > limit:
        raise ModerationError(f"{name}: a list of at most {limit}", code="bad_scope")
    checked = []
    for value in values:
        if not isinstance(value, str) or not value.strip() or len(value.strip()) > WORD_MAX:
            raise ModerationError(f"{name}: each is text of 1 to {WORD_MAX} characters", code="bad_scope")
        try:
            checked.append(check_text(value.strip(), name))
        except TextRefused as exc:
            raise ModerationError(str(exc), code="bad_scope") from None
    return checked


def matches_stream(scope: dict, *, category_slug: str, tier: int, title: str, account_id: str) -> bool:
    """Tell whether a stream with these properties is in the scope."""
    return (
        scope.get("everything", False)
        or category_slug in scope.get("categories", ())
        or tier in scope.get("tiers", ())
        or account_id in scope.get("publishers", ())
        or any(word in title for word in scope.get("words", ()))
    )


def matching_live_streams(scope: dict) -> list[Stream]:
    """The live streams in the scope, with their nodes."""
    live = Stream.objects.live().select_related("category", "publisher", "node").order_by("pk")
    return [
        stream
        for stream in live
        if matches_stream(
            scope,
            category_slug=stream.category.slug,
            tier=stream.category.risk_tier,
            title=stream.title,
            account_id=stream.publisher.platform_account_id,
        )
    ]


@dataclass(frozen=True)
class InForce:
    """An emergency in force, as the gate and the comment holds see it."""

    reference: str
    scope: dict
    measures: frozenset[str]


_lock = threading.Lock()
_cached: tuple[float, list[InForce]] | None = None


def in_force() -> list[InForce]:
    """The emergencies in force now (cached for CACHE_SECONDS per process)."""
    global _cached
    cached = _cached  # one read of the reference: no lock needed to look (asked for every comment)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    rows = Emergency.objects.filter(status=Emergency.Status.ACTIVE).values_list("reference", "scope", "measures")
    loaded = [InForce(reference, scope, frozenset(measures)) for reference, scope, measures in rows]
    with _lock:
        _cached = (time.monotonic(), loaded)
    return loaded


def forget_cached() -> None:
    """Drop the cache (an action that changes an emergency, and tests)."""
    global _cached
    with _lock:
        _cached = None


def refusing(stream_properties: dict) -> InForce | None:
    """The emergency in force that refuses new streams with these properties, or None."""
    return _with_measure(Emergency.Measure.REFUSE_NEW, stream_properties)


def requiring_pre_review(stream_properties: dict) -> InForce | None:
    """The emergency in force under which new streams with these properties need an approved application."""
    return _with_measure(Emergency.Measure.PRE_REVIEW_NEW, stream_properties)


def _with_measure(measure: str, stream_properties: dict) -> InForce | None:
    for emergency in in_force():
        if measure in emergency.measures and matches_stream(emergency.scope, **stream_properties):
            return emergency
    return None


def holding(stream: Stream, text: str) -> InForce | None:
    """The emergency in force that holds this comment (its stream in scope, or a scope word in it), or None."""
    for emergency in in_force():
        if Emergency.Measure.HOLD_COMMENTS not in emergency.measures:
            continue
        properties = {
            "category_slug": stream.category.slug,
            "tier": stream.category.risk_tier,
            "title": stream.title,
            "account_id": stream.publisher.platform_account_id,
        }
        if matches_stream(emergency.scope, **properties) or any(
            word in text for word in emergency.scope.get("words", ())
        ):
            return emergency
    return None
