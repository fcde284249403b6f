"""Comments on news streams are held until a news reviewer releases or rejects them (Art. 7, 11)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.actions import create_machine_client
from accounts.roles import MACHINE_PLATFORM
from moderation import actions, comment_holds
from moderation.gate import rules
from moderation.models import Comment, Stream, WebhookDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def platform(db):
    _user, token = create_machine_client("platform-backend", kind=MACHINE_PLATFORM, actor=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def live(node, key, client_id) -> Stream:
    outcome = rules.decide_publish(
        rules.PublishRequest(node=node, key_name=key.issued_key, app="live", client_id=client_id)
    )
    assert outcome.allowed, outcome
    return Stream.objects.get(pk=outcome.stream_id)


@pytest.fixture
def news_stream(nginx_node, news_key, approved_now):
    return live(nginx_node, news_key, "news-1")


@pytest.fixture
def show_stream(nginx_node, stream_key):
    return live(nginx_node, stream_key, "show-1")


def comment_events():
    return WebhookDelivery.objects.filter(event__startswith="comment.").values_list("event", flat=True)


def push(platform, stream, comment_id="c-1", text="说得好"):
    return platform.post(
        f"/api/v1/streams/{stream.pk}/comments/",
        {"id": comment_id, "viewer_id": "v-9", "text": text, "viewer_phone_verified": True},
        format="json",
    )


def test_a_comment_on_a_news_stream_is_held(platform, news_stream):
    response = push(platform, news_stream)
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "held" and response.json()["hold_reason"] == "news_pre_review"


def test_a_comment_on_another_stream_is_published_at_once(platform, show_stream):
    response = push(platform, show_stream)
    assert response.json()["status"] == "published" and response.json()["hold_reason"] == ""


def test_the_same_comment_id_again_returns_the_first(platform, news_stream):
    push(platform, news_stream)
    again = push(platform, news_stream, text="changed")
    assert again.status_code == 200 and Comment.objects.get().text == "说得好"


def test_the_hold_policy_is_a_list_of_rules(news_stream, show_stream, monkeypatch):
    assert comment_holds.verdict_for(comment_holds.Incoming(stream=news_stream, text="x")).reason == "news_pre_review"
    assert comment_holds.verdict_for(comment_holds.Incoming(stream=show_stream, text="x")) is None
    extra = [lambda comment: comment_holds.Verdict("hold", "sensitive") if "赌" in comment.text else None]
    monkeypatch.setattr(comment_holds, "HOLD_RULES", extra)
    assert comment_holds.verdict_for(comment_holds.Incoming(stream=show_stream, text="来赌")).reason == "sensitive"


def test_a_reviewer_releases_and_the_platform_is_told(platform, news_stream, news_reviewer):
    push(platform, news_stream)
    comment = actions.decide_held_comment(Comment.objects.get(), release=True, actor=news_reviewer)
    assert (comment.status, comment.decided_by) == (Comment.Status.RELEASED, news_reviewer)
    delivery = WebhookDelivery.objects.get(event__startswith="comment.")
    assert delivery.event == "comment.released" and delivery.payload["comment"] == "c-1"


def test_a_reviewer_rejects_and_a_second_decision_is_a_conflict(platform, news_stream, news_reviewer,
                                                                 editor_in_chief):  # fmt: skip
    push(platform, news_stream)
    held = Comment.objects.get()
    actions.decide_held_comment(held, release=False, actor=news_reviewer, note="谣言")
    with pytest.raises(actions.ModerationError) as again:
        actions.decide_held_comment(held, release=True, actor=editor_in_chief)
    assert again.value.code == "conflict"
    assert Comment.objects.get().status == Comment.Status.REJECTED
    assert list(comment_events()) == ["comment.rejected"]


def test_a_patroller_cannot_release_a_news_comment(platform, news_stream, patroller):
    push(platform, news_stream)
    with pytest.raises(actions.ModerationError) as refused:
        actions.decide_held_comment(Comment.objects.get(), release=True, actor=patroller)
    assert refused.value.code == "forbidden"
    assert Comment.objects.get().status == Comment.Status.HELD and not comment_events().exists()


def test_bad_comments_are_400_and_nothing_is_written(platform, news_stream):
    response = platform.post(f"/api/v1/streams/{news_stream.pk}/comments/", {"id": "c-2", "text": ""}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) >= {"viewer_id", "text"}
    assert not Comment.objects.exists()
