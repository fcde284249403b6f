"""The machine-review API (snapshots and verdicts pushed by a review service) and staff-only images."""

from __future__ import annotations

import base64
import hashlib

from django.contrib.auth.models import Group
from django.test import Client

import pytest
from rest_framework.test import APIClient

from accounts.actions import create_machine_client
from accounts.models import StaffActionLog
from accounts.roles import MACHINE_PLATFORM, MACHINE_REVIEW
from moderation import actions
from moderation.models import ModerationAction, Snapshot, Stream
from moderation.queries.payloads import snapshot_url
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0" + b"\x10" * 64 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def machine_client(name: str, kind: str) -> APIClient:
    # A transactional test before this one (live server) may have flushed the migration's groups.
    Group.objects.get_or_create(name=kind)
    user, token = create_machine_client(name, kind=kind, actor=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    client.user = user
    return client


@pytest.fixture
def review_service(db):
    return machine_client("review-service", MACHINE_REVIEW)


@pytest.fixture
def stream(nginx_node, stream_key) -> Stream:
    return actions.open_stream(
        stream_key,
        published_name=stream_key.issued_key,
        node=nginx_node,
        app="live",
        client_id="7",
        addr="",
        title="夜宵",
    )


def url_for(stream_id: int) -> str:
    return f"/api/v1/streams/{stream_id}/snapshots/"


def push(client, stream_id: int, body) -> object:
    return client.post(url_for(stream_id), body, format="json")


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"]), body
    return body["error"]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def assert_nothing_written(stream: Stream) -> None:
    assert not Snapshot.objects.exists()
    stream.refresh_from_db()
    assert (stream.review_flag, stream.review_score, stream.latest_snapshot) == ("", None, None)
    assert not ModerationAction.objects.exists()


# --- pushes that are recorded ------------------------------------------------------------------


def test_review_service_pushes_a_frame_with_a_passing_verdict(review_service, stream):
    response = push(
        review_service,
        stream.pk,
        {
            "image_base64": b64(JPEG),
            "taken_at": "2026-11-28T12:00:00+08:00",
            "verdict": {"label": "normal", "score": 0.1, "suggestion": "pass"},
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    snapshot = Snapshot.objects.get()
    assert body["id"] == snapshot.pk and body["stream"] == stream.pk
    assert body["sha256"] == hashlib.sha256(JPEG).hexdigest() == snapshot.sha256
    assert body["image_url"] == snapshot_url(snapshot) and body["image_url"].startswith("/media/snapshots/")
    assert (body["stream_review_flag"], body["auto_blocked"]) == ("", False)
    assert snapshot.source == Snapshot.Source.EXTERNAL
    assert (snapshot.verdict_label, snapshot.verdict_score, snapshot.verdict_suggestion) == ("normal", 0.1, "pass")
    assert snapshot.image.read() == JPEG
    stream.refresh_from_db()
    assert stream.latest_snapshot == snapshot and stream.review_flag == ""
    assert StaffActionLog.objects.filter(verb="snapshot.record", actor=review_service.user).exists()


def test_a_png_is_accepted_and_kept_as_png(review_service, stream):
    response = push(review_service, stream.pk, {"image_base64": b64(PNG)})

    assert response.status_code == 201, response.content
    assert Snapshot.objects.get().image.name.endswith(".png")


@pytest.mark.parametrize(
    ("verdict", "flag"),
    [
        ({"label": "smoking", "score": 0.4, "suggestion": "review"}, "smoking"),
        ({"label": "porn", "score": 0.99, "suggestion": "block"}, "porn"),
        ({"label": "gambling", "score": 0.85}, "gambling"),
    ],
)
def test_a_verdict_for_review_flags_the_stream(review_service, stream, verdict, flag):
    response = push(review_service, stream.pk, {"verdict": verdict})

    assert response.status_code == 201, response.content
    stream.refresh_from_db()
    assert (stream.review_flag, stream.review_score) == (flag, verdict["score"])
    assert response.json()["stream_review_flag"] == flag
    assert stream.latest_snapshot is None  # a verdict without a frame leaves the card's picture
    assert StaffActionLog.objects.filter(verb="stream.flag_for_review", target_id=str(stream.pk)).exists()
    assert not ModerationAction.objects.exists()  # auto-block is off by default


def test_a_passing_verdict_under_the_flag_score_does_not_flag(review_service, stream, settings):
    settings.LIVEWARD_REVIEW_FLAG_SCORE = 0.9
    response = push(review_service, stream.pk, {"verdict": {"label": "dance", "score": 0.85, "suggestion": "pass"}})

    assert response.status_code == 201
    stream.refresh_from_db()
    assert stream.review_flag == ""


def test_auto_block_policy_blocks_a_confident_block_verdict(review_service, stream, settings):
    settings.LIVEWARD_AUTO_BLOCK_SUGGESTIONS = ["block"]
    settings.LIVEWARD_AUTO_BLOCK_MIN_SCORE = 0.95

    response = push(
        review_service,
        stream.pk,
        {"image_base64": b64(JPEG), "verdict": {"label": "porn", "score": 0.97, "suggestion": "block"}},
    )

    assert response.status_code == 201, response.content
    assert response.json()["auto_blocked"] is True
    action = ModerationAction.objects.get()
    assert (action.kind, action.stream, action.actor, action.reason) == ("block", stream, None, "other_illegal")
    assert action.note == "machine review: porn 0.97"
    stream.refresh_from_db()
    assert stream.review_flag == "porn"


def test_auto_block_policy_leaves_a_less_confident_verdict_to_people(review_service, stream, settings):
    settings.LIVEWARD_AUTO_BLOCK_SUGGESTIONS = ["block"]
    settings.LIVEWARD_AUTO_BLOCK_MIN_SCORE = 0.95

    response = push(review_service, stream.pk, {"verdict": {"label": "porn", "score": 0.9, "suggestion": "block"}})

    assert response.status_code == 201
    assert response.json()["auto_blocked"] is False
    assert not ModerationAction.objects.exists()
    stream.refresh_from_db()
    assert stream.review_flag == "porn"


def test_an_image_near_the_limit_is_accepted_above_the_site_wide_body_limit(review_service, stream, settings):
    image = b"\xff\xd8\xff" + b"\x01" * (2 * 1024 * 1024 - 3)
    assert len(b64(image)) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    response = push(review_service, stream.pk, {"image_base64": b64(image)})

    assert response.status_code == 201, response.content[:300]
    assert Snapshot.objects.get().image.size == len(image)


# --- refusals: nothing written -----------------------------------------------------------------

TOO_LARGE = b"\xff\xd8\xff" + b"\x00" * (2 * 1024 * 1024)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "non_field_errors"),
        ({"image_base64": "not base64!!"}, "image_base64"),
        ({"image_base64": b64(b"GIF89a" + b"\x00" * 20)}, "image_base64"),
        ({"image_base64": b64(TOO_LARGE)}, "image_base64"),
        ({"image_base64": 17}, "image_base64"),
        ({"taken_at": "yesterday", "verdict": {"label": "x", "score": 0.5}}, "taken_at"),
        ({"taken_at": "2999-01-01T00:00:00Z", "verdict": {"label": "x", "score": 0.5}}, "taken_at"),
        ({"verdict": {"label": "x", "score": 1.5}}, "verdict"),
        ({"verdict": {"label": "x", "score": -0.1}}, "verdict"),
        ({"verdict": {"label": "x", "score": "high"}}, "verdict"),
        ({"verdict": {"label": "x", "score": 0.5, "suggestion": "ban"}}, "verdict"),
        ({"verdict": {"label": "x" * 65, "score": 0.5}}, "verdict"),
        ({"verdict": {"label": "", "score": 0.5}}, "verdict"),
        ({"verdict": {"score": 0.5}}, "verdict"),
        ({"verdict": "block"}, "verdict"),
    ],
)
def test_bad_pushes_are_refused_with_400(review_service, stream, body, field):
    response = push(review_service, stream.pk, body)

    assert response.status_code == 400, response.content
    error = error_of(response)
    assert field in error["fields"], error
    assert_nothing_written(stream)


