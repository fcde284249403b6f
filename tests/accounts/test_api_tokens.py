"""Machine clients: hashed API tokens with scopes, each client's own objects, rotation with an overlap."""

from __future__ import annotations

import hashlib
import importlib
from datetime import timedelta
from io import StringIO

from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

import pytest
from rest_framework.test import APIClient

from accounts import api_tokens
from accounts.actions import (
    create_machine_client,
    issue_api_token,
    revoke_client_tokens,
    rotate_client_token,
)
from accounts.models import ApiToken, StaffActionLog
from accounts.roles import MACHINE_PLATFORM, MACHINE_REVIEW, MACHINE_SCOPES, Scope
from moderation import actions
from moderation.gate import registration
from moderation.models import Appeal, NewsApplication
from tests.moderation.test_appeals import block_event, live  # noqa: F401 - fixtures
from tests.news_world import apply_for

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _fresh_token_state():
    api_tokens.forget_last_use()
    registration.forget_cached_tokens()
    yield
    api_tokens.forget_last_use()
    registration.forget_cached_tokens()


def api(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def machine(name: str, *, kind: str = MACHINE_PLATFORM, scopes=None):
    Group.objects.get_or_create(name=kind)
    user, key = create_machine_client(name, kind=kind, actor=None, scopes=scopes)
    client = api(key)
    client.user = user
    return client, key


@pytest.fixture
def clock(monkeypatch):
    """Move ``timezone.now`` forward instead of waiting for an overlap to end."""

    class Clock:
        offset = timedelta()

        def advance(self, **delta) -> None:
            self.offset += timedelta(**delta)

    real_now = timezone.now
    moved = Clock()
    monkeypatch.setattr(timezone, "now", lambda: real_now() + moved.offset)
    return moved


def error(response) -> dict:
    return response.json()["error"]


# --- keys at rest --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_key_is_shown_once_and_stored_only_as_its_digest():
    client, key = machine("platform-a")
    assert client.get("/api/v1/health/").json()["client"] == "platform-a"
    token = ApiToken.objects.get()
    assert token.prefix == key[:12] and token.digest == hashlib.sha256(key.encode()).hexdigest()
    assert token.scopes == list(MACHINE_SCOPES[MACHINE_PLATFORM])
    secret_part = key[13:]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        raw = repr(cursor.fetchall())
        cursor.execute("SELECT * FROM authtoken_token")
        assert cursor.fetchall() == []  # DRF's plain-text table stays empty
    assert key not in raw and secret_part not in raw
    log = StaffActionLog.objects.get(verb="api_token.issue")
    assert key not in repr(log.data) and log.data["token"] == token.prefix


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    ["Token " + "0" * 40, "Token lw0000000000_" + "x" * 43, "Token " + "é" * 10, "Token a b", "Token " + "a" * 65],
)
def test_an_unknown_or_malformed_key_is_401(header):
    machine("platform-a")
    response = APIClient().get("/api/v1/health/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
def test_last_use_is_recorded_without_a_write_per_request():
    client, _key = machine("platform-a")
    assert ApiToken.objects.get().last_used_at is None
    client.get("/api/v1/health/")
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    with pytest.MonkeyPatch.context() as patch:
        writes = []
        real_update = type(ApiToken.objects.none()).update
        patch.setattr(
            type(ApiToken.objects.none()), "update", lambda qs, **kw: writes.append(kw) or real_update(qs, **kw)
        )
        for _ in range(5):
            assert client.get("/api/v1/health/").status_code == 200
    assert writes == []  # within the minute: no further write


# --- scopes ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_token_without_the_endpoints_scope_is_403_scope_missing(stream_key):
    client, _key = machine("platform-a", scopes=[Scope.PUBLISHERS])
    before = StaffActionLog.objects.count()
    response = client.post(
        "/api/v1/comments/",
        {"comments": [{"stream": 1, "viewer": "v1", "text": "你好", "id": "c1"}]},
        format="json",
    )
    assert response.status_code == 403
    assert error(response)["code"] == "scope_missing" and "comments" in error(response)["message"]
    keys = client.post("/api/v1/publishers/acct-1001/stream-keys/", {"category": "entertainment"}, format="json")
    assert keys.status_code == 403 and error(keys)["code"] == "scope_missing"
    assert StaffActionLog.objects.count() == before  # nothing done
    # Its own scope works.
    assert client.get("/api/v1/publishers/acct-1001/credit/").status_code == 200


@pytest.mark.django_db
def test_the_lean_registration_check_asks_for_its_scope_too():
    _client, narrow = machine("platform-a", scopes=[Scope.PUBLISHERS])
    _client, full = machine("platform-b")
    body = b'{"phone": "13800138000"}'
    refused = registration.answer(f"Token {narrow}", body)
    assert refused.status == 403 and b"scope_missing" in refused.body
    assert registration.answer(f"Token {full}", body).status == 200
    assert registration.answer("Token " + "0" * 40, body).status == 401


@pytest.mark.django_db
def test_scopes_are_checked_when_a_token_is_issued():
    with pytest.raises(ValueError, match="scopes"):
        machine("review-a", kind=MACHINE_REVIEW, scopes=[Scope.COMMENTS])
    with pytest.raises(ValueError, match="scopes"):
        machine("platform-x", scopes=[])
    with pytest.raises(ValueError, match="scopes"):
        machine("platform-y", scopes=["everything"])
    machine("platform-a")
    with pytest.raises(ValueError, match="not a machine client"):
        from accounts.models import User

        issue_api_token(User.objects.create_user("someone"), actor=None)
    with pytest.raises(CommandError):
        call_command("create_api_token", "p2", "--kind", MACHINE_REVIEW, "--scope", "comments", stdout=StringIO())


@pytest.mark.django_db
def test_a_review_service_token_holds_snapshots_only(stream_key):
    client, _key = machine("review-a", kind=MACHINE_REVIEW)
    assert ApiToken.objects.get().scopes == [Scope.SNAPSHOTS]
    assert client.post("/api/v1/publishers/", {}, format="json").status_code == 403


# --- each client its own objects --------------------------------------------------------------------


@pytest.mark.django_db
def test_one_client_cannot_read_or_withdraw_another_clients_news_application(news_key, platform_licence, admin):
    owner, _ = machine("platform-a")
    other, _ = machine("platform-b")
    application = apply_for(news_key, actor=owner.user)
    url = f"/api/v1/news-applications/{application.pk}/"
    assert owner.get(url).status_code == 200
    read = other.get(url)
    assert read.status_code == 404 and error(read)["code"] == "not_found"
    withdraw = other.post(url + "withdraw/", {"note": "不是我的"}, format="json")
    assert withdraw.status_code == 404
    application.refresh_from_db()
    assert application.status == NewsApplication.Status.SUBMITTED
    # The action refuses too, whoever calls it.
    with pytest.raises(actions.ModerationError) as refused:
        actions.withdraw_news_application(application, actor=other.user)
    assert refused.value.code == "not_found"
    assert owner.post(url + "withdraw/", {}, format="json").status_code == 200


@pytest.mark.django_db
def test_an_application_without_an_owner_is_no_clients(news_key, platform_licence):
    client, _ = machine("platform-a")
    application = apply_for(news_key)  # submitted by nobody (before owners were recorded)
    assert client.get(f"/api/v1/news-applications/{application.pk}/").status_code == 404


@pytest.mark.django_db
def test_one_client_cannot_read_another_clients_appeal(block_event, admin):  # noqa: F811
    owner, _ = machine("platform-a")
    other, _ = machine("platform-b")
    appeal = actions.submit_appeal(
        kind=Appeal.Kind.CREDIT_EVENT,
        target_id=block_event.pk,
        publisher_account_id="acct-1001",
        statement="误判",
        submitted_by=owner.user,
    )
    assert owner.get(f"/api/v1/appeals/{appeal.pk}/").status_code == 200
    assert other.get(f"/api/v1/appeals/{appeal.pk}/").status_code == 404
    staff = APIClient()
    staff.force_login(admin)
    assert staff.get(f"/api/v1/appeals/{appeal.pk}/").status_code == 200  # staff see every client's


@pytest.mark.django_db
def test_one_client_cannot_read_another_clients_verification_review(publisher):
    owner, _ = machine("platform-a")
    other, _ = machine("platform-b")
    review = actions.submit_verification_review(
        publisher, reference="rv-1", documents=[("id.png", PNG)], actor=owner.user
    )
    url = f"/api/v1/publishers/acct-1001/verification-reviews/{review.pk}/"
    assert owner.get(url).status_code == 200
    assert other.get(url).status_code == 404


# --- rotation and revocation --------------------------------------------------------------------------


@pytest.mark.django_db
def test_rotation_keeps_the_old_token_for_the_overlap_then_401(clock):
    old_client, old_key = machine("platform-a", scopes=[Scope.PUBLISHERS, Scope.COMMENTS])
    token, new_key = rotate_client_token(old_client.user, overlap=timedelta(hours=2), actor=None)
    assert token.scopes == [Scope.PUBLISHERS, Scope.COMMENTS]  # the rotated token keeps the scopes
    assert old_client.get("/api/v1/health/").status_code == 200
    assert api(new_key).get("/api/v1/health/").status_code == 200
    clock.advance(hours=2, seconds=1)
    expired = old_client.get("/api/v1/health/")
    assert expired.status_code == 401 and error(expired)["code"] == "token_expired"
    assert api(new_key).get("/api/v1/health/").status_code == 200
    entry = StaffActionLog.objects.get(verb="api_token.rotate")
    assert entry.data["overlap_seconds"] == 7200 and entry.data["old"] == [old_key[:12]]


@pytest.mark.django_db
def test_a_second_rotation_does_not_extend_an_older_overlap(clock):
    client, first = machine("platform-a")
    _token, second = rotate_client_token(client.user, overlap=timedelta(hours=1), actor=None)
    _token, third = rotate_client_token(client.user, overlap=timedelta(hours=5), actor=None)
    clock.advance(hours=1, seconds=1)
    assert api(first).get("/api/v1/health/").status_code == 401
    assert api(second).get("/api/v1/health/").status_code == 200
    assert api(third).get("/api/v1/health/").status_code == 200


@pytest.mark.django_db
def test_an_overlap_out_of_range_changes_nothing():
    client, _key = machine("platform-a")
    for overlap in (timedelta(hours=-1), timedelta(days=31)):
        with pytest.raises(ValueError):
            rotate_client_token(client.user, overlap=overlap, actor=None)
    assert ApiToken.objects.count() == 1 and ApiToken.objects.get().expires_at is None


@pytest.mark.django_db
def test_revoked_tokens_stop_at_once_even_in_the_registration_cache():
    client, key = machine("platform-a")
    body = b'{"phone": "13800138000"}'
    assert registration.answer(f"Token {key}", body).status == 200
    assert revoke_client_tokens(client.user, actor=None) == 1
    registration.forget_cached_tokens()  # another process forgets within TOKEN_CACHE_SECONDS
    assert client.get("/api/v1/health/").status_code == 401
    assert registration.answer(f"Token {key}", body).status == 401


@pytest.mark.django_db
def test_rotate_client_token_command(clock):
    _client, old_key = machine("platform-a")
    out, err = StringIO(), StringIO()
    call_command("rotate_client_token", "platform-a", "--overlap-hours", "1", stdout=out, stderr=err)
    new_key = out.getvalue().strip()
    assert new_key != old_key and api(new_key).get("/api/v1/health/").status_code == 200
    assert "1 more hour" in err.getvalue()
    clock.advance(minutes=59)
    assert api(old_key).get("/api/v1/health/").status_code == 200
    clock.advance(minutes=2)
    assert api(old_key).get("/api/v1/health/").status_code == 401
    for bad in (["nobody", "--overlap-hours", "1"], ["platform-a", "--overlap-hours", "-1"]):
        with pytest.raises(CommandError):
            call_command("rotate_client_token", *bad, stdout=StringIO(), stderr=StringIO())


@pytest.mark.django_db
def test_api_clients_lists_tokens_scopes_and_last_use_and_revokes(patroller):
    client, _key = machine("platform-a", scopes=[Scope.COMMENTS])
    machine("review-a", kind=MACHINE_REVIEW)
    client.get("/api/v1/health/")
    out = StringIO()
    call_command("api_clients", stdout=out)
    listing = out.getvalue()
    assert "platform-a  [platform_backend]" in listing and "review-a  [review_service]" in listing
    assert "scopes: comments" in listing and "scopes: snapshots" in listing
    assert "last used never" in listing and "last used 20" in listing
    assert "patroller" not in listing  # staff are no API clients
    call_command("api_clients", "--revoke", "platform-a", stdout=StringIO())
    assert client.get("/api/v1/health/").status_code == 401
    with pytest.raises(CommandError):
        call_command("api_clients", "--revoke", "patroller", stdout=StringIO())


# --- the migration from DRF's plain-text tokens -------------------------------------------------------


@pytest.mark.django_db
def test_the_migration_moves_plain_tokens_to_digests_and_they_keep_working():
    from rest_framework.authtoken.models import Token

    client, _key = machine("platform-a")
    ApiToken.objects.all().delete()
    plain = Token.objects.create(user=client.user)
    migration = importlib.import_module("accounts.migrations.0008_api_tokens")
    migration.move_plain_tokens(apps, None)
    assert not Token.objects.exists()
    moved = ApiToken.objects.get()
    assert moved.digest == hashlib.sha256(plain.key.encode()).hexdigest() and plain.key not in repr(moved.__dict__)
    assert moved.scopes == sorted(MACHINE_SCOPES[MACHINE_PLATFORM])
    assert api(plain.key).get("/api/v1/health/").status_code == 200
