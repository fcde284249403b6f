"""The second factor of every staff login: held on enrolment, the QR code and key, recovery codes,
and the codes that are refused (wrong, replayed, used, malformed, too many)."""

from __future__ import annotations

import base64
import time

from django.test import Client
from django.urls import reverse

import pytest
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts import second_factor
from accounts.actions import create_machine_client, unlock_login
from accounts.models import StaffActionLog
from accounts.roles import MACHINE_PLATFORM
from accounts.views import ENROLMENT_KEY
from tests.conftest import PASSWORD
from tests.second_factor import code_at, enrolled_authenticator, next_code

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
VERIFY = "/accounts/two-factor/"
ENROL = "/accounts/two-factor/enrol/"


def refusals(user, reason: str | None = None) -> list[StaffActionLog]:
    lines = StaffActionLog.objects.filter(actor=user, verb="two_factor.refused").order_by("id")
    return [line for line in lines if reason is None or line.data["reason"] == reason]


def password_login(client: Client, username: str) -> str:
    """Log in with the password through the page; return where it leads."""
    response = client.post(LOGIN, {"username": username, "password": PASSWORD}, follow=True)
    assert "_auth_user_id" in client.session
    return response.redirect_chain[-1][0]


# --- held until enrolled ----------------------------------------------------------------------


