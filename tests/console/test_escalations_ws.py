"""The escalation inbox is live: a patroller's escalation reaches compliance consoles at once."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from moderation import actions
from moderation.models import ReasonCode
from tests.console.test_news_ws import connect, receive_until

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


async def test_an_escalation_reaches_compliance_consoles(admin, patroller, nginx_node, stream_key):
    ws = await connect("admin")

    def escalate():
        stream = actions.open_stream(
            stream_key,
            published_name=stream_key.issued_key,
            node=nginx_node,
            app="live",
            client_id="7",
            addr="",
            title="夜宵",
        )
        return actions.escalate_stream(stream, actor=patroller, reason=ReasonCode.RUMOUR, note="请看")

    escalation = await sync_to_async(escalate)()
    frame = await receive_until(ws, lambda f: f.get("type") == "event" and f["event"] == "escalation.changed")
    assert frame["payload"] == {"escalation": escalation.pk}
    await ws.disconnect()
