"""The platform's news API: submit on a publisher's behalf, read, withdraw; bad input refused, nothing written."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

import pytest
from rest_framework.test import APIClient

from accounts.actions import create_machine_client
from accounts.roles import MACHINE_PLATFORM
from moderation import actions
from moderation.models import NewsApplication, NewsSource, PublisherLicence, WebhookDelivery
from tests.news_world import apply_for, approve, days

pytestmark = pytest.mark.django_db


@pytest.fixture
def platform(db):
    user, token = create_machine_client("platform-backend", kind=MACHINE_PLATFORM, actor=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    client.user = user
    return client


def url(account="acct-news-1") -> str:
    return f"/api/v1/publishers/{account}/news-applications/"


def body(key, **overrides) -> dict:
    now = timezone.now()
    data = {
        "stream_key": key.pk,
        "title": "两会特别报道",
        "outline": "连线代表委员，解读政府工作报告。",
        "window_start": (now + timedelta(hours=1)).isoformat(),
        "window_end": (now + timedelta(hours=3)).isoformat(),
        "origin": "original",
    }
    data.update(overrides)
    return data


def error_of(response) -> dict:
    return response.json()["error"]


def test_the_platform_submits_an_application_and_reads_its_status(platform, news_key):
    response = platform.post(url(), body(news_key), format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "submitted" and created["publisher"] == "acct-news-1"
    assert [d["kind"] for d in created["decisions"]] == ["submit"]
    read = platform.get(f"/api/v1/news-applications/{created['id']}/")
    assert read.status_code == 200 and read.json()["title"] == "两会特别报道"


def test_a_reposted_application_keeps_its_sources_in_order(platform, news_key):
    sources = [{"name": "新华社", "url": "https://www.news.cn/x.html"}, {"name": "人民网", "url": "http://people.cn/"}]
    response = platform.post(url(), body(news_key, origin="reposted", sources=sources), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["sources"] == sources


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"origin": "reposted"}, "sources"),
        ({"origin": "reposted", "sources": [{"name": "新华社", "url": "not a url"}]}, "sources"),
        ({"origin": "reposted", "sources": [{"name": "新华社", "url": "ftp://news.cn/x"}]}, "sources"),
        ({"origin": "reposted", "sources": [{"name": "", "url": "https://news.cn/"}]}, "sources"),
        ({"origin": "satire"}, "origin"),
        ({"title": ""}, "title"),
        ({"window_start": "tomorrow"}, "window_start"),
    ],
)
def test_bad_fields_are_400_and_nothing_is_written(platform, news_key, overrides, field):
    response = platform.post(url(), body(news_key, **overrides), format="json")
    assert response.status_code == 400, response.content
    assert field in error_of(response)["fields"]
    assert not NewsApplication.objects.exists() and not NewsSource.objects.exists()


def test_a_window_that_ends_before_it_starts_is_400(platform, news_key):
    now = timezone.now()
    response = platform.post(
        url(),
        body(
            news_key,
            window_start=(now + timedelta(hours=3)).isoformat(),
            window_end=(now + timedelta(hours=2)).isoformat(),
        ),
        format="json",
    )
    assert response.status_code == 400 and "window_end" in error_of(response)["fields"]
    assert not NewsApplication.objects.exists()


def test_a_window_in_the_past_is_400(platform, news_key):
    now = timezone.now()
    response = platform.post(
        url(),
        body(
            news_key,
            window_start=(now - timedelta(hours=3)).isoformat(),
            window_end=(now - timedelta(hours=1)).isoformat(),
        ),
        format="json",
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_window"
    assert not NewsApplication.objects.exists()


def test_a_key_of_another_publisher_or_category_is_refused(platform, news_key, stream_key):
    other = platform.post(url(), body(stream_key), format="json")
    assert other.status_code == 400 and "stream_key" in error_of(other)["fields"]
    wrong_category = platform.post(url("acct-1001"), body(stream_key), format="json")
    assert wrong_category.status_code == 400 and error_of(wrong_category)["code"] == "bad_field"
    assert not NewsApplication.objects.exists()


def test_staff_and_strangers_cannot_use_the_platform_endpoints(news_key, editor_in_chief):
    staff = APIClient()
    staff.force_login(editor_in_chief)
    assert staff.post(url(), body(news_key), format="json").status_code == 403
    assert APIClient().post(url(), body(news_key), format="json").status_code in (401, 403)
    assert not NewsApplication.objects.exists()


def test_withdrawing_then_deciding_is_a_conflict(platform, news_key, platform_licence, editor_in_chief):
    application = apply_for(news_key, actor=platform.user)
    response = platform.post(f"/api/v1/news-applications/{application.pk}/withdraw/", {"note": "改期"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    with pytest.raises(actions.ModerationError) as refused:
        approve(application, editor_in_chief)
    assert refused.value.code == "conflict"
    again = platform.post(f"/api/v1/news-applications/{application.pk}/withdraw/", {}, format="json")
    assert again.status_code == 409 and error_of(again)["code"] == "conflict"
    application.refresh_from_db()
    assert application.status == NewsApplication.Status.WITHDRAWN
    assert [d.kind for d in application.decisions.all()] == ["submit", "withdraw"]


def test_each_decision_is_sent_to_the_platform_by_signed_webhook(platform, news_key, platform_licence,
                                                                  news_reviewer, editor_in_chief):  # fmt: skip
    application = apply_for(news_key)
    actions.decide_news_application(application, kind="recommend", actor=news_reviewer, note="来源可靠")
    approve(application, editor_in_chief)
    actions.decide_news_application(application, kind="revoke", actor=editor_in_chief, note="撤销")
    events = list(WebhookDelivery.objects.order_by("id").values_list("event", "payload"))
    assert [event for event, _payload in events] == [
        "news_application.recommended",
        "news_application.approved",
        "news_application.revoked",
    ]
    assert events[-1][1]["application"] == application.pk and events[-1][1]["status"] == "revoked"
    assert events[-1][1]["note"] == "撤销" and events[-1][1]["publisher"] == "acct-news-1"


def test_the_platform_submits_a_publisher_licence_with_its_scan(platform, news_key):
    response = platform.post(
        "/api/v1/publishers/acct-news-1/news-licences/",
        {
            "number": "京新许-B-1",
            "scopes": ["reposting"],
            "valid_from": str(days(0)),
            "valid_until": str(days(-2)),
            "scan_base64": "JVBERi0xLjQ=",
        },
        format="json",
    )
    assert response.status_code == 400 and "valid_until" in error_of(response)["fields"]
    response = platform.post(
        "/api/v1/publishers/acct-news-1/news-licences/",
        {
            "number": "京新许-B-1",
            "scopes": ["reposting"],
            "valid_from": str(days(0)),
            "valid_until": str(days(90)),
            "scan_base64": "JVBERi0xLjQ=",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    licence = PublisherLicence.objects.get(number="京新许-B-1")
    assert licence.verification == "pending" and licence.scan.read() == b"%PDF-1.4"
