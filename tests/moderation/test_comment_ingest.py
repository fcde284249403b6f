"""The platform pushes comments in batches and hears each verdict at once (Art. 11, 12, 14)."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from accounts.actions import create_machine_client
from accounts.roles import MACHINE_PLATFORM
from moderation import actions
from moderation.gate import rules
from moderation.models import Comment, Stream, ViewerMute

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
def show(nginx_node, stream_key):
    return live(nginx_node, stream_key, "show-1")


@pytest.fixture
def news_stream(nginx_node, news_key, approved_now):
    return live(nginx_node, news_key, "news-1")


@pytest.fixture
def terms(admin, settings):
    settings.LIVEWARD_TERMS_REFRESH_SECONDS = 0
    actions.import_terms("微信\tadvertising\tblock\n赌博\tgambling\thold\n傻\tabuse\tflag\n".encode(), actor=admin)


def item(stream, comment_id, text="主播好", *, viewer="v-1", verified=True, **extra) -> dict:
    return {
        "stream": stream.pk,
        "id": comment_id,
        "viewer_id": viewer,
        "text": text,
        "viewer_phone_verified": verified,
        **extra,
    }


def push(platform, *items):
    return platform.post("/api/v1/comments/", {"comments": list(items)}, format="json")


def verdicts(response) -> list:
    assert response.status_code == 200, response.content
    return [(result["id"], result["verdict"], result.get("reason")) for result in response.json()["results"]]


def test_a_batch_gets_every_verdict_at_once_and_everything_is_stored(platform, show, terms):
    response = push(
        platform,
        item(show, "c-1", "主播唱得真好听"),
        item(show, "c-2", "加我 微.信 有福利"),
        item(show, "c-3", "来賭博吧"),
        item(show, "c-4", "傻了吧"),
        item(show, "c-5", "我也想说话", verified=False),
    )
    assert verdicts(response) == [
        ("c-1", "publish", ""),
        ("c-2", "block", "sensitive_term"),
        ("c-3", "hold", "sensitive_term"),
        ("c-4", "publish", ""),
        ("c-5", "block", "unverified_phone"),
    ]
    results = response.json()["results"]
    assert results[1]["terms"] == [{"term": "微信", "category": "advertising", "action": "block"}]
    assert results[3]["flagged"] is True
    stored = {comment.external_id: comment for comment in Comment.objects.all()}
    assert stored["c-2"].status == Comment.Status.BLOCKED and stored["c-2"].matched_terms[0]["term"] == "微信"
    assert stored["c-3"].status == Comment.Status.HELD and stored["c-3"].term_list_version == 1
    assert stored["c-5"].block_reason == Comment.BlockReason.UNVERIFIED_PHONE


def test_an_id_seen_before_returns_its_first_verdict(platform, show, terms):
    verdicts(push(platform, item(show, "c-1", "加微信")))
    again = push(platform, item(show, "c-1", "正常的话"))
    assert verdicts(again) == [("c-1", "block", "sensitive_term")]
    assert again.json()["results"][0]["status"] == 200 and again.json()["results"][0]["replayed"] is True
    assert Comment.objects.get().text == "加微信"


def test_news_streams_hold_every_comment_and_blocks_come_first(platform, news_stream, terms):
    assert verdicts(push(platform, item(news_stream, "n-1", "这条新闻"), item(news_stream, "n-2", "加微信"))) == [
        ("n-1", "hold", "news_pre_review"),
        ("n-2", "block", "sensitive_term"),
    ]


def test_a_credit_level_that_requires_pre_review_holds(platform, show, admin):
    actions.adjust_credit(show.publisher, actor=admin, points=-50, reason="多次违规")
    assert verdicts(push(platform, item(show, "c-1"))) == [("c-1", "hold", "credit_pre_review")]


def test_a_muted_viewer_is_blocked_here_or_everywhere(platform, show, patroller, nginx_node, publisher):
    from django.utils import timezone

    ViewerMute.objects.create(
        viewer_id="v-bad", stream=show, until=timezone.now() + timezone.timedelta(minutes=5), reason="abuse",
        muted_by=patroller,
    )  # fmt: skip
    assert verdicts(push(platform, item(show, "c-1", viewer="v-bad"), item(show, "c-2", viewer="v-good"))) == [
        ("c-1", "block", "muted"),
        ("c-2", "publish", ""),
    ]


def test_bad_items_are_refused_one_by_one_and_the_rest_is_stored(platform, show, stream_key):
    current = live(show.node, stream_key, "show-2")  # the same key again ends the first session
    show.refresh_from_db()
    response = push(
        platform,
        item(current, "ok-1"),
        item(current, "dup"),
        item(current, "dup", "again"),
        item(current, "empty", ""),
        item(current, "long", "长" * 2001),
        item(current, "ctl", "a\x00b"),
        {"stream": 999999, "id": "nowhere", "viewer_id": "v", "text": "x", "viewer_phone_verified": True},
        item(show, "ended-stream"),
        {"stream": "x", "id": "bad-stream"},
        "not an object",
    )
    results = response.json()["results"]
    assert response.status_code == 200
    assert [(result["id"], result["status"], (result.get("error") or {}).get("code")) for result in results] == [
        ("ok-1", 201, None),
        ("dup", 201, None),
        ("dup", 409, "duplicate_in_batch"),
        ("empty", 400, "bad_field"),
        ("long", 400, "bad_field"),
        ("ctl", 400, "bad_text"),
        ("nowhere", 404, "not_found"),
        ("ended-stream", 409, "stream_ended"),
        ("bad-stream", 400, "bad_field"),
        ("", 400, "bad_field"),
    ]
    assert set(Comment.objects.values_list("external_id", flat=True)) == {"ok-1", "dup"}


def test_a_batch_over_the_limit_or_not_a_batch_is_refused_whole(platform, show, settings):
    settings.LIVEWARD_COMMENT_BATCH_MAX = 3
    over = push(platform, *[item(show, f"c-{index}") for index in range(4)])
    assert over.status_code == 400 and over.json()["error"]["code"] == "batch_too_large"
    for body in ({}, {"comments": []}, {"comments": "x"}, []):
        assert platform.post("/api/v1/comments/", body, format="json").status_code == 400
    invalid_utf8 = platform.generic("POST", "/api/v1/comments/", b'{"comments": ["\xff"]}', "application/json")
    assert invalid_utf8.status_code == 400
    assert not Comment.objects.exists()


def test_only_the_platform_pushes_comments(client, patroller, show):
    client.force_login(patroller)
    response = client.post("/api/v1/comments/", json.dumps({"comments": [item(show, "c-1")]}), "application/json")
    assert response.status_code == 403 and not Comment.objects.exists()


def test_held_comments_are_announced_once_the_batch_commits(platform, show, terms, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        verdicts(push(platform, item(show, "c-1", "赌博"), item(show, "c-2", "赌博啊"), item(show, "c-3", "好")))
    assert len(callbacks) == 1  # one frame for the batch's two held comments


def test_the_platform_pulls_decided_comments(platform, show, terms, patroller):
    verdicts(push(platform, item(show, "c-1", "赌博"), item(show, "c-2", "赌博吧")))
    early = platform.get("/api/v1/comments/decided/", {"since": "2000-01-01T00:00:00Z"}).json()
    assert early == {"comments": [], "next_since": None}
    actions.decide_held_comments(actor=patroller, release=True, stream=show)
    pulled = platform.get("/api/v1/comments/decided/", {"since": "2000-01-01T00:00:00Z"}).json()
    assert sorted((row["comment"], row["status"]) for row in pulled["comments"]) == [
        ("c-1", "released"),
        ("c-2", "released"),
    ]
    assert platform.get("/api/v1/comments/decided/", {"since": "yesterday"}).status_code == 400


def test_an_id_seen_before_answers_its_first_verdict_after_its_stream_ended_and_not_on_another(platform, show, terms):
    verdicts(push(platform, item(show, "c-1", "加微信"), item(show, "c-2", "主播好")))
    key = show.key
    key.issued_key = show.published_name  # the key the publisher presents again, as it went live under it
    current = live(show.node, key, "show-2")  # ends the first session
    again = push(platform, item(show, "c-1", "主播好"), item(current, "c-2"), item(show, "c-3"))
    assert [
        (r["id"], r["status"], r["verdict"], (r.get("error") or {}).get("code")) for r in again.json()["results"]
    ] == [
        ("c-1", 200, "block", None),
        ("c-2", 409, None, "conflict"),
        ("c-3", 409, None, "stream_ended"),
    ]
    assert Comment.objects.count() == 2


def test_new_and_seen_ids_in_one_batch_store_only_the_new_ones(platform, show, terms):
    first = push(platform, item(show, "c-1", "赌博"))
    comment_id = first.json()["results"][0]["comment"]
    again = push(platform, item(show, "c-1", "赌博"), item(show, "c-2", "赌博啊"))
    results = again.json()["results"]
    assert [(r["id"], r["status"], r["replayed"]) for r in results] == [("c-1", 200, True), ("c-2", 201, False)]
    assert results[0]["comment"] == comment_id and results[1]["comment"] != comment_id
    assert Comment.objects.filter(status=Comment.Status.HELD).count() == 2


def test_a_body_the_fast_parser_refuses_is_read_as_before(platform, show):
    # A lone surrogate written as an escape: orjson refuses the body, the standard parser reads it
    # and the item is refused by the text rule, the rest of the batch stored.
    body = json.dumps({"comments": [item(show, "ok-1"), item(show, "bad", "a\ud800b")]}).encode()
    response = platform.generic("POST", "/api/v1/comments/", body, "application/json")
    assert [(r["id"], r["status"]) for r in response.json()["results"]] == [("ok-1", 201), ("bad", 400)]
    huge_stream = (
        b'{"comments": [{"stream": 123456789012345678901234567890, "id": "x", "viewer_id": "v", "text": "t"}]}'
    )
    response = platform.generic("POST", "/api/v1/comments/", huge_stream, "application/json")
    assert response.json()["results"][0]["error"]["code"] == "bad_field"  # as the standard parser answered
    deep = platform.generic(
        "POST", "/api/v1/comments/", b'{"comments": ' + b"[" * 40 + b"]" * 40 + b"}", "application/json"
    )
    assert deep.status_code == 400 and "deeper" in deep.json()["error"]["message"]


def test_a_control_character_is_refused_in_the_field_that_holds_it(platform, show):
    response = push(
        platform,
        item(show, "id\x01", "好"),
        item(show, "c-v", "好", viewer="v\x1f"),
        item(show, "c-t", "第一行\n第二行"),  # line breaks are allowed in the text, not in the ids
        item(show, "c-u", "好\x07"),
    )
    results = response.json()["results"]
    assert [(result["status"], (result.get("error") or {}).get("code")) for result in results] == [
        (400, "bad_text"), (400, "bad_text"), (201, None), (400, "bad_text"),
    ]  # fmt: skip
    messages = [(result.get("error") or {}).get("message", "") for result in results]
    assert messages[0].startswith("id ") and messages[1].startswith("viewer_id") and messages[3].startswith("text")
    assert list(Comment.objects.values_list("external_id", flat=True)) == ["c-t"]
