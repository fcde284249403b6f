"""A room under pressure (Art. 11): past the threshold a stream's card carries its comment rate and
the shares held and blocked; a patroller's hold-all (slow mode) is on the card too."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

import pytest

from moderation import actions, queries
from moderation.models import Stream
from tests.moderation.test_comment_ingest import item, platform, push, show, terms, verdicts  # noqa: F401

pytestmark = pytest.mark.django_db


def card(stream: Stream) -> dict:
    return queries.cards_for_streams([stream.pk])[stream.pk]


def busy(platform, stream, count: int, *, prefix: str = "c") -> None:  # noqa: F811
    """``count`` comments: one blocked (unverified phone), one held (a hold term), the rest chat."""
    items = [item(stream, f"{prefix}-0", verified=False), item(stream, f"{prefix}-1", "来赌博")]
    items += [item(stream, f"{prefix}-{index}", "主播好") for index in range(2, count)]
    verdicts(push(platform, *items))


def test_past_the_threshold_the_card_shows_the_rate_and_shares(
    platform,  # noqa: F811
    show,  # noqa: F811
    terms,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
):
    settings.LIVEWARD_COMMENT_PRESSURE_PER_MINUTE = 8
    busy(platform, show, 10)
    assert card(show)["comments"] is None  # nothing shown until beat counts
    with django_capture_on_commit_callbacks() as callbacks:
        assert actions.record_comment_pressure() == 1
    assert len(callbacks) == 1  # the card is sent again once the count commits
    assert card(show)["comments"] == {"per_minute": 10, "held_share": 0.1, "blocked_share": 0.1}
    assert actions.record_comment_pressure() == 0  # the same figures: nothing written, no delta

    busy(platform, show, 10, prefix="d")
    assert actions.record_comment_pressure() == 1
    assert card(show)["comments"]["per_minute"] == 20

    # A minute later the room is quiet: the card drops the figures.
    assert actions.record_comment_pressure(at=timezone.now() + timedelta(seconds=61)) == 1
    assert card(show)["comments"] is None
    assert Stream.objects.get(pk=show.pk).comments_per_minute == 0


def test_below_the_threshold_or_after_the_end_nothing_is_shown(platform, show, terms, settings, admin):  # noqa: F811
    settings.LIVEWARD_COMMENT_PRESSURE_PER_MINUTE = 600
    busy(platform, show, 10)
    assert actions.record_comment_pressure() == 0
    assert card(show)["comments"] is None
    settings.LIVEWARD_COMMENT_PRESSURE_PER_MINUTE = 5
    Stream.objects.filter(pk=show.pk).update(ended_at=timezone.now())  # ended: its comments count no more
    assert actions.record_comment_pressure() == 0
    assert Stream.objects.get(pk=show.pk).comments_per_minute == 0


def test_slow_mode_is_on_the_card_and_switching_it_sends_the_card(
    show,  # noqa: F811
    patroller,
    django_capture_on_commit_callbacks,
):
    assert card(show)["comments_hold_all"] is False
    with django_capture_on_commit_callbacks() as callbacks:
        actions.set_comment_slow_mode(show, hold_all=True, actor=patroller)
    assert len(callbacks) == 1
    assert card(show)["comments_hold_all"] is True
    actions.set_comment_slow_mode(show, hold_all=False, actor=patroller)
    assert card(show)["comments_hold_all"] is False


def test_the_beat_task_records_the_figures(platform, show, terms, settings):  # noqa: F811
    from moderation.tasks.comments import record_comment_pressure

    settings.LIVEWARD_COMMENT_PRESSURE_PER_MINUTE = 4
    busy(platform, show, 5)
    assert record_comment_pressure.apply().get() == 1
    assert card(show)["comments"]["per_minute"] == 5
    assert "liveward-comment-pressure" in settings.CELERY_BEAT_SCHEDULE
