"""The REST API: staff reads, the platform backend's writes, machine tokens, errors and docs."""

from __future__ import annotations

import json
import re
from io import StringIO

from django.core.management import CommandError, call_command
from django.urls import reverse

import pytest
from rest_framework.test import APIClient

from accounts.actions import create_machine_client
from accounts.models import StaffActionLog, User
from accounts.roles import MACHINE_PLATFORM, Role, has_role
from moderation import actions
from moderation.models import GateDecision, Publisher, Stream, StreamKey, hash_stream_key
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

RAW_DOCUMENT = "110105199001011234"
RAW_PHONE = "+8613800138000"
VALID_DOCUMENT = "110105199001011232"  # the registration API checks the GB 11643 check digit


def staff_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def platform(db):
    user, token = create_machine_client("platform-backend", kind=MACHINE_PLATFORM, actor=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    client.user = user
    return client


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"]), body
    return body["error"]


def registration(**overrides) -> dict:
    data = {
        "platform_account_id": "acct-2001",
        "display_name": "山野行者",
        "kind": "person",
        "real_name": "周杰",
        "document_type": "resident_id",
        "document_number": VALID_DOCUMENT,
        "phone": RAW_PHONE,
        "agreement_version": "2026-01",
    }
    data.update(overrides)
    return data


@pytest.fixture
def stream(nginx_node, stream_key):
    return actions.open_stream(
        stream_key,
        published_name=stream_key.issued_key,
        node=nginx_node,
        app="live",
        client_id="7",
        addr="",
        title="夜宵",
    )


# --- machine clients ---------------------------------------------------------------------------


def test_machine_client_has_a_token_no_password_and_no_staff_role(platform):
    user = platform.user
    assert not user.has_usable_password() and user.is_active and not user.is_staff
    assert user.role_names == {MACHINE_PLATFORM}
    assert has_role(user, MACHINE_PLATFORM)
    assert not has_role(user) and not has_role(user, *Role.values)
    assert StaffActionLog.objects.filter(verb="machine_client.create", target_id=str(user.pk)).exists()


def test_machine_client_is_refused_by_staff_pages_and_endpoints(platform, client):
    client.force_login(platform.user)
    assert client.get(reverse("console:home")).status_code == 403
    response = platform.get(reverse("api-live-streams"))
    assert response.status_code == 403 and error_of(response)["code"] == "permission_denied"


def test_machine_client_kind_and_name_are_checked(db):
    with pytest.raises(ValueError):
        create_machine_client("x", kind=Role.PATROLLER, actor=None)
    create_machine_client("twice", kind=MACHINE_PLATFORM, actor=None)
    with pytest.raises(ValueError):
        create_machine_client("twice", kind=MACHINE_PLATFORM, actor=None)
    with pytest.raises(ValueError):
        create_machine_client("bad name!", kind=MACHINE_PLATFORM, actor=None)


def test_create_api_token_prints_the_token_once(db):
    out, err = StringIO(), StringIO()
    call_command("create_api_token", "platform-prod", "--kind", "platform_backend", stdout=out, stderr=err)
    token = out.getvalue().strip()
    assert re.fullmatch(r"lw[0-9a-f]{10}_[A-Za-z0-9_-]{43}", token)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(reverse("api-health")).json()["client"] == "platform-prod"
    with pytest.raises(CommandError, match="exists"):
        call_command("create_api_token", "platform-prod", "--kind", "platform_backend", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("create_api_token", "other", "--kind", "patroller", stdout=StringIO(), stderr=StringIO())


def test_unknown_staff_user_without_role_is_refused(outsider):
    response = staff_client(outsider).get(reverse("api-live-streams"))
    assert response.status_code == 403


# --- authentication ---------------------------------------------------------------------------


def test_unauthenticated_gets_401_with_the_token_challenge(db):
    for url in (reverse("api-live-streams"), reverse("api-health"), reverse("api-publishers")):
        response = APIClient().get(url)
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"] == "Token"
        assert error_of(response)["code"] == "not_authenticated"


def test_bad_token_gets_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = client.get(reverse("api-health"))
    assert response.status_code == 401 and error_of(response)["code"] == "authentication_failed"


def test_health_answers_any_authenticated_client(platform, patroller):
    assert platform.get(reverse("api-health")).json()["status"] == "ok"
    assert staff_client(patroller).get(reverse("api-health")).status_code == 200


# --- staff reads ------------------------------------------------------------------------------


def test_live_streams_for_staff(patroller, stream):
    body = staff_client(patroller).get(reverse("api-live-streams")).json()
    assert [row["id"] for row in body["results"]] == [stream.pk]


def test_stream_detail(inspector, stream):
    response = staff_client(inspector).get(reverse("api-stream", args=[stream.pk]))
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "夜宵" and body["is_live"] is True and body["node"] == "edge-1"
    assert "key" not in body
    missing = staff_client(inspector).get(reverse("api-stream", args=[99999]))
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"


def test_publisher_detail_masks_identity(admin, publisher):
    response = staff_client(admin).get(reverse("api-publisher", args=[publisher.pk]))
    assert response.status_code == 200
    body = response.json()
    assert body["document_number"] == "110105********1234"
    assert body["phone"] == "+86138****8000"
    assert body["real_name"] == "王**"
    assert RAW_DOCUMENT not in response.content.decode() and RAW_PHONE not in response.content.decode()
    assert "王小明" not in response.content.decode()


def test_gate_decisions_filter_and_page(patroller, nginx_node, stream_key):
    other = actions.issue_stream_key(stream_key.publisher, category=stream_key.category)
    for n in range(3):
        actions.record_gate_decision(
            hook="publish", allowed=True, reason="allowed", node=nginx_node, key_name=stream_key.issued_key,
            stream_key_id=stream_key.pk, client_id=str(n),
        )  # fmt: skip
    actions.record_gate_decision(
        hook="publish", allowed=False, reason="key_revoked", key_name=other.issued_key, stream_key_id=other.pk
    )
    client = staff_client(patroller)
    url = reverse("api-gate-decisions")
    body = client.get(url).json()
    assert body["count"] == 4 and len(body["results"]) == 4
    assert stream_key.issued_key not in json.dumps(body)  # only a hint of the key
    body = client.get(url, {"stream_key": stream_key.pk, "limit": 2}).json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    assert [r["client_id"] for r in body["results"]] == ["2", "1"]
    denials = client.get(url, {"allowed": "false"}).json()
    assert [r["reason"] for r in denials["results"]] == ["key_revoked"]
    assert client.get(url, {"allowed": "true"}).json()["count"] == 3
    bad = client.get(url, {"stream_key": "abc", "allowed": "maybe"})
    assert bad.status_code == 400
    assert set(error_of(bad)["fields"]) == {"stream_key", "allowed"}
    assert client.get(url, {"limit": "1000000"}).status_code == 200


def test_gate_decisions_not_for_news_reviewers(news_reviewer):
    assert staff_client(news_reviewer).get(reverse("api-gate-decisions")).status_code == 403


# --- the platform's backend ------------------------------------------------------------------


def test_platform_registers_a_publisher(platform, agreement):
    response = platform.post(reverse("api-publishers"), registration(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["platform_account_id"] == "acct-2001" and body["verification"] == "pending"
    assert body["document_number"] == "110105********1232"
    publisher = Publisher.objects.get(platform_account_id="acct-2001")
    assert publisher.document_number == VALID_DOCUMENT and publisher.agreement_version == "2026-01"
    log = StaffActionLog.objects.get(verb="publisher.register")
    assert log.actor == platform.user


def test_duplicate_account_is_409(platform, agreement):
    platform.post(reverse("api-publishers"), registration(), format="json")
    response = platform.post(reverse("api-publishers"), registration(display_name="另一个"), format="json")
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "duplicate_account" and "acct-2001" in error["message"]
    assert Publisher.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"platform_account_id": ""}, "platform_account_id"),
        ({"platform_account_id": "has space"}, "platform_account_id"),
        ({"display_name": None}, "display_name"),
        ({"display_name": ["list"]}, "display_name"),
        ({"display_name": "x" * 101}, "display_name"),
        ({"real_name": "x" * 100_000}, "real_name"),
        ({"kind": "robot"}, "kind"),
        ({"kind": 5}, "kind"),
        ({"document_type": "library_card"}, "document_type"),
        ({"phone": "call me"}, "phone"),
        ({"phone": "1380013800"}, "phone"),
        ({"document_number": RAW_DOCUMENT}, "document_number"),
        ({"document_number": "11010519900101123"}, "document_number"),
        ({"agreement_version": "1999-01"}, "agreement_version"),
        ({"display_name": "nul\x00byte"}, "display_name"),
        ({"document_number": {"nested": 1}}, "document_number"),
    ],
)
def test_bad_registration_is_400_with_fields(platform, agreement, overrides, field):
    response = platform.post(reverse("api-publishers"), registration(**overrides), format="json")
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "invalid" and field in error["fields"]
    assert not Publisher.objects.exists()


