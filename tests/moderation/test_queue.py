"""The patrol queue's reads: priority order, windows, and a query count that does not grow."""

from __future__ import annotations

import pytest

from moderation import actions, credit_policy, queries
from moderation.actions.credit import LevelSpec
from moderation.models import PublicReport, Stream
from tests.conftest import make_publisher

pytestmark = pytest.mark.django_db


def open_streams(count: int, *, node, categories, start: int = 0) -> None:
    for index in range(start, start + count):
        publisher = make_publisher(f"q-{index}", f"主播{index}")
        key = actions.issue_stream_key(publisher, category=categories[index % len(categories)])
        actions.open_stream(
            key,
            published_name=key.issued_key,
            node=node,
            app="live",
            client_id=str(index),
            addr="127.0.0.1",
            title=f"直播{index}",
        )


def test_the_window_costs_the_same_queries_at_any_size(
    nginx_node, agreement, entertainment, news, django_assert_num_queries, settings
):
    # The priority weights come from the process's cached credit policy; opening 40 streams on a
    # busy machine may outlast its usual lifetime, which would add the refresh to the count.
    settings.LIVEWARD_CREDIT_POLICY_CACHE_SECONDS = 3600
    open_streams(3, node=nginx_node, categories=[entertainment, news])
    credit_policy.current_policy()
    with django_assert_num_queries(3):
        total, cards = queries.queue_window(limit=100)
    assert (total, len(cards)) == (3, 3)
    open_streams(40, node=nginx_node, categories=[entertainment, news], start=3)
    with django_assert_num_queries(3):
        total, cards = queries.queue_window(limit=100)
    assert (total, len(cards)) == (43, 43)


def test_the_window_is_in_priority_order_and_pages(nginx_node, agreement, entertainment, news):
    open_streams(6, node=nginx_node, categories=[entertainment, news])
    _total, everything = queries.queue_window(limit=100)
    priorities = [card["priority"] for card in everything]
    assert priorities == sorted(priorities, reverse=True)
    assert everything[0]["category"]["slug"] == "news"  # tier 1 before tier 2
    _total, second_page = queries.queue_window(offset=2, limit=2)
    assert [card["id"] for card in second_page] == [card["id"] for card in everything[2:4]]
    _total, news_only = queries.queue_window(category="news")
    assert {card["category"]["slug"] for card in news_only} == {"news"}


def stored_and_computed_orders() -> tuple[list[int], list[int]]:
    """The wall's order as the index reads it (stored priority) and as computed from the inputs now."""
    live = Stream.objects.live()
    computed = queries.with_computed_priority(live).order_by(*queries.computed_order())
    _total, cards = queries.queue_window(limit=200)
    stored = dict(live.values_list("pk", "queue_priority"))
    for stream in computed:  # the stored value itself, not only the order it gives
        assert stored[stream.pk] == stream.priority, f"stream {stream.pk}"
    return [card["id"] for card in cards], [stream.pk for stream in computed]


def test_the_stored_priority_gives_the_computed_order_after_each_kind_of_change(
    nginx_node, agreement, entertainment, news, admin, patroller, django_capture_on_commit_callbacks
):
    open_streams(6, node=nginx_node, categories=[entertainment, news])
    streams = list(Stream.objects.live().order_by("pk"))
    stored, computed = stored_and_computed_orders()
    assert stored == computed and len(stored) == 6

    changes = [
        ("audience", lambda: actions.report_viewers(streams[5], viewers=12_000, actor=admin)),
        ("machine review", lambda: actions.flag_stream_for_review(streams[3], label="涉黄", score=0.95)),
        ("patrol mark", lambda: actions.mark_patrolled(streams[1], actor=patroller)),
        ("credit level", lambda: actions.adjust_credit(streams[2].publisher, actor=admin, points=-25, reason="违规")),
        ("new policy weights", lambda: publish_policy(admin)),
        ("report filed", lambda: file_report(streams[4])),
        ("report dismissed", lambda: dismiss_reports(admin)),
        ("stream ended", lambda: end(streams[0])),
    ]
    for name, change in changes:
        with django_capture_on_commit_callbacks(execute=True):
            change()
        stored, computed = stored_and_computed_orders()
        assert stored == computed, name
    assert Stream.objects.live().values("queue_priority").distinct().count() > 2  # the changes did reorder


def publish_policy(actor) -> None:
    levels = [LevelSpec("A", "优秀", 90), LevelSpec("B", "良好", 70, patrol_weight=35), LevelSpec("E", "禁播", 0)]
    policy = actions.publish_credit_policy(
        actor=actor, levels=levels, action_costs={"warn": 5, "block": 20, "suspend": 40, "close": 80}
    )
    actions.recompute_credit_levels(version=policy.version)


def file_report(stream: Stream) -> None:
    actions.file_report(
        source=PublicReport.Source.WEB,
        target_kind=PublicReport.Target.STREAM,
        target=stream.pk,
        category="pornography",
        description="主播在直播中有不雅行为",
        address="203.0.113.9",
    )


def dismiss_reports(actor) -> None:
    for report in PublicReport.objects.all():
        actions.dismiss_report(report, actor=actor, note="查无实据")


def end(stream: Stream) -> None:
    actions.end_stream_session(node=stream.node, client_id=stream.client_id, key_name=stream.published_name)
