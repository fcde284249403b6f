"""Measures on viewers (Art. 14): mute on a stream or everywhere, unmute with a reason, delete recent comments."""

from __future__ import annotations

from django.utils import timezone

import pytest
from rest_framework.test import APIClient

from accounts.models import StaffActionLog
from moderation import actions
from moderation.errors import ModerationError
from moderation.gate import rules
from moderation.models import Comment, Stream, ViewerMute, WebhookDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def show(nginx_node, stream_key):
    outcome = rules.decide_publish(
        rules.PublishRequest(node=nginx_node, key_name=stream_key.issued_key, app="live", client_id="s-1")
    )
    return Stream.objects.get(pk=outcome.stream_id)


def comment(stream, comment_id, viewer="v-1", text="主播好"):
    return actions.receive_comment(
        stream, external_id=comment_id, viewer_id=viewer, text=text, viewer_phone_verified=True, actor=None
    )


def test_a_muted_viewers_next_comment_is_blocked_and_the_platform_is_told(show, patroller):
    assert comment(show, "c-1").status == Comment.Status.PUBLISHED
    actions.mute_viewer("v-1", stream=show, minutes=10, reason="insult_defamation", actor=patroller, note="辱骂")
    blocked = comment(show, "c-2")
    assert (blocked.status, blocked.block_reason) == (Comment.Status.BLOCKED, "muted")
    assert comment(show, "c-3", viewer="v-2").status == Comment.Status.PUBLISHED
    assert WebhookDelivery.objects.get(event="viewer.muted").payload["viewer"] == "v-1"
    assert StaffActionLog.objects.get(verb="viewer.muted").data["stream"] == show.pk


def test_a_mute_everywhere_blocks_on_every_stream_and_unmute_lifts_it(show, patroller):
    mute = actions.mute_viewer("v-1", minutes=60, reason="fraud", actor=patroller)
    assert comment(show, "c-1").block_reason == "muted"
    with pytest.raises(ModerationError) as refused:
        actions.unmute_viewer(mute, note="", actor=patroller)
    assert refused.value.code == "missing_field"
    actions.unmute_viewer(mute, note="误封", actor=patroller)
    assert comment(show, "c-2").status == Comment.Status.PUBLISHED
    assert WebhookDelivery.objects.filter(event="viewer.unmuted").count() == 1


def test_an_expired_mute_blocks_nothing(show, patroller):
    mute = actions.mute_viewer("v-1", stream=show, minutes=1, reason="fraud", actor=patroller)
    ViewerMute.objects.filter(pk=mute.pk).update(until=timezone.now() - timezone.timedelta(seconds=1))
    assert comment(show, "c-1").status == Comment.Status.PUBLISHED


def test_deleting_recent_comments_removes_only_that_viewers_on_that_stream(show, patroller):
    mine = [comment(show, f"m-{index}") for index in range(3)]
    other = comment(show, "o-1", viewer="v-2")
    removed = actions.delete_recent_comments("v-1", stream=show, reason="fraud", actor=patroller)
    assert sorted(c.pk for c in removed) == sorted(c.pk for c in mine)
    assert set(Comment.objects.filter(viewer_id="v-1").values_list("status", flat=True)) == {"removed"}
    assert Comment.objects.get(pk=other.pk).status == "published"
    delivery = WebhookDelivery.objects.get(event="comments.removed")
    assert sorted(delivery.payload["comments"]) == ["m-0", "m-1", "m-2"]


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ({"minutes": 0, "reason": "fraud"}, "bad_field"),
        ({"minutes": 10, "reason": "nonsense"}, "bad_field"),
        ({"minutes": 10, "reason": "patrolled"}, "bad_field"),
        ({"minutes": 10, "reason": "fraud", "note": "x" * 301}, "bad_field"),
    ],
)
def test_bad_mutes_are_refused_and_nothing_is_written(show, patroller, arguments, code):
    with pytest.raises(ModerationError) as refused:
        actions.mute_viewer("v-1", stream=show, actor=patroller, **arguments)
    assert refused.value.code == code
    assert not ViewerMute.objects.exists() and not WebhookDelivery.objects.exists()


def test_a_news_reviewer_may_not_mute(show, news_reviewer):
    with pytest.raises(ModerationError) as refused:
        actions.mute_viewer("v-1", stream=show, minutes=5, reason="fraud", actor=news_reviewer)
    assert refused.value.code == "forbidden"


def test_mutes_by_api(show, patroller):
    client = APIClient()
    client.force_login(patroller)
    created = client.post(
        "/api/v1/viewers/mutes/",
        {"viewer_id": "v-9", "stream": show.pk, "minutes": 30, "reason": "fraud"},
        format="json",
    )
    assert created.status_code == 201, created.content
    listed = client.get("/api/v1/viewers/mutes/").json()
    assert [row["viewer_id"] for row in listed] == ["v-9"]
    bad = client.post("/api/v1/viewers/mutes/", {"viewer_id": "v-9", "minutes": 0, "reason": "fraud"}, format="json")
    assert bad.status_code == 400
    lifted = client.post(f"/api/v1/viewers/mutes/{created.json()['id']}/lift/", {"note": "申诉成功"}, format="json")
    assert lifted.status_code == 200 and lifted.json()["lifted_at"]
    comment(show, "k-1", viewer="v-3")
    removal = client.post(
        "/api/v1/comments/removals/", {"viewer_id": "v-3", "stream": show.pk, "reason": "fraud"}, format="json"
    )
    assert removal.json() == {"removed": ["k-1"]}
