"""Staff login and logout, and their lines in the staff action log."""

from __future__ import annotations

import pytest

from accounts.models import StaffActionLog
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
LOGOUT = "/accounts/logout/"


def log_lines(verb: str) -> list[StaffActionLog]:
    return list(StaffActionLog.objects.filter(verb=verb).order_by("id"))


def test_login_page_renders_the_form(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="username"' in body and 'name="password"' in body
    assert 'autocomplete="username"' in body
    assert "员工登录" in body
    assert 'class="skip-link"' in body


def test_correct_login_goes_to_the_console_and_logs_the_ip(client, patroller):
    response = client.post(LOGIN, {"username": "patroller", "password": PASSWORD}, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 302 and response["Location"] == "/"
    [line] = log_lines("login")
    assert line.actor == patroller and line.actor_name == "patroller"
    assert line.ip == "198.51.100.7"


def test_login_keeps_the_next_page(client, patroller):
    form = {"username": "patroller", "password": PASSWORD, "next": "/healthz"}
    response = client.post(LOGIN + "?next=/healthz", form)
    assert response["Location"] == "/healthz"


def test_wrong_password_is_refused_clearly_and_logged_with_the_username(client, patroller):
    response = client.post(LOGIN, {"username": "patroller", "password": "not-the-password"}, REMOTE_ADDR="203.0.113.5")
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated
    body = response.content.decode()
    assert 'role="alert"' in body and "请输入一个正确的用户名和密码" in body
    [line] = log_lines("login_failed")
    assert line.actor is None
    assert line.data == {"username": "patroller"}
    assert line.ip == "203.0.113.5"
    assert not log_lines("login")


def test_unknown_username_is_logged_as_a_failed_login(client, db):
    client.post(LOGIN, {"username": "nobody", "password": "whatever-it-is"})
    [line] = log_lines("login_failed")
    assert line.data == {"username": "nobody"}


def test_a_user_without_a_role_can_log_in_but_not_use_the_console(client, outsider):
    response = client.post(LOGIN, {"username": "outsider", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/two-factor/enrol/")  # a password login: enrol first
    client.force_login(outsider)  # now with its second factor (tests/second_factor.py)
    assert client.get("/").status_code == 403


def test_logout_logs_out_logs_it_and_says_so_on_the_login_page(client, patroller):
    client.post(LOGIN, {"username": "patroller", "password": PASSWORD})
    response = client.post(LOGOUT, follow=True)
    assert response.redirect_chain == [(LOGIN, 302)]
    assert "您已退出登录。" in response.content.decode()
    [line] = log_lines("logout")
    assert line.actor == patroller and line.ip == "127.0.0.1"
    assert client.get("/").status_code == 302  # the session is gone


def test_logout_by_get_is_refused(client, patroller):
    client.force_login(patroller)
    response = client.get(LOGOUT)
    assert response.status_code == 405
    assert not log_lines("logout")
    assert client.get("/").status_code == 200  # still logged in


def test_logout_needs_the_csrf_token(patroller):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(patroller)
    assert client.post(LOGOUT).status_code == 403
    assert not log_lines("logout")
