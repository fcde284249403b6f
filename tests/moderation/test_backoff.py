"""Exponential backoff with jitter (moderation/backoff.py) and the schedules built on it."""

from __future__ import annotations

from moderation.actions.cuts import retry_delay
from moderation.backoff import backoff_delay


def test_the_delay_doubles_from_the_base_up_to_the_cap():
    assert [backoff_delay(n, base=3.0, cap=20.0, jitter=0) for n in (0, 1, 2, 3, 4, 5)] == [3, 3, 6, 12, 20, 20]
    assert backoff_delay(10**6, base=3.0, cap=20.0, jitter=0) == 20


def test_jitter_spreads_the_delay_within_its_fraction():
    waits = {backoff_delay(2, base=10.0, cap=100.0, jitter=0.5) for _ in range(50)}
    assert len(waits) > 1 and all(10 <= wait <= 30 for wait in waits)


def test_a_failed_cut_is_retried_after_1_2_4_seconds_up_to_a_minute_with_jitter():
    for attempts, nominal in ((1, 1), (2, 2), (3, 4), (7, 60), (1000, 60)):
        waits = {retry_delay(attempts) for _ in range(30)}
        assert len(waits) > 1 and all(0.8 * nominal <= wait <= 1.2 * nominal for wait in waits)
