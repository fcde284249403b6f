"""In a browser: a new staff account logs in, is held on enrolment, enrols an authenticator from the
key the page shows (the code computed as the phone app would), keeps its recovery codes and
reaches the wall with a live console."""

from __future__ import annotations

import base64
import time

from django.contrib.auth.hashers import make_password

import pytest

from accounts.models import StaffActionLog, User
from tests.browser import (  # noqa: F401
    _SERVER_HASHER,
    _asgi_server_process,
    asgi_server,
    browser,
    browser_page,
    new_page,
)
from tests.conftest import PASSWORD
from tests.second_factor import code_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_new_staff_member_enrols_before_reaching_the_wall(asgi_server, browser_page, patroller):  # noqa: F811
    page = browser_page
    User.objects.filter(pk=patroller.pk).update(password=make_password(PASSWORD, hasher=_SERVER_HASHER))
    page.goto(f"{asgi_server.url}/accounts/login/")
    page.fill("input[name=username]", "patroller")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "/accounts/two-factor/enrol/" in page.url

    page.goto(f"{asgi_server.url}/news/")  # held: every page leads back to the enrolment
    assert "/accounts/two-factor/enrol/" in page.url
    page.goto(f"{asgi_server.url}/")  # then asks for the wall
    assert "/accounts/two-factor/enrol/?next=%2F" in page.url
    assert page.is_visible(".qr-code svg")
    assert page.locator("#live-indicator").count() == 0  # no console before the login is finished
    key = base64.b32decode(page.inner_text("#manual-key").replace(" ", "")).hex()

    page.fill("input[name=code]", code_at(key, time.time() + 3600))  # a code of another time
    with page.expect_navigation():
        page.click("form:has(input[name=code]) button[type=submit]")
    assert "验证码不正确" in page.inner_text("#two-factor-error")

    page.fill("input[name=code]", code_at(key, time.time()))
    with page.expect_navigation():
        page.click("form:has(input[name=code]) button[type=submit]")
    assert page.locator("#recovery-codes li").count() == 10
    with page.expect_navigation():
        page.click("#recovery-continue")
    assert page.url.rstrip("/") == asgi_server.url
    assert "巡查墙" in page.content()
    page.wait_for_selector('#live-indicator[data-state="live"]')
    assert StaffActionLog.objects.filter(actor=patroller, verb="two_factor.enrol").count() == 1
    assert StaffActionLog.objects.filter(actor=patroller, verb="two_factor.refused").count() == 1
