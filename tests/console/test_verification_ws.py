"""The manual verification queue is live: a review the platform sends reaches compliance consoles at once."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from moderation import actions
from tests.conftest import make_publisher
from tests.console.test_news_ws import connect, receive_until

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


async def test_a_new_review_and_its_decision_reach_compliance_consoles(admin, agreement):
    ws = await connect("admin")

    def submitted():
        publisher = make_publisher("acct-4001", "待审主播", verified=False)
        return actions.submit_verification_review(
            publisher, reference="rv-live", documents=[("正面.png", PNG)], actor=None
        )

    review = await sync_to_async(submitted)()
    frame = await receive_until(ws, lambda f: f.get("type") == "event" and f["event"] == "verification.review")
    assert frame["payload"]["id"] == review.pk and frame["payload"]["status"] == "pending"
    assert frame["payload"]["publisher"] == "待审主播" and frame["payload"]["documents"] == 1

    await sync_to_async(actions.decide_verification_review)(review, actor=admin, approve=True, note="")
    frame = await receive_until(ws, lambda f: f.get("type") == "event" and f["event"] == "verification.review")
    assert frame["payload"]["status"] == "approved"
    await ws.disconnect()


async def test_a_patroller_gets_no_verification_frames(patroller, admin, agreement):
    ws = await connect("patroller")

    def submitted():
        publisher = make_publisher("acct-4002", "待审主播二", verified=False)
        actions.submit_verification_review(publisher, reference="rv-quiet", documents=[("a.png", PNG)], actor=None)

    await sync_to_async(submitted)()
    assert await ws.receive_nothing(timeout=1)
    await ws.disconnect()
