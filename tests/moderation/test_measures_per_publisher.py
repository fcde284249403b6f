"""A block's cooling-off and a suspension hold for every key of the publisher, keys issued afterwards too."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

import pytest

from moderation import actions
from moderation.models import GateDecision, Publisher, ReasonCode, StreamKey
from tests.conftest import make_publisher
from tests.moderation.test_gate import latest_decision, on_publish

pytestmark = pytest.mark.django_db


def live(client, key: StreamKey):
    assert on_publish(client, key.issued_key).status_code == 200
    return key.streams.get(ended_at__isnull=True)


def refused_for(client, key: StreamKey) -> str:
    response = on_publish(client, key.issued_key, client_id="99")
    assert response.status_code == 403
    return latest_decision().reason


def test_a_blocked_publishers_new_key_is_refused_until_the_cooling_off_ends(
    client, nginx_node, stream_key, entertainment, patroller
):
    other = actions.issue_stream_key(stream_key.publisher, category=entertainment)
    actions.block_stream(live(client, stream_key), actor=patroller, reason=ReasonCode.PORNOGRAPHY)
    issued_after = actions.issue_stream_key(stream_key.publisher, category=entertainment)

    for key in (stream_key, other, issued_after):
        assert refused_for(client, key) == GateDecision.Reason.KEY_COOLING_OFF
    publisher = Publisher.objects.get(pk=stream_key.publisher_id)
    assert publisher.cooling_off_until == StreamKey.objects.get(pk=stream_key.pk).denied_until

    Publisher.objects.filter(pk=publisher.pk).update(cooling_off_until=timezone.now() - timedelta(seconds=1))
    assert refused_for(client, stream_key) == GateDecision.Reason.KEY_COOLING_OFF  # the blocked key's own end
    live(client, issued_after)


def test_another_publishers_keys_are_not_touched(client, nginx_node, stream_key, entertainment, patroller):
    neighbour = actions.issue_stream_key(make_publisher("acct-1002", "隔壁主播"), category=entertainment)
    actions.block_stream(live(client, stream_key), actor=patroller, reason=ReasonCode.PORNOGRAPHY)
    live(client, neighbour)


def test_a_shorter_later_block_does_not_shorten_the_cooling_off(
    client, nginx_node, stream_key, entertainment, patroller
):
    other = actions.issue_stream_key(stream_key.publisher, category=entertainment)
    first, second = live(client, stream_key), live(client, other)  # live on two keys at once
    long_block = actions.block_stream(first, actor=patroller, reason=ReasonCode.PORNOGRAPHY, cooling_off_minutes=600)
    actions.block_stream(second, actor=patroller, reason=ReasonCode.RUMOUR, cooling_off_minutes=5)
    assert Publisher.objects.get(pk=stream_key.publisher_id).cooling_off_until == long_block.until


def test_lifting_a_block_frees_every_key_of_the_publisher(
    client, nginx_node, stream_key, entertainment, patroller, admin
):
    other = actions.issue_stream_key(stream_key.publisher, category=entertainment)
    actions.block_stream(live(client, stream_key), actor=patroller, reason=ReasonCode.PORNOGRAPHY)
    actions.lift_block(stream_key, actor=admin, note="复核后解除")
    live(client, other)
    assert Publisher.objects.get(pk=stream_key.publisher_id).cooling_off_until is None


def test_a_suspended_publishers_new_key_is_refused(client, nginx_node, stream_key, entertainment, patroller):
    actions.suspend_publisher(live(client, stream_key), actor=patroller, reason=ReasonCode.RUMOUR, minutes=60)
    issued_after = actions.issue_stream_key(stream_key.publisher, category=entertainment)
    assert refused_for(client, issued_after) == GateDecision.Reason.PUBLISHER_SUSPENDED
