"""Text no input may hold, at the REST API: paths, query strings, fields and JSON depth answer 400, never 500."""

from __future__ import annotations

import json

from django.urls import reverse

import pytest

from moderation.api.serializers import AppealSubmissionSerializer
from moderation.models import Publisher, StreamKey
from tests.moderation.test_api import error_of, platform, registration  # noqa: F401

pytestmark = pytest.mark.django_db
JSON = "application/json"


def post_raw(client, url: str, body: str):
    return client.generic("POST", url, body.encode("utf-8", "surrogatepass"), content_type=JSON)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_deeply_nested_json_is_a_400_and_registers_nothing(platform, agreement, depth):  # noqa: F811
    body = json.dumps(registration())[:-1] + f', "extra": {nested(depth - 1)}}}'
    response = post_raw(platform, reverse("api-publishers"), body)
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "parse_error" and "32 levels" in error["message"]
    assert not Publisher.objects.exists()


def test_json_nested_32_levels_is_taken(platform, agreement):  # noqa: F811
    body = json.dumps(registration())[:-1] + f', "extra": {nested(31)}}}'
    assert post_raw(platform, reverse("api-publishers"), body).status_code == 201


@pytest.mark.parametrize(
    ("display_name", "says"),
    [
        ("主播\x07小王", "U+0007"),
        ("主播\x1b[31m", "U+001B"),
        ("主播\x85小王", "U+0085"),
        ("主播\n小王", "只能填写一行"),
        ("主播\t小王", "U+0009"),
    ],
)
def test_a_control_character_in_a_field_is_refused_by_name(platform, agreement, display_name, says):  # noqa: F811
    response = platform.post(reverse("api-publishers"), registration(display_name=display_name), format="json")
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "invalid" and says in error["fields"]["display_name"][0]
    assert not Publisher.objects.exists()


def test_a_lone_surrogate_in_a_field_is_refused(platform, agreement):  # noqa: F811
    body = json.dumps(registration(), ensure_ascii=False).replace("山野行者", "\\ud800山野")
    response = post_raw(platform, reverse("api-publishers"), body)
    assert response.status_code == 400
    assert "display_name" in error_of(response)["fields"]
    assert not Publisher.objects.exists()


def test_a_trailing_newline_in_an_account_id_is_trimmed_not_stored(platform, agreement):  # noqa: F811
    response = platform.post(reverse("api-publishers"), registration(platform_account_id="acct-2001\n"), format="json")
    assert response.status_code == 201
    assert Publisher.objects.get().platform_account_id == "acct-2001"


def test_a_multi_line_field_keeps_its_line_breaks_and_refuses_other_controls():
    def statement_errors(statement: str) -> dict:
        serializer = AppealSubmissionSerializer(
            data={"kind": "credit_event", "target": 1, "publisher": "acct-1", "statement": statement}
        )
        serializer.is_valid()
        return serializer.errors

    assert "statement" not in statement_errors("第一段\r\n\t第二段")
    assert "U+0000" in statement_errors("第一段\x00")["statement"][0]


@pytest.mark.parametrize(
    ("method", "address"),
    [
        ("get", "/api/v1/publishers/a%00b/credit/"),
        ("post", "/api/v1/publishers/acct%00/stream-keys/"),
        ("post", "/api/v1/publishers/acct-1001%0A/devices/"),
        ("get", "/api/v1/gate-decisions/?stream_key=%00"),
        ("get", "/api/v1/gate-decisions/?%1B=1"),
    ],
)
def test_a_control_character_in_an_api_address_is_a_400_in_the_api_shape(
    platform,  # noqa: F811
    publisher,
    method,
    address,
):
    response = getattr(platform, method)(address, {"category": "entertainment"} if method == "post" else None)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "bad_text" and error["message"].startswith("The address ")
    assert not StreamKey.objects.exists()


def test_the_api_takes_json_only(platform, agreement):  # noqa: F811
    response = platform.post(reverse("api-publishers"), registration(display_name="a\x00b"), format="multipart")
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"
    assert not Publisher.objects.exists()
