"""In a browser: an idle console warns a minute before its login ends, a key press keeps the login,
and when the login ends the page stays as it is and asks to log in again. The page's clock is
Playwright's (fast-forwarded); the server's idle clock is the session's, set back to match."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session

import pytest

from accounts.staff_sessions import ACTIVE_AT
from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def session_of(page) -> SessionStore:
    [cookie] = [c for c in page.context.cookies() if c["name"] == "sessionid"]
    return SessionStore(session_key=cookie["value"])


def set_last_activity(page, at: float) -> None:
    session = session_of(page)
    session[ACTIVE_AT] = at
    session.save()


def test_an_idle_console_warns_then_keeps_the_page_when_the_login_ends(asgi_server, browser_page, patroller):  # noqa: F811
    page = browser_page
    page.clock.install()
    log_in(page, asgi_server, patroller, next_path="/accounts/shifts/")
    page.wait_for_selector('#live-indicator[data-state="live"]')
    assert page.is_hidden("#idle-warning")
    idle = settings.LIVEWARD_IDLE_MINUTES * 60

    # 50 s left on both clocks: the warning shows.
    set_last_activity(page, time.time() - idle + 50)
    page.clock.fast_forward((idle - 50) * 1000)
    page.wait_for_selector("#idle-warning:not([hidden])")
    assert "一分钟后结束" in page.inner_text("#idle-warning")

    # A key press keeps the login: reported at once, the warning goes.
    page.keyboard.press("Shift")
    page.wait_for_selector("#idle-warning", state="hidden")
    assert session_of(page)[ACTIVE_AT] > time.time() - 10

    # Then nothing more for the whole limit: the login ends, the page stays and asks to log in again.
    set_last_activity(page, time.time() - idle - 1)
    url = page.url
    page.clock.fast_forward((idle + 5) * 1000)
    page.wait_for_selector('#live-indicator[data-state="expired"]')
    assert page.url == url
    assert page.is_visible("#connection-banner a[data-login]")
    assert page.is_hidden("#idle-warning")
    assert not Session.objects.exists()