@pytest.mark.parametrize("raw", [b"{", b"[1, 2", b'{"verdict": {"label": "x", "score": NaN}}', b"\xff\xfe"])
def test_a_body_that_is_not_json_is_refused_with_400(review_service, stream, raw):
    response = review_service.post(url_for(stream.pk), raw, content_type="application/json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"
    assert_nothing_written(stream)


def test_a_body_larger_than_any_valid_push_is_refused_unread(review_service, stream):
    body = b'{"image_base64": "' + b"A" * (4 * 1024 * 1024) + b'"}'

    response = review_service.post(url_for(stream.pk), body, content_type="application/json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "too_large"
    assert_nothing_written(stream)


def test_a_form_body_is_refused_as_unsupported(review_service, stream):
    response = review_service.post(url_for(stream.pk), {"image_base64": b64(JPEG)}, format="multipart")

    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"
    assert_nothing_written(stream)


def test_a_body_that_is_a_json_list_is_refused_with_400(review_service, stream):
    response = push(review_service, stream.pk, [{"image_base64": b64(JPEG)}])

    assert response.status_code == 400
    assert_nothing_written(stream)


def test_unknown_stream_is_404(review_service, stream):
    response = push(review_service, stream.pk + 1000, {"image_base64": b64(JPEG)})

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert_nothing_written(stream)


def test_ended_stream_is_409(review_service, stream, nginx_node, stream_key):
    actions.end_stream_session(node=nginx_node, client_id=stream.client_id, key_name=stream_key.issued_key)

    response = push(review_service, stream.pk, {"verdict": {"label": "porn", "score": 0.99, "suggestion": "block"}})

    assert response.status_code == 409
    assert error_of(response)["code"] == "stream_not_live"
    assert not Snapshot.objects.exists()


def test_other_machine_clients_staff_and_anonymous_are_refused(stream, patroller, admin):
    platform = machine_client("platform-backend", MACHINE_PLATFORM)
    staff = APIClient()
    staff.force_login(admin)
    anonymous = APIClient()

    for client in (platform, staff):
        response = push(client, stream.pk, {"image_base64": b64(JPEG)})
        assert response.status_code == 403, response.content
        assert error_of(response)["code"] == "permission_denied"
    assert push(anonymous, stream.pk, {"image_base64": b64(JPEG)}).status_code in {401, 403}
    assert_nothing_written(stream)


# --- serving images to staff -------------------------------------------------------------------


@pytest.fixture
def stored(stream) -> Snapshot:
    return actions.record_snapshot(stream, image_bytes=JPEG, source=Snapshot.Source.CAPTURE)


def logged_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_a_patroller_sees_the_image(stored, patroller):
    response = logged_in(patroller).get(snapshot_url(stored))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == JPEG
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"].startswith("private")


def test_anonymous_goes_to_login_and_an_outsider_is_refused(stored, outsider):
    anonymous = Client().get(snapshot_url(stored))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]

    assert logged_in(outsider).get(snapshot_url(stored)).status_code == 403


def test_the_review_service_token_does_not_open_images(stored, review_service):
    assert review_service.get(snapshot_url(stored)).status_code in {302, 403}


@pytest.mark.parametrize(
    "path",
    [
        "../secret.txt",
        "%2e%2e/secret.txt",
        "2026/../../secret.txt",
        "..%2fsecret.txt",
        "/etc/passwd",
        "//etc/passwd",
        "./",
        "no-such-file.jpg",
        "",
    ],
)
def test_paths_outside_the_snapshots_are_not_served(stored, patroller, media_root, path):
    (media_root / "secret.txt").write_text("not for you")

    response = logged_in(patroller).get(f"/media/snapshots/{path}")

    assert response.status_code == 404
