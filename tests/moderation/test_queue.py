"""The patrol queue's reads: priority order, windows, and a query count that does not grow."""

from __future__ import annotations

import pytest

from moderation import actions, credit_policy, queries
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