def test_a_new_staff_member_can_do_nothing_but_enrol(client, patroller):
    assert password_login(client, "patroller") == f"{ENROL}?next=%2F"
    for path in ("/", "/accounts/shifts/", "/blacklist/", "/news/", "/accounts/password/", VERIFY):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(ENROL), path
    response = client.get("/api/v1/streams/live/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "second_factor_required"
    assert client.post("/accounts/shifts/check-in").status_code == 302  # a write is refused the same way
    assert not patroller.shifts.exists()
    page = client.get(ENROL).content.decode()
    assert 'id="live-indicator"' not in page  # no console (no socket) before the login is finished


def test_enrolment_shows_a_qr_code_and_the_key_and_a_code_confirms_it(client, patroller):
    password_login(client, "patroller")
    page = client.get(ENROL).content.decode()
    key = client.session[ENROLMENT_KEY]
    assert "<svg" in page and "<path" in page  # the QR code, drawn inline
    manual = page.split('id="manual-key" class="manual-key">')[1].split("<")[0]
    assert base64.b32decode(manual.replace(" ", "")) == bytes.fromhex(key)
    assert client.get(ENROL).context["manual_key"] == manual  # the same key until it is confirmed

    response = client.post(ENROL, {"code": code_at(key, time.time()), "next": "/news/"})
    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == len(set(codes)) == second_factor.RECOVERY_CODE_COUNT
    assert "no-store" in response["Cache-Control"]
    device = TOTPDevice.objects.get(user=patroller)
    assert device.confirmed and device.key == key
    assert ENROLMENT_KEY not in client.session
    assert client.get("/").status_code == 200  # this session passed: the console opens
    [line] = StaffActionLog.objects.filter(verb="two_factor.enrol")
    assert line.actor == patroller and line.ip == "127.0.0.1"
    assert client.get(ENROL)["Location"] == VERIFY  # enrolled: no second enrolment


@pytest.mark.parametrize("code", ["", "123", "12345678901234567890" * 3, "１２３４５６", "abc def", "<script>"])
def test_a_malformed_enrolment_code_is_refused_and_nothing_is_enrolled(client, patroller, code):
    password_login(client, "patroller")
    client.get(ENROL)
    response = client.post(ENROL, {"code": code})
    assert response.status_code == 400
    assert "6 位" in response.content.decode() or "6-digit" in response.content.decode()
    assert not TOTPDevice.objects.exists() and not StaticToken.objects.exists()
    assert [line.data for line in refusals(patroller)] == [{"reason": "malformed_code", "during": "enrol"}]


def test_a_wrong_enrolment_code_is_refused_and_logged(client, patroller):
    password_login(client, "patroller")
    client.get(ENROL)
    key = client.session[ENROLMENT_KEY]
    wrong = code_at(key, time.time() + 3600)
    response = client.post(ENROL, {"code": wrong})
    assert response.status_code == 400
    assert not TOTPDevice.objects.exists()
    assert len(refusals(patroller, "wrong_code")) == 1
    assert client.get("/")["Location"].startswith(ENROL)


# --- the second step of each login ------------------------------------------------------------


def test_an_enrolled_member_passes_with_the_current_code(client, patroller):
    enrolled_authenticator(patroller)
    assert password_login(client, "patroller") == f"{VERIFY}?next=%2F"
    assert client.get("/news/")["Location"] == f"{VERIFY}?next=%2Fnews%2F"
    response = client.post(VERIFY, {"code": next_code(patroller), "next": "/accounts/shifts/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/shifts/"
    assert client.get("/").status_code == 200
    [line] = StaffActionLog.objects.filter(verb="two_factor.verify")
    assert line.actor == patroller and line.data["method"] == "totp"


def test_a_next_page_elsewhere_is_ignored(client, patroller):
    enrolled_authenticator(patroller)
    password_login(client, "patroller")
    response = client.post(VERIFY, {"code": next_code(patroller), "next": "https://evil.example/"})
    assert response["Location"] == reverse("console:home")


def test_a_wrong_code_is_refused_logged_and_grants_nothing(client, patroller):
    device = enrolled_authenticator(patroller)
    password_login(client, "patroller")
    response = client.post(VERIFY, {"code": code_at(device.key, time.time() - 3600)})
    assert response.status_code == 400
    assert "不正确" in response.content.decode()
    assert client.get("/")["Location"].startswith(VERIFY)
    assert client.get("/api/v1/streams/live/").status_code == 403
    [line] = refusals(patroller)
    assert line.data == {"reason": "wrong_code", "during": "login"} and line.ip == "127.0.0.1"


def test_a_replayed_code_is_refused_in_its_own_window(patroller):
    first, second = Client(), Client()
    enrolled_authenticator(patroller)
    password_login(first, "patroller")
    password_login(second, "patroller")
    code = next_code(patroller)
    assert first.post(VERIFY, {"code": code}).status_code == 302
    response = second.post(VERIFY, {"code": code})  # the same code, seen on the wire or over a shoulder
    assert response.status_code == 400
    assert "已经用过" in response.content.decode()
    assert second.get("/")["Location"].startswith(VERIFY)
    assert len(refusals(patroller, "replayed_code")) == 1


def test_each_recovery_code_works_once(patroller):
    password_login(Client(), "patroller")
    key = second_factor.new_authenticator_key()
    _device, codes = second_factor.enrol_authenticator(patroller, key=key, code=code_at(key, time.time()))
    first = Client()
    password_login(first, "patroller")
    response = first.post(VERIFY, {"code": codes[3].upper()[:4] + "-" + codes[3][4:]}, follow=True)
    assert response.status_code == 200
    assert "9" in " ".join(str(message) for message in response.context["messages"])
    assert second_factor.recovery_codes_left(patroller) == 9
    [line] = StaffActionLog.objects.filter(verb="two_factor.verify")
    assert line.data["method"] == "recovery" and line.data["left"] == 9 and codes[3] not in str(line.data)

    again = Client()
    password_login(again, "patroller")
    response = again.post(VERIFY, {"code": codes[3]})
    assert response.status_code == 400
    assert "恢复码已经用过" in response.content.decode()
    assert len(refusals(patroller, "used_recovery_code")) == 1
    assert len(refusals(patroller, "wrong_code")) == 0
    response = again.post(VERIFY, {"code": "abcdefgh"})  # never issued
    assert len(refusals(patroller, "wrong_code")) == 1
    assert again.get("/")["Location"].startswith(VERIFY)


def test_new_recovery_codes_replace_the_old_ones(client, patroller):
    client.force_login(patroller)
    old = second_factor.replace_recovery_codes(patroller)
    response = client.post("/accounts/two-factor/recovery-codes/")
    new = response.context["codes"]
    assert len(new) == 10 and not set(new) & set(old)
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(new)


def test_too_many_wrong_codes_lock_the_account_until_unlocked(client, patroller, admin, settings):
    settings.AXES_FAILURE_LIMIT = 3
    device = enrolled_authenticator(patroller)
    password_login(client, "patroller")
    wrong = code_at(device.key, time.time() - 3600)
    for _ in range(3):
        assert client.post(VERIFY, {"code": wrong}).status_code == 400
    response = client.post(VERIFY, {"code": next_code(patroller)})  # the right code, too late
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session  # logged out
    assert StaffActionLog.objects.filter(actor=patroller, verb="two_factor.locked").count() == 1
    assert not StaffActionLog.objects.filter(verb="two_factor.verify").exists()
    # A new password login does not reset the count: the lock holds until the cool-off or an unlock.
    password_login(client, "patroller")
    assert client.post(VERIFY, {"code": next_code(patroller)}).status_code == 429

    staff = Client()
    staff.force_login(admin)
    page = staff.get(reverse("console:lockouts"))
    assert {"value": "patroller", "failures": 3, "locked": True} in page.context["accounts"]
    unlock_login(username="patroller", actor=admin)
    password_login(client, "patroller")
    assert client.post(VERIFY, {"code": next_code(patroller)}).status_code == 302


def test_machine_clients_are_not_asked_for_a_second_factor(agreement):
    user, token = create_machine_client("platform-backend", kind=MACHINE_PLATFORM, actor=None)
    assert not second_factor.needs_second_factor(user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/agreements/current/").status_code == 200
    assert not TOTPDevice.objects.filter(user=user).exists()
