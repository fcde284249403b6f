"""Reports and emergencies over the console WebSocket: the queue live, the card's count, the banner, surges."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from moderation import actions
from moderation.models import PublicReport
from tests.console.test_news_ws import connect, receive_until
from tests.moderation.test_reports import open_live

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def event(name: str):
    return lambda frame: frame.get("type") == "event" and frame.get("event") == name


def file(stream_id: int) -> PublicReport:
    return actions.file_report(
        source="web", target_kind="stream", target=stream_id, category="fraud", description="诈骗", address="1.2.3.4"
    )


async def test_a_report_reaches_the_queue_and_the_card_at_once(patroller, stream_key, nginx_node, settings):
    settings.LIVEWARD_REPORT_SURGE = 2
    stream = await sync_to_async(open_live)(stream_key, nginx_node)
    ws = await connect("patroller")
    report = await sync_to_async(file)(stream.pk)
    row = (await receive_until(ws, event("report.filed")))["payload"]
    assert (row["id"], row["receipt"], row["status"]) == (report.pk, report.receipt, "open")
    assert row["respond_by"] and row["stream"]["id"] == stream.pk
    delta = await receive_until(ws, lambda f: f.get("type") == "delta" and f["stream"]["id"] == stream.pk)
    assert delta["stream"]["open_reports"] == 1
    await sync_to_async(file)(stream.pk)
    surge = (await receive_until(ws, event("report.surge")))["payload"]
    assert surge == {"stream": stream.pk, "count": 2, "minutes": 2}
    await sync_to_async(actions.claim_report)(report, actor=patroller)
    changed = (await receive_until(ws, event("report.changed")))["payload"]
    assert changed["status"] == "claimed" and changed["claimed_by"] == "巡查员小王"
    await ws.disconnect()


async def test_every_console_gets_the_emergency_banner(patroller, admin, entertainment):
    ws = await connect("patroller")
    emergency = await sync_to_async(actions.declare_emergency)(
        actor=admin, scope={"categories": ["entertainment"]}, measures=["refuse_new"], reason="演练：暴雨"
    )
    banner = (await receive_until(ws, event("emergency.changed")))["payload"]
    assert banner["emergencies"] == [
        {"id": emergency.pk, "reference": emergency.reference, "status": "active", "reason": "演练：暴雨"}
    ]
    await sync_to_async(actions.end_emergency)(emergency, actor=admin, reason="结束")
    assert (await receive_until(ws, event("emergency.changed")))["payload"]["emergencies"] == []
    await ws.disconnect()