def test_missing_fields_are_named(platform):
    response = platform.post(reverse("api-publishers"), {}, format="json")
    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {"platform_account_id", "display_name"}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("[1, 2, 3]", "application/json"),
        ('"just a string"', "application/json"),
        ("null", "application/json"),
        ("\xff\xfe", "application/json"),
        ("a=1", "text/plain"),
    ],
)
def test_malformed_bodies_are_4xx_never_500(platform, body, content_type):
    response = platform.generic("POST", reverse("api-publishers"), body.encode("latin-1"), content_type=content_type)
    assert 400 <= response.status_code < 500, response.content
    assert error_of(response)


def test_staff_cannot_use_platform_endpoints(admin, publisher, entertainment):
    client = staff_client(admin)
    response = client.post(reverse("api-publishers"), registration(), format="json")
    assert response.status_code == 403 and error_of(response)["code"] == "permission_denied"
    url = reverse("api-publisher-stream-keys", args=[publisher.platform_account_id])
    assert client.post(url, {"category": "entertainment"}, format="json").status_code == 403


def test_platform_cannot_read_staff_endpoints(platform, publisher):
    assert platform.get(reverse("api-publisher", args=[publisher.pk])).status_code == 403
    assert platform.get(reverse("api-gate-decisions")).status_code == 403


