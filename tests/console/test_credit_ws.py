"""A credit level change reaches every console as a queue delta with the new level and priority."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from moderation import actions
from moderation.models import Stream
from tests.console.test_consumer import open_through_the_gate
from tests.console.test_queue_ws import connect, until_delta

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def live_stream(nginx_node, stream_key):
    return Stream.objects.get(pk=open_through_the_gate(stream_key.issued_key))


async def test_a_level_change_sends_the_new_level_and_priority_to_consoles(patroller, admin, live_stream):
    ws, snapshot = await connect("patroller")
    [card] = snapshot["streams"]
    assert (card["publisher"]["credit_level"], card["priority"]) == ("A", 100)

    publisher = await sync_to_async(lambda: live_stream.publisher)()
    await sync_to_async(actions.adjust_credit)(publisher, actor=admin, points=-30, reason="多次违规")  # 70: C
    delta = await until_delta(ws, "publisher.credit_changed")
    assert delta["stream"]["id"] == live_stream.pk
    assert delta["stream"]["publisher"]["credit_level"] == "C" and delta["stream"]["priority"] == 140
    await ws.disconnect()
