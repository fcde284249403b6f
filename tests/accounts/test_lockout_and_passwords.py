"""Login lockout (per account and per address), password validators, the change-password page."""

from __future__ import annotations

import time

import pytest

from accounts.actions import create_staff_user
from accounts.models import StaffActionLog, User
from accounts.roles import Role
from tests.conftest import PASSWORD
from tests.second_factor import code_at

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
PASSWORD_PAGE = "/accounts/password/"


def fail_logins(client, username: str, times: int, *, address: str = "198.51.100.9") -> None:
    for _ in range(times):
        response = client.post(LOGIN, {"username": username, "password": "not-the-password"}, REMOTE_ADDR=address)
        assert not response.wsgi_request.user.is_authenticated


def test_the_right_password_after_too_many_wrong_ones_is_refused(client, patroller, settings):
    fail_logins(client, "patroller", settings.AXES_FAILURE_LIMIT)
    response = client.post(LOGIN, {"username": "patroller", "password": PASSWORD}, REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 429
    assert "登录已锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not StaffActionLog.objects.filter(verb="login").exists()


def test_an_account_is_locked_from_every_address(client, patroller, settings):
    fail_logins(client, "patroller", settings.AXES_FAILURE_LIMIT, address="198.51.100.9")
    response = client.post(LOGIN, {"username": "patroller", "password": PASSWORD}, REMOTE_ADDR="203.0.113.77")
    assert response.status_code == 429


def test_an_address_trying_many_accounts_is_locked_for_all_of_them(client, patroller, settings):
    for index in range(settings.AXES_FAILURE_LIMIT):
        fail_logins(client, f"guess-{index}", 1, address="198.51.100.50")
    response = client.post(LOGIN, {"username": "patroller", "password": PASSWORD}, REMOTE_ADDR="198.51.100.50")
    assert response.status_code == 429
    # Another address is not locked, and the account is not either.
    response = client.post(LOGIN, {"username": "patroller", "password": PASSWORD}, REMOTE_ADDR="198.51.100.51")
    assert response.status_code == 302


def test_fewer_failures_than_the_limit_do_not_lock(client, patroller, settings):
    fail_logins(client, "patroller", settings.AXES_FAILURE_LIMIT - 1)
    response = client.post(LOGIN, {"username": "patroller", "password": PASSWORD}, REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 302


def test_a_compliance_admin_sees_the_lockout_and_unlocks_it(client, patroller, admin, settings):
    fail_logins(client, "patroller", settings.AXES_FAILURE_LIMIT, address="198.51.100.9")
    client.force_login(admin)
    page = client.get("/security/lockouts/").content.decode()
    assert "patroller" in page and "198.51.100.9" in page and "已锁定" in page
    response = client.post("/security/lockouts/unlock", {"username": "patroller"})
    assert response.status_code == 302
    line = StaffActionLog.objects.get(verb="login.unlock")
    assert line.actor == admin and line.data["username"] == "patroller"
    client.logout()
    # The account is unlocked; the address stays locked (nobody unlocked it).
    response = client.post(LOGIN, {"username": "patroller", "password": PASSWORD}, REMOTE_ADDR="203.0.113.1")
    assert response.status_code == 302


def test_unlocking_an_address(client, patroller, admin, settings):
    for index in range(settings.AXES_FAILURE_LIMIT):
        fail_logins(client, f"guess-{index}", 1, address="198.51.100.60")
    client.force_login(admin)
    client.post("/security/lockouts/unlock", {"address": "198.51.100.60"})
    client.logout()
    response = client.post(LOGIN, {"username": "patroller", "password": PASSWORD}, REMOTE_ADDR="198.51.100.60")
    assert response.status_code == 302


@pytest.mark.parametrize(
    "form", [{}, {"username": "a", "address": "198.51.100.1"}, {"address": "not-an-address"}, {"username": "  "}]
)
def test_a_bad_unlock_request_is_refused_and_unlocks_nothing(client, admin, patroller, settings, form):
    fail_logins(client, "patroller", settings.AXES_FAILURE_LIMIT)
    client.force_login(admin)
    response = client.post("/security/lockouts/unlock", form, follow=True)
    assert "未解锁" in response.content.decode()
    assert not StaffActionLog.objects.filter(verb="login.unlock").exists()
    client.logout()
    response = client.post(LOGIN, {"username": "patroller", "password": PASSWORD}, REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 429


@pytest.mark.parametrize("persona", ["patroller", "inspector", "editor_in_chief"])
def test_only_compliance_admins_see_and_lift_lockouts(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/security/lockouts/").status_code == 403
    assert client.post("/security/lockouts/unlock", {"username": "x"}).status_code == 403


@pytest.mark.parametrize("password", ["1", "short", "12345678901234", "password123", "patroller-x"])
def test_creating_staff_checks_the_password_and_creates_nothing_when_it_is_weak(db, password):
    from accounts.actions import ensure_role_groups

    ensure_role_groups()
    with pytest.raises(ValueError):
        create_staff_user("patroller-x", role=Role.PATROLLER, password=password)
    assert not User.objects.filter(username="patroller-x").exists()
    assert not StaffActionLog.objects.exists()


def test_changing_the_password(client, patroller):
    client.force_login(patroller)
    assert client.get(PASSWORD_PAGE).status_code == 200
    new = "a-new-long-passphrase"
    form = {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    response = client.post(PASSWORD_PAGE, form)
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # this session stays
    patroller.refresh_from_db()
    assert patroller.check_password("a-new-long-passphrase") and not patroller.check_password(PASSWORD)
    assert StaffActionLog.objects.filter(verb="password.change", actor=patroller).exists()


@pytest.mark.parametrize(
    "form",
    [
        {"old_password": "wrong-old-password", "new_password1": "a-new-long-passphrase"},
        {"old_password": PASSWORD, "new_password1": "12345"},
        {"old_password": PASSWORD, "new_password1": "a-new-long-passphrase", "new_password2": "different-passphrase"},
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(client, patroller, form):
    form.setdefault("new_password2", form["new_password1"])
    client.force_login(patroller)
    response = client.post(PASSWORD_PAGE, form)
    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode()
    patroller.refresh_from_db()
    assert patroller.check_password(PASSWORD)
    assert not StaffActionLog.objects.filter(verb="password.change").exists()


def test_a_temporary_password_must_be_changed_before_anything_else(client, db):
    from accounts.actions import ensure_role_groups

    ensure_role_groups()
    create_staff_user("newcomer", role=Role.PATROLLER, password="temporary-pass-2026", temporary_password=True)
    response = client.post(LOGIN, {"username": "newcomer", "password": "temporary-pass-2026"}, follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/two-factor/enrol/")  # the second factor first
    key = client.session["liveward_enrolment_key"]
    assert client.post("/accounts/two-factor/enrol/", {"code": code_at(key, time.time())}).status_code == 200
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == PASSWORD_PAGE
    assert "临时密码" in response.content.decode()
    for path in ("/", "/accounts/shifts/", "/blacklist/", "/news/"):
        assert client.get(path)["Location"] == PASSWORD_PAGE
    assert client.get("/api/v1/streams/").status_code == 403
    form = {
        "old_password": "temporary-pass-2026",
        "new_password1": "my-own-passphrase-9",
        "new_password2": "my-own-passphrase-9",
    }
    assert client.post(PASSWORD_PAGE, form).status_code == 302
    assert client.get("/").status_code == 200
