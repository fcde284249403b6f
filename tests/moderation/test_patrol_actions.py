"""Patrol actions in the domain: records, rollbacks, the cut sweep, publish_done during a pending cut."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from urllib.parse import urlencode

from django.db import transaction
from django.utils import timezone

import pytest

from moderation import actions
from moderation.actions import cuts, patrol, restore
from moderation.models import ModerationAction, ReasonCode, Stream, StreamKey
from tests.conftest import NODE_SECRET

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"


def publish(client, key: str, call: str = "publish", hook: str = "on_publish", client_id: str = "5"):
    form = {"app": "live", "name": key, "addr": "203.0.113.1", "clientid": client_id, "call": call, "type": "live"}
    return client.post(f"/gate/nginx-rtmp/edge-1/{NODE_SECRET}/{hook}", urlencode(form), content_type=FORM)


@pytest.fixture
def live(client, nginx_node, stream_key):
    assert publish(client, stream_key.issued_key).status_code == 200
    return Stream.objects.live().get()


def test_a_rolled_back_block_writes_nothing_and_sends_nothing(live, patroller, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        actions.block_stream(live, actor=patroller, reason=ReasonCode.FRAUD, request_id="rb")
        raise RuntimeError("the caller failed after the action")
    assert callbacks == []
    assert not ModerationAction.objects.exists()
    assert StreamKey.objects.get(pk=live.key_id).denied_until is None


def test_block_registers_broadcast_then_cut_on_commit(live, patroller, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        action = actions.block_stream(live, actor=patroller, reason=ReasonCode.FRAUD, request_id="oc")
    # the platform's stream.blocked, stored stamp, delta, broadcast stamp, cut, then the credit charge
    assert len(callbacks) == 6
    assert ModerationAction.objects.get(pk=action.pk).media_status == ModerationAction.MediaStatus.PENDING


def test_publish_done_while_the_cut_is_pending_records_a_cut(client, live, patroller):
    actions.block_stream(live, actor=patroller, reason=ReasonCode.FRAUD)  # node's control port is closed
    assert publish(client, live.published_name, call="publish_done", hook="on_publish_done").status_code == 200
    assert Stream.objects.get(pk=live.pk).end_reason == Stream.EndReason.CUT


def test_the_sweep_retries_cuts_never_attempted(live, patroller, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # the process "dies" before the drop
        action = actions.block_stream(live, actor=patroller, reason=ReasonCode.FRAUD)
    assert cuts.pending_cuts() == []  # too fresh: its own process may still be dropping
    later = timezone.now() + timedelta(seconds=31)
    assert cuts.pending_cuts(now=later) == [action.pk]


def test_lift_ends_the_cooling_off(client, live, admin, patroller):
    actions.block_stream(live, actor=patroller, reason=ReasonCode.FRAUD)
    with pytest.raises(actions.ModerationError):
        actions.lift_block(live.key, actor=admin, note=" ")
    actions.lift_block(live.key, actor=admin, note="复核后解除")
    assert StreamKey.objects.get(pk=live.key_id).denied_until is None
    assert ModerationAction.objects.filter(kind="lift", actor=admin).exists()
    assert publish(client, live.published_name, client_id="6").status_code == 200


def test_cooling_off_is_configurable(live, patroller, settings):
    settings.LIVEWARD_BLOCK_COOLING_OFF_MINUTES = 30
    actions.block_stream(live, actor=patroller, reason=ReasonCode.FRAUD)
    denied_until = StreamKey.objects.get(pk=live.key_id).denied_until
    assert timezone.now() + timedelta(minutes=29) < denied_until < timezone.now() + timedelta(minutes=31)


def test_a_request_id_clash_inside_the_action_fails_it_whole(live, patroller, django_capture_on_commit_callbacks):
    # Two frames with one request id racing past the replay check: the second one's insert clashes.
    earlier = actions.mark_patrolled(live, actor=patroller, request_id="raced")
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(actions.ModerationError) as refused,
        transaction.atomic(),
    ):
        StreamKey.objects.filter(pk=live.key_id).update(denied_until=timezone.now() + timedelta(minutes=5))
        patrol._create_action(actor=patroller, kind="block", stream=live, reason="fraud", request_id="raced")
    assert refused.value.code == "request_id_taken"
    assert callbacks == []
    assert list(ModerationAction.objects.all()) == [earlier]
    assert StreamKey.objects.get(pk=live.key_id).denied_until is None


def test_a_block_keeps_the_last_comments_as_evidence(live, patroller):
    for index in range(25):
        actions.receive_comment(
            live,
            external_id=f"c-{index}",
            viewer_id=f"v-{index}",
            text=f"弹幕{index}",
            viewer_phone_verified=True,
            actor=None,
        )
    action = actions.block_stream(live, actor=patroller, reason=ReasonCode.FRAUD, request_id="with-comments")
    evidence = action.evidence.get(kind="comments")
    texts = [comment["text"] for comment in evidence.content["comments"]]
    assert texts == [f"弹幕{index}" for index in range(5, 25)]  # the last twenty, oldest first
    body = json.dumps(evidence.content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert evidence.sha256 == hashlib.sha256(body.encode()).hexdigest()


def test_a_block_without_comments_keeps_no_comment_evidence(live, patroller):
    action = actions.block_stream(live, actor=patroller, reason=ReasonCode.FRAUD, request_id="quiet")
    assert not action.evidence.filter(kind="comments").exists()
    assert action.evidence.filter(kind="metadata").exists()


def test_lifting_a_suspension_and_reopening_an_account_need_a_note_and_the_right_state(live, admin):
    publisher = live.publisher
    with pytest.raises(actions.ModerationError) as refused:
        restore.lift_suspension(publisher, actor=admin, note="解除")
    assert (refused.value.code, str(refused.value)) == ("invalid", "the publisher is not suspended")
    actions.suspend_publisher(live, actor=admin, reason=ReasonCode.FRAUD, minutes=60)
    with pytest.raises(actions.ModerationError) as refused:
        restore.lift_suspension(publisher, actor=admin, note="  ")
    assert refused.value.code == "missing_field"
    lifted = restore.lift_suspension(publisher, actor=admin, note="复核后解除")
    assert (lifted.status, lifted.suspended_until) == ("active", None)
    assert ModerationAction.objects.filter(kind="lift", publisher=publisher, note="复核后解除").exists()
    with pytest.raises(actions.ModerationError) as refused:
        restore.reopen_publisher(publisher, actor=admin, note="重新开放")
    assert (refused.value.code, str(refused.value)) == ("invalid", "the account is not closed")