def test_platform_issues_a_stream_key_shown_once(platform, publisher, entertainment, patroller):
    url = reverse("api-publisher-stream-keys", args=[publisher.platform_account_id])
    response = platform.post(url, {"category": "entertainment", "default_title": "周末直播"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    key = StreamKey.objects.get(pk=body["id"])
    assert len(body["key"]) >= 32 and key.category == entertainment and key.default_title == "周末直播"
    # Stored as its hash and first characters only; the gate finds it by the hash.
    assert key.key_hash == hash_stream_key(body["key"]) and key.key_prefix == body["key"][:6]
    assert body["publisher"] == publisher.platform_account_id
    # Nothing else in the API ever shows it again.
    for path in (reverse("api-publisher", args=[publisher.pk]), reverse("api-gate-decisions")):
        assert body["key"] not in staff_client(patroller).get(path).content.decode()


def test_stream_key_bad_input(platform, publisher, entertainment):
    url = reverse("api-publisher-stream-keys", args=[publisher.platform_account_id])
    unknown = platform.post(url, {"category": "cooking"}, format="json")
    assert unknown.status_code == 400 and "category" in error_of(unknown)["fields"]
    assert platform.post(url, {}, format="json").status_code == 400
    long_title = platform.post(url, {"category": "entertainment", "default_title": "x" * 201}, format="json")
    assert long_title.status_code == 400 and "default_title" in error_of(long_title)["fields"]
    missing = platform.post(
        reverse("api-publisher-stream-keys", args=["no-such-account"]), {"category": "entertainment"}, format="json"
    )
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    assert not StreamKey.objects.exists()


def test_issued_key_publishes_at_the_gate(platform, agreement, entertainment, nginx_node, client):
    from tests.moderation.test_gate import on_publish

    platform.post(reverse("api-publishers"), registration(), format="json")
    publisher = Publisher.objects.get()
    actions.set_publisher_verification(publisher, verification=Publisher.Verification.VERIFIED, actor=None)
    url = reverse("api-publisher-stream-keys", args=["acct-2001"])
    key = platform.post(url, {"category": "entertainment"}, format="json").json()["key"]
    assert on_publish(client, key).status_code == 200
    assert Stream.objects.live().get().publisher == publisher
    assert GateDecision.objects.get().allowed


# --- schema and docs ---------------------------------------------------------------------------


def test_schema_and_docs_for_staff(patroller):
    client = staff_client(patroller)
    schema = client.get(reverse("api-schema"))
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in ("/api/v1/publishers/", "/api/v1/gate-decisions/", "/api/v1/streams/{id}/", "/api/v1/health/"):
        assert path in text
    docs = client.get(reverse("api-docs"))
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "unpkg" not in html and "jsdelivr" not in html
    references = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert references
    for ref in references:
        assert ref.startswith("/static/") or ref.startswith("/api/v1/"), ref
    assert client.get(reverse("api-redoc")).status_code == 200


def test_schema_is_not_public(db):
    assert APIClient().get(reverse("api-schema")).status_code == 401


def test_staff_session_login_still_works_for_the_api(patroller):
    client = APIClient()
    assert client.login(username="patroller", password=PASSWORD)
    assert client.get(reverse("api-live-streams")).status_code == 200
    assert User.objects.get(username="patroller").role_names == {Role.PATROLLER}
