"""The platform app's report filing ahead of Django (moderation/gate/report_filing.py): the DRF view's answers."""

from __future__ import annotations

import base64
import json

from django.contrib.auth.models import Group

import pytest
from rest_framework.test import APIClient

from accounts.actions import create_machine_client
from accounts.roles import MACHINE_PLATFORM, MACHINE_REVIEW, Scope
from moderation.gate import asgi, registration, report_filing
from moderation.models import PublicReport
from tests.moderation.test_registration_check import asgi_post
from tests.moderation.test_reports import open_live, png_bytes

PATH = report_filing.PATH
JSON = [(b"content-type", b"application/json")]


@pytest.fixture(autouse=True)
def _forget_tokens():
    registration.forget_cached_tokens()
    yield
    registration.forget_cached_tokens()
    asgi.shutdown()


def platform(kind: str = MACHINE_PLATFORM, name: str = "platform-backend", scopes=None) -> tuple[APIClient, str]:
    Group.objects.get_or_create(name=kind)
    _user, token = create_machine_client(name, kind=kind, actor=None, **({"scopes": scopes} if scopes else {}))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client, token


def body(stream, **overrides) -> dict:
    return {
        "target_kind": "stream",
        "target": str(stream.pk),
        "category": "pornography",
        "description": "主播在直播中展示违规内容",
        "device_id": "device-7",
        "reporter_address": "198.51.100.9",
    } | overrides


def lean(data, *, token, language: bytes = b"") -> tuple[int, dict]:
    headers = JSON + ([(b"accept-language", language)] if language else [])
    status, content = asgi_post(json.dumps(data).encode(), token=token, path=PATH, headers=headers)
    return status, json.loads(content)


def comparable(answer: dict) -> dict:
    """An answer without what differs between two filings of the same report (its receipt and times)."""
    return {key: value for key, value in answer.items() if key not in ("receipt", "received_at")}


@pytest.mark.django_db(transaction=True)
def test_a_json_report_is_filed_ahead_of_django_and_answers_as_the_view(stream_key, nginx_node, clear_cache):
    stream = open_live(stream_key, nginx_node)
    client, token = platform()
    status, answer = lean(body(stream), token=token)
    assert status == 201, answer
    report = PublicReport.objects.get(receipt=answer["receipt"])
    assert report.stream_id == stream.pk and report.source == PublicReport.Source.APP
    assert report.address and report.address != "198.51.100.9"  # a digest, as the view keeps it
    expected = client.post(PATH, body(stream, device_id="device-8"), format="json")
    assert expected.status_code == 201
    assert comparable(answer) == comparable(expected.json())
    # The labels follow Accept-Language, as the view's do under the locale middleware.
    _status, english = lean(body(stream, device_id="device-9"), token=token, language=b"en-US,en;q=0.9")
    viewed = client.post(PATH, body(stream, device_id="device-10"), format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert english["status_label"] == viewed.json()["status_label"] != answer["status_label"]


BAD = [
    {"category": "nonsense"},
    {"target": "abc"},
    {"description": ""},
    {"description": "x" * 2001},
    {"device_id": "a\nb"},
    {"reporter_address": "not an address"},
    {"target_kind": "planet"},
    {"images": ["bm90IGFuIGltYWdl"]},
    {"images": ["***"]},
    {"target": "999999"},
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("overrides", BAD)
def test_bad_input_is_refused_as_the_view_refuses_it_and_nothing_is_stored(
    stream_key, nginx_node, clear_cache, overrides
):
    stream = open_live(stream_key, nginx_node)
    client, token = platform()
    status, answer = lean(body(stream, **overrides), token=token)
    expected = client.post(PATH, body(stream, **overrides), format="json")
    assert 400 <= status < 500 and status == expected.status_code, answer
    assert answer == expected.json()
    assert not PublicReport.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_tokens_limits_and_what_goes_to_django(stream_key, nginx_node, clear_cache, settings):
    stream = open_live(stream_key, nginx_node)
    _client, token = platform()
    assert lean(body(stream), token=None)[0] in (401, 403)  # no token: Django's view answers
    assert lean(body(stream), token="nonsense")[0] == 401
    _review, review_token = platform(MACHINE_REVIEW, "review")
    assert lean(body(stream), token=review_token)[0] == 403
    _narrow, narrow_token = platform(name="narrow", scopes=[Scope.REGISTRATION_CHECK])
    status, answer = lean(body(stream), token=narrow_token)
    assert status == 403 and answer["error"]["code"] == "scope_missing"
    status, content = asgi_post(b"{not json", token=token, path=PATH, headers=JSON)
    assert status == 400 and json.loads(content)["error"]["code"] == "parse_error"
    assert not PublicReport.objects.exists()
    # Over the hourly limit of one device: 429, counted as the page counts.
    settings.LIVEWARD_REPORT_LIMIT_PER_HOUR = 2
    statuses = [lean(body(stream, reporter_address=""), token=token)[0] for _ in range(3)]
    assert statuses == [201, 201, 429]
    # A body larger than the lean front reads (a report with images) is Django's, with the same rules.
    image = base64.b64encode(png_bytes()).decode()
    status, answer = lean(body(stream, device_id="device-with-image", images=[image] * 3), token=token)
    assert status == 201 and PublicReport.objects.get(receipt=answer["receipt"]).images.count() == 3


def test_the_front_takes_only_json_posts_with_a_token_and_a_small_declared_body():
    def scope(method=b"POST", content_type=b"application/json", length=b"100", authorization=b"Token abc"):
        headers = [(b"content-type", content_type), (b"authorization", authorization)]
        if length is not None:
            headers.append((b"content-length", length))
        return {"method": method.decode(), "headers": headers}

    assert report_filing.takes(scope())
    assert report_filing.takes(scope(content_type=b"application/json; charset=utf-8"))
    assert not report_filing.takes(scope(method=b"GET"))
    assert not report_filing.takes(scope(content_type=b"multipart/form-data; boundary=x"))
    assert not report_filing.takes(scope(length=None))  # chunked: Django reads it under its own limits
    assert not report_filing.takes(scope(length=b"99999999"))
    assert not report_filing.takes(scope(length=b"12x"))
    assert not report_filing.takes(scope(authorization=b""))  # a staff session: Django's view
