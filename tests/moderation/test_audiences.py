"""Audiences: viewer counts from the nodes' stat and the platform's API; the card, the priority, the cap."""

from __future__ import annotations

from django.urls import reverse

import pytest

from moderation import actions, queries
from moderation.mediaservers import LiveSession
from moderation.mediaservers.nginx_rtmp import parse_stat
from moderation.models import Stream
from moderation.simulator import Session, Simulator
from tests.moderation.test_api import error_of, platform  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def stream(nginx_node, stream_key):
    return actions.open_stream(
        stream_key,
        published_name=stream_key.issued_key,
        node=nginx_node,
        app="live",
        client_id="7",
        addr="",
        title="深夜食堂",
    )


def session(stream: Stream, viewers: int | None) -> LiveSession:
    return LiveSession(app="live", name=stream.published_name, client_id=stream.client_id, viewers=viewers)


def priority_of(stream: Stream) -> int:
    return queries.cards_for_streams([stream.pk])[stream.pk]["priority"]


def test_a_nodes_counts_reach_the_card_and_the_priority(stream, nginx_node):
    before = priority_of(stream)
    assert actions.record_node_viewers(nginx_node, [session(stream, 12_345)]) == 1
    card = queries.cards_for_streams([stream.pk])[stream.pk]
    assert card["viewers"] == 12_345 and card["priority"] == before + 60
    assert actions.record_node_viewers(nginx_node, [session(stream, 12_345)]) == 0  # unchanged: nothing sent


def test_counts_of_another_node_or_session_are_ignored(stream, nginx_node, srs_node):
    assert actions.record_node_viewers(srs_node, [session(stream, 500)]) == 0
    other = LiveSession(app="live", name=stream.published_name, client_id="99", viewers=500)
    assert actions.record_node_viewers(nginx_node, [other, session(stream, None), session(stream, -3)]) == 0
    assert Stream.objects.get(pk=stream.pk).viewers == 0


def test_a_count_over_the_levels_cap_flags_the_stream(stream, nginx_node, admin):
    actions.adjust_credit(stream.publisher, actor=admin, points=-50, reason="违规")  # 50: level D, cap 1000
    actions.record_node_viewers(nginx_node, [session(stream, 900)])
    assert Stream.objects.get(pk=stream.pk).review_flag == ""
    actions.record_node_viewers(nginx_node, [session(stream, 1500)])
    flagged = Stream.objects.get(pk=stream.pk)
    assert (flagged.review_flag, flagged.review_score) == ("audience_over_cap", 0.9)


def test_the_platform_pushes_a_count(stream, platform):  # noqa: F811
    answer = platform.post(reverse("api-stream-viewers", args=[stream.pk]), {"viewers": 2048}, format="json")
    assert answer.status_code == 200 and answer.json()["viewers"] == 2048
    assert Stream.objects.get(pk=stream.pk).viewers == 2048


@pytest.mark.parametrize("viewers", [-1, 50_000_001, "many", 1.5, None, True])
def test_negative_or_absurd_counts_are_400_and_change_nothing(stream, platform, viewers):  # noqa: F811
    answer = platform.post(reverse("api-stream-viewers", args=[stream.pk]), {"viewers": viewers}, format="json")
    assert answer.status_code == 400 and error_of(answer)["code"] == "invalid"
    assert Stream.objects.get(pk=stream.pk).viewers == 0


def test_a_count_for_an_ended_stream_is_409(stream, platform):  # noqa: F811
    actions.end_stream_session(node=stream.node, client_id="7", key_name=stream.published_name, reason="unpublished")
    answer = platform.post(reverse("api-stream-viewers", args=[stream.pk]), {"viewers": 10}, format="json")
    assert answer.status_code == 409 and error_of(answer)["code"] == "stream_not_live"
    assert platform.post(reverse("api-stream-viewers", args=[99999]), {"viewers": 1}, format="json").status_code == 404


def test_the_simulator_reports_changing_counts_the_adapter_reads():
    simulator = Simulator(node="sim-1", secret="x" * 16, gate_url="http://127.0.0.1:9/", keys=[], log=lambda line: None)
    simulator.sessions["demo-key"] = Session(key="demo-key", title="夜宵", client_id=1, viewers=400)
    seen = set()
    for _ in range(20):
        [reported] = parse_stat(simulator.stat_xml().encode(), node="sim-1")
        assert reported.viewers == simulator.sessions["demo-key"].viewers and 0 <= reported.viewers <= 200_000
        seen.add(reported.viewers)
    assert len(seen) > 1, "the audience never moved"


def test_the_simulator_keeps_a_few_demo_streams_flagged(nginx_node, entertainment, publisher):
    import threading
    from io import StringIO

    from moderation.management.commands.simulate_streams import Command

    for n in range(5):
        key = actions.issue_stream_key(publisher, category=entertainment)
        actions.open_stream(
            key, published_name=key.issued_key, node=nginx_node, app="live", client_id=str(n), addr="", title=f"直播{n}"
        )
    command = Command(stdout=StringIO())
    command._log_lock = threading.Lock()
    assert command.flag_round(nginx_node.name, 3) == 3
    assert command.flag_round(nginx_node.name, 3) == 0  # three carry one already
    flagged = Stream.objects.live().exclude(review_flag="")
    assert flagged.count() == 3 and all(0.55 <= s.review_score <= 0.95 for s in flagged)
