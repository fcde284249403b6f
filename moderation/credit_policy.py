"""The current credit policy, as plain frozen data cached per process, and what it says about a publisher.

The gate, the patrol queue and the snapshot scheduler read the policy on every decision, so it is
not read from the database each time. A process keeps the current version in memory and, at most
every ``LIVEWARD_CREDIT_POLICY_CACHE_SECONDS``, asks for the current version number (one tiny query);
only a new number loads the policy again. Publishing a version forgets the cache of the publishing
process on commit; other processes (gate workers, Celery) follow within that many seconds. A
publisher's own level is not cached: it is on the publisher's row, which every reader loads anyway.

With no policy stored yet, ``DEFAULT_POLICY`` (version 0) applies.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from django.conf import settings

from moderation.models import CreditPolicy


@dataclass(frozen=True)
class LevelRules:
    """What a publisher at one level may do."""

    code: str
    name: str
    min_score: int
    may_broadcast: bool = True
    allowed_categories: frozenset[str] = frozenset()  # empty: every category
    requires_pre_review: bool = False
    patrol_weight: int = 0
    snapshot_interval_seconds: int | None = None
    audience_cap: int | None = None

    def allows_category(self, slug: str) -> bool:
        """Tell whether a publisher at this level may broadcast in the category."""
        return not self.allowed_categories or slug in self.allowed_categories

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "min_score": self.min_score,
            "may_broadcast": self.may_broadcast,
            "allowed_categories": sorted(self.allowed_categories),
            "requires_pre_review": self.requires_pre_review,
            "patrol_weight": self.patrol_weight,
            "snapshot_interval_seconds": self.snapshot_interval_seconds,
            "audience_cap": self.audience_cap,
        }


@dataclass(frozen=True)
class PolicyRules:
    """One version of the credit policy: score scale, levels (highest first), costs, earn-back."""

    version: int
    score_min: int
    score_max: int
    levels: tuple[LevelRules, ...]
    action_costs: dict[str, int] = field(default_factory=dict)
    earn_back_points_per_hour: int = 1
    earn_back_nightly_cap: int = 5

    def level_for(self, score: int) -> LevelRules:
        """Return the level a score falls in (the lowest level below every threshold)."""
        for level in self.levels:
            if score >= level.min_score:
                return level
        return self.levels[-1]

    def level(self, code: str) -> LevelRules | None:
        """Return the level with this code, None if this version has none."""
        for level in self.levels:
            if level.code == code:
                return level
        return None

    def clamp(self, score: int) -> int:
        return max(self.score_min, min(self.score_max, score))

    def cost_of(self, action_kind: str) -> int:
        return int(self.action_costs.get(action_kind, 0))


DEFAULT_ACTION_COSTS = {"warn": 5, "block": 15, "suspend": 30, "close": 60, "escalate": 0}

DEFAULT_POLICY = PolicyRules(
    version=0,
    score_min=0,
    score_max=100,
    levels=(
        LevelRules("A", "优秀", 90),
        LevelRules("B", "良好", 75, patrol_weight=20),
        LevelRules("C", "一般", 60, patrol_weight=40, snapshot_interval_seconds=30, audience_cap=10000),
        LevelRules(
            "D",
            "较差",
            40,
            allowed_categories=frozenset({"entertainment", "games", "education", "outdoors"}),
            requires_pre_review=True,
            patrol_weight=80,
            snapshot_interval_seconds=10,
            audience_cap=1000,
        ),
        LevelRules("E", "差", 0, may_broadcast=False, patrol_weight=80, snapshot_interval_seconds=5, audience_cap=0),
    ),
    action_costs=DEFAULT_ACTION_COSTS,
    earn_back_points_per_hour=1,
    earn_back_nightly_cap=5,
)


def rules_from_model(policy) -> PolicyRules:
    """Turn a stored CreditPolicy (levels prefetched or not) into frozen rules."""
    levels = sorted(policy.levels.all(), key=lambda level: -level.min_score)
    return PolicyRules(
        version=policy.version,
        score_min=policy.score_min,
        score_max=policy.score_max,
        levels=tuple(
            LevelRules(
                code=level.code,
                name=level.name,
                min_score=level.min_score,
                may_broadcast=level.may_broadcast,
                allowed_categories=frozenset(level.allowed_categories or ()),
                requires_pre_review=level.requires_pre_review,
                patrol_weight=level.patrol_weight,
                snapshot_interval_seconds=level.snapshot_interval_seconds,
                audience_cap=level.audience_cap,
            )
            for level in levels
        ),
        action_costs={str(kind): int(points) for kind, points in (policy.action_costs or {}).items()},
        earn_back_points_per_hour=policy.earn_back_points_per_hour,
        earn_back_nightly_cap=policy.earn_back_nightly_cap,
    )


def load_policy() -> PolicyRules:
    """Read the current policy from the database (two queries), the default if none is stored."""
    policy = CreditPolicy.objects.prefetch_related("levels").order_by("-version").first()
    return DEFAULT_POLICY if policy is None else rules_from_model(policy)


def stored_version() -> int:
    return CreditPolicy.objects.order_by("-version").values_list("version", flat=True).first() or 0


class _PolicyCache:
    """The current policy and when its version was last checked; swapped as one tuple (thread-safe)."""

    def __init__(self) -> None:
        self.entry: tuple[float, PolicyRules] | None = None
        self.lock = threading.Lock()

    def get(self) -> PolicyRules:
        entry = self.entry
        now = time.monotonic()
        if entry is not None and entry[0] > now:
            return entry[1]
        with self.lock:
            entry = self.entry
            if entry is not None and entry[0] > now:
                return entry[1]
            ttl = settings.LIVEWARD_CREDIT_POLICY_CACHE_SECONDS
            policy = entry[1] if entry is not None and stored_version() == entry[1].version else load_policy()
            self.entry = (time.monotonic() + ttl, policy)
            return policy

    def fresh(self) -> PolicyRules:
        """Return the current policy, checking its version now (one query; a reload only if it changed)."""
        with self.lock:
            entry = self.entry
            version = stored_version()
            policy = entry[1] if entry is not None and entry[1].version == version else load_policy()
            self.entry = (time.monotonic() + settings.LIVEWARD_CREDIT_POLICY_CACHE_SECONDS, policy)
            return policy

    def forget(self) -> None:
        self.entry = None


_cache = _PolicyCache()


def current_policy() -> PolicyRules:
    """Return the current policy; costs no query while the process's copy is fresh."""
    return _cache.get()


def fresh_policy() -> PolicyRules:
    """Return the current policy as stored now, for writes (one query while the version is unchanged)."""
    return _cache.fresh()


def forget_cached_policy() -> None:
    """Drop this process's copy (after publishing a version, and between tests)."""
    _cache.forget()


def level_rules(publisher) -> LevelRules:
    """Return the rules of the publisher's level (by the level on its row; by score if the code is gone)."""
    policy = current_policy()
    return policy.level(publisher.credit_level) or policy.level_for(publisher.credit_score)


def level_requires_pre_review(publisher) -> bool:
    """Tell whether every stream of this publisher needs pre-review (先审后发) at its credit level."""
    return level_rules(publisher).requires_pre_review


def audience_cap_for(publisher) -> int | None:
    """Return the most concurrent viewers the platform may let the publisher have, None for no cap."""
    return level_rules(publisher).audience_cap


def snapshot_interval_for(*, category_seconds: int, level_code: str) -> int:
    """Seconds between snapshots of a stream: the category's, tightened by the publisher's level."""
    level = current_policy().level(level_code)
    if level is None or not level.snapshot_interval_seconds:
        return category_seconds
    return min(category_seconds, level.snapshot_interval_seconds)
