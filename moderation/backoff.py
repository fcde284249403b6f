"""Exponential backoff with jitter: how long to wait before trying a failed thing again."""

from __future__ import annotations

import random

# Past this many doublings every schedule has long reached its cap; the bound keeps 2ⁿ finite.
_MAX_DOUBLINGS = 32


def backoff_delay(attempts: int, *, base: float, cap: float, jitter: float) -> float:
    """Return the seconds to wait after ``attempts`` failures: base·2ⁿ⁻¹ up to ``cap``, ± ``jitter``.

    ``jitter`` is a fraction (0.2 for ±20 %): retries of things that failed together (a node or the
    platform was down) spread out instead of all coming back in the same second. 0 fixes the wait.
    """
    nominal = min(cap, base * 2 ** min(max(attempts, 1) - 1, _MAX_DOUBLINGS))
    return nominal * random.uniform(1 - jitter, 1 + jitter)
