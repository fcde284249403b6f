"""The platform's registration check: POST /api/v1/registration-check, through DRF and the lean ASGI path."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from django.contrib.auth.models import Group
from django.urls import reverse

import pytest
from rest_framework.test import APIClient

from accounts.actions import create_machine_client
from accounts.roles import MACHINE_PLATFORM, MACHINE_REVIEW
from console.asgi import application
from moderation import actions
from moderation.gate import asgi, registration
from moderation.identity import Kind
from moderation.models import BlacklistEntry, Publisher, ReasonCode, StreamKey

URL = "/api/v1/registration-check"
ID_NUMBER = "110105199001011232"


@pytest.fixture(autouse=True)
def _forget_tokens():
    registration.forget_cached_tokens()
    yield
    registration.forget_cached_tokens()


def machine(kind: str = MACHINE_PLATFORM, name: str = "platform-backend") -> tuple[APIClient, str]:
    # A transactional test before this one flushed the groups migration 0003_machine_clients made.
    Group.objects.get_or_create(name=kind)
    _user, token = create_machine_client(name, kind=kind, actor=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client, token


@pytest.fixture
def entries(admin):
    return {
        kind: actions.add_blacklist_entry(kind, value, actor=admin, reason=ReasonCode.FRAUD)
        for kind, value in [
            (Kind.ID_DOCUMENT, ID_NUMBER),
            (Kind.PHONE, "13912345678"),
            (Kind.DEVICE, "idfa-6d92078a-8246-4ba4-ae5b-76104861e7dc"),
            (Kind.PLATFORM_ACCOUNT, "banned-1"),
        ]
    }


# --- through Django (DRF) -----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"id_number": "110105199001011232"}, Kind.ID_DOCUMENT),
        ({"id_number": "110105 1990 0101 1232"}, Kind.ID_DOCUMENT),
        ({"phone": "+86 139-1234-5678"}, Kind.PHONE),
        ({"phone": "0086 (139) 1234 5678"}, Kind.PHONE),
        ({"device_id": "IDFA-6D92078A-8246-4BA4-AE5B-76104861E7DC"}, Kind.DEVICE),
        ({"platform_account_id": "banned-1"}, Kind.PLATFORM_ACCOUNT),
        ({"phone": "13800138000", "platform_account_id": "banned-1"}, Kind.PLATFORM_ACCOUNT),
    ],
)
def test_a_blacklisted_identity_is_refused_with_the_reference_only(entries, body, kind):
    client, _token = machine()
    response = client.post(URL, body, format="json")
    assert response.status_code == 200
    assert response.json() == {"allowed": False, "reference": entries[kind].reference}


@pytest.mark.django_db
def test_a_clean_identity_is_allowed(entries):
    client, _token = machine()
    body = {
        "id_number": "11010519491231002X",
        "phone": "13800138000",
        "device_id": "imei-1234",
        "platform_account_id": "x",
    }
    response = client.post(URL, body, format="json")
    assert response.status_code == 200 and response.json() == {"allowed": True}


@pytest.mark.django_db
def test_a_removed_or_expired_entry_allows(entries, admin):
    from django.utils import timezone

    actions.reverse_blacklisting(entries[Kind.PHONE], actor=admin, reason="申诉成立")
    BlacklistEntry.objects.filter(pk=entries[Kind.DEVICE].pk).update(expires_at=timezone.now())
    client, _token = machine()
    assert client.post(URL, {"phone": "13912345678"}, format="json").json() == {"allowed": True}
    body = {"device_id": "idfa-6d92078a-8246-4ba4-ae5b-76104861e7dc"}
    assert client.post(URL, body, format="json").json() == {"allowed": True}


BAD_INPUT = [
    ({"id_number": "110105199001011234"}, "id_number"),
    ({"id_number": "1101051990"}, "id_number"),
    ({"phone": "12345"}, "phone"),
    ({"phone": "call me"}, "phone"),
    ({"phone": 13912345678}, "phone"),
    ({"device_id": "a b"}, "device_id"),
    ({"platform_account_id": "x" * 200}, "platform_account_id"),
    ({"document_type": "library_card", "id_number": "E1234567"}, "document_type"),
    ({}, "non_field_errors"),
    ({"email": "a@example.com"}, "non_field_errors"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "field"), BAD_INPUT)
def test_bad_input_is_400_naming_the_field(entries, body, field):
    client, _token = machine()
    response = client.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]


@pytest.mark.django_db
def test_only_the_platform_backend_may_ask(entries, admin):
    assert APIClient().post(URL, {"phone": "13912345678"}, format="json").status_code == 401
    review, _token = machine(MACHINE_REVIEW, "review")
    assert review.post(URL, {"phone": "13912345678"}, format="json").status_code == 403
    staff = APIClient()
    staff.force_login(admin)
    assert staff.post(URL, {"phone": "13912345678"}, format="json").status_code == 403


@pytest.mark.django_db
def test_the_check_is_one_query(entries, django_assert_num_queries):
    from moderation.blacklist_matching import registration_check

    # The first check on a connection also prepares the statement (PostgreSQL); after that, one query.
    registration_check({"id_number": ID_NUMBER, "phone": "13800138000"})
    with django_assert_num_queries(1):
        assert registration_check({"id_number": ID_NUMBER, "phone": "13800138000"})[1]["allowed"] is False


@pytest.mark.django_db
def test_registering_a_blacklisted_identity_through_the_api_is_refused(entries, agreement):
    client, _token = machine()
    body = {
        "platform_account_id": "fresh-account",
        "display_name": "新账号",
        "document_number": "110105199001011232",
        "phone": "13700000000",
        "agreement_version": "2026-01",
    }
    response = client.post(reverse("api-publishers"), body, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "blacklisted" and error["reference"] == entries[Kind.ID_DOCUMENT].reference
    assert not Publisher.objects.filter(platform_account_id="fresh-account").exists()


@pytest.mark.django_db
def test_the_platform_reports_devices_and_a_blacklisted_one_closes_the_account(entries, stream_key):
    client, _token = machine()
    url = reverse("api-publisher-devices", args=["acct-1001"])
    response = client.post(url, {"device_id": "imei-356938035643809"}, format="json")
    assert response.status_code == 201 and response.json()["publisher_status"] == "active"
    response = client.post(url, {"device_id": "IDFA-6D92078A-8246-4BA4-AE5B-76104861E7DC"}, format="json")
    assert response.status_code == 201 and response.json()["publisher_status"] == "closed"
    assert client.post(url, {"device_id": "a b"}, format="json").status_code == 400
    assert StreamKey.objects.get(pk=stream_key.pk).publisher.devices.count() == 2


# --- the lean ASGI path production serves --------------------------------------------------------


def asgi_post(
    body: bytes, *, token: str | None, method: str = "POST", path: str = URL, headers: list | None = None
) -> tuple[int, bytes]:
    """Send one request to the ASGI application production serves; return the status and the body."""

    async def run():
        sent_headers = [(b"host", b"127.0.0.1"), (b"content-length", str(len(body)).encode()), *(headers or [])]
        if token is not None:
            sent_headers.append((b"authorization", f"Token {token}".encode()))
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "headers": sent_headers,
            "client": ("203.0.113.5", 40000), "server": ("127.0.0.1", 8000),
        }  # fmt: skip
        inbox = [{"type": "http.request", "body": body, "more_body": False}]
        sent: list[dict] = []

        async def receive():
            if inbox:
                return inbox.pop(0)
            await asyncio.Event().wait()

        async def send(message):
            sent.append(message)

        await application(scope, receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        return start["status"], b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")

    return asyncio.run(run())


@pytest.fixture
def lean_threads():
    yield
    asgi.shutdown()


@pytest.mark.django_db(transaction=True)
def test_the_lean_path_answers_like_the_drf_view(entries, lean_threads):
    client, token = machine()
    for body in [{"phone": "+86 139 1234 5678"}, {"phone": "13800138000"}, *[body for body, _field in BAD_INPUT]]:
        status, content = asgi_post(json.dumps(body).encode(), token=token)
        expected = client.post(URL, body, format="json")
        assert status == expected.status_code and json.loads(content) == expected.json(), body
    status, content = asgi_post(b"{not json", token=token)
    assert status == 400 and json.loads(content)["error"]["code"] == "parse_error"
    assert asgi_post(b"{}", token=None)[0] == 401
    assert asgi_post(b"{}", token="nonsense")[0] == 401
    assert asgi_post(b"{}", token=token, method="GET")[0] == 405
    _review, review_token = machine(MACHINE_REVIEW, "review")
    assert asgi_post(b'{"phone": "13912345678"}', token=review_token)[0] == 403
    huge = json.dumps({"phone": "1" * 100_000}).encode()
    assert asgi_post(huge, token=token)[0] == 413


@pytest.mark.django_db
def test_the_compiled_lookup_answers_as_the_queryset(entries):
    from django.utils import timezone

    from moderation.blacklist_matching import check_pairs, first_matching_reference, matching_entries

    for body in [{"phone": "13912345678"}, {"phone": "13800138000", "device_id": "imei-0000"},
                 {"id_number": ID_NUMBER, "phone": "13800138000", "device_id": "imei-0000",
                  "platform_account_id": "banned-1"}, {"platform_account_id": "nobody"}]:  # fmt: skip
        pairs, errors = check_pairs(body)
        assert not errors
        expected = list(matching_entries(pairs).values_list("reference", flat=True))
        found = first_matching_reference(pairs, now=timezone.now())
        assert (found in expected) if expected else found is None, body
    later = timezone.now() + timedelta(days=1)
    BlacklistEntry.objects.filter(pk=entries[Kind.PHONE].pk).update(expires_at=later)
    pairs, _errors = check_pairs({"phone": "13912345678"})
    assert first_matching_reference(pairs, now=timezone.now()) == entries[Kind.PHONE].reference
    assert first_matching_reference(pairs, now=later + timedelta(seconds=1)) is None
