"""Every measure reaches the platform: one signed, retried webhook per event of docs/webhooks.md's catalogue."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

import pytest

from moderation import actions
from moderation.models import ModerationAction, Publisher, ReasonCode, WebhookDelivery

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


def sent(event: str) -> list[dict]:
    return [d.payload for d in WebhookDelivery.objects.filter(event=event).order_by("id")]


def test_a_block_tells_the_platform_when_the_cooling_off_ends(stream, patroller):
    action = actions.block_stream(stream, actor=patroller, reason=ReasonCode.PORNOGRAPHY, note="裸露")
    [payload] = sent("stream.blocked")
    assert (payload["publisher"], payload["stream"], payload["action"]) == ("acct-1001", stream.pk, action.pk)
    assert (payload["reason"], payload["note"]) == ("pornography", "裸露")
    assert abs(datetime.fromisoformat(payload["cooling_off_until"]) - action.until) < timedelta(milliseconds=1)


def test_a_suspension_and_a_closure_are_told(stream, patroller, admin, stream_key):
    suspension = actions.suspend_publisher(stream, actor=patroller, reason=ReasonCode.RUMOUR, minutes=30)
    [payload] = sent("publisher.suspended")
    assert (payload["publisher"], payload["action"], payload["reason"]) == ("acct-1001", suspension.pk, "rumour")
    assert abs(datetime.fromisoformat(payload["until"]) - suspension.until) < timedelta(milliseconds=1)

    actions.lift_suspension(Publisher.objects.get(pk=stream.publisher_id), actor=admin, note="复核后解除")
    [lifted] = sent("publisher.lifted")
    assert (lifted["measure"], lifted["note"], lifted["by"]) == ("suspension", "复核后解除", "admin")

    closure = actions.close_publisher_account(stream.publisher, actor=admin, reason=ReasonCode.FRAUD, note="诈骗")
    [closed] = sent("publisher.closed")
    assert (closed["publisher"], closed["cause"], closed["action"]) == ("acct-1001", "measure", closure.pk)
    actions.reopen_publisher(Publisher.objects.get(pk=stream.publisher_id), actor=admin, note="误判")
    [reopened] = sent("publisher.reopened")
    assert reopened["publisher"] == "acct-1001" and reopened["note"] == "误判"


def test_lifting_a_cooling_off_is_told(stream, patroller, admin, stream_key):
    actions.block_stream(stream, actor=patroller, reason=ReasonCode.PORNOGRAPHY)
    actions.lift_block(stream_key, actor=admin, note="冷却期提前结束")
    [payload] = sent("publisher.lifted")
    assert (payload["publisher"], payload["measure"]) == ("acct-1001", "cooling_off")


def test_a_confirmed_cut_is_told_once(stream, patroller):
    action = actions.block_stream(stream, actor=patroller, reason=ReasonCode.PORNOGRAPHY)
    actions.perform_cut(action.pk)  # the node at 127.0.0.1:9 refuses: nothing confirmed yet
    assert sent("stream.cut_confirmed") == []
    ModerationAction.objects.filter(pk=action.pk).update(media_status=ModerationAction.MediaStatus.PENDING)
    actions.end_stream_session(node=stream.node, client_id="7", key_name=stream.published_name, reason="unpublished")
    actions.perform_cut(action.pk)  # nothing left on air
    actions.perform_cut(action.pk)
    [payload] = sent("stream.cut_confirmed")
    assert (payload["action"], payload["measure"], payload["outcome"]) == (action.pk, "block", "gone")


def test_a_credit_level_change_is_told_and_a_same_level_charge_is_not(publisher, admin):
    actions.adjust_credit(publisher, actor=admin, points=-1, reason="轻微")
    assert sent("publisher.credit_level_changed") == []
    actions.adjust_credit(publisher, actor=admin, points=-40, reason="严重违规")
    [payload] = sent("publisher.credit_level_changed")
    publisher.refresh_from_db()
    assert (payload["publisher"], payload["previous_level"], payload["credit_level"]) == (
        "acct-1001",
        "A",
        publisher.credit_level,
    )
    assert payload["credit_score"] == publisher.credit_score and publisher.credit_level != "A"


def test_a_rolled_back_block_tells_nothing(stream, patroller):
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.block_stream(stream, actor=patroller, reason=ReasonCode.PORNOGRAPHY)
        raise RuntimeError("rolled back")
    assert not WebhookDelivery.objects.exists()
