"""The shift on the wall: a patroller who has not checked in is told so and checks in from there;
the handover note is on the wall; the shifts page says nobody is on duty before anyone checks in."""

from __future__ import annotations

import pytest

from accounts.actions import check_in, check_out, create_machine_client, on_duty
from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_shifts_page_shows_nobody_on_duty_before_anyone_checks_in(
    asgi_server,  # noqa: F811
    browser_page,  # noqa: F811
    patroller,
    admin,
):
    create_machine_client("platform-backend", kind="platform_backend", actor=None)
    log_in(browser_page, asgi_server, patroller, next_path="/accounts/shifts/")
    duty = browser_page.inner_text(".shift-duty")
    assert "当前无人值班。" in duty
    assert "platform-backend" not in duty and "巡查员小王" not in duty


def test_a_patroller_not_checked_in_is_told_on_the_wall_and_checks_in_there(
    asgi_server,  # noqa: F811
    browser_page,  # noqa: F811
    patroller,
    admin,
):
    check_in(admin)
    check_out(admin, handover_note="请留意新闻频道的弹幕。")
    page = browser_page
    log_in(page, asgi_server, patroller)
    assert page.is_visible("#duty-banner")
    assert "您尚未签到。" in page.inner_text("#duty-banner")
    assert page.is_visible("#wall-handover")
    assert "请留意新闻频道的弹幕。" in page.inner_text("#wall-handover")  # the handover note, on the wall
    with page.expect_navigation():
        page.click("#duty-banner button[type=submit]")
    assert page.url == asgi_server.url + "/"
    assert not page.is_visible("#duty-banner")
    assert list(on_duty()) == [patroller]
    page.wait_for_selector('#live-indicator[data-state="live"]')

    check_out(patroller, handover_note="")  # the shift ends elsewhere (another tab)
    page.evaluate("window.dispatchEvent(new Event('focus'))")
    # The next claim renewal is refused: the wall says so (renewals come every TTL/2; ask at once).
    page.wait_for_function("() => window.liveward !== undefined")
    page.evaluate("document.dispatchEvent(new CustomEvent('liveward:claim'))")
    page.wait_for_selector("#duty-banner", state="visible", timeout=10_000)


def test_an_editor_sees_no_check_in_banner(asgi_server, browser_page, editor_in_chief):  # noqa: F811
    log_in(browser_page, asgi_server, editor_in_chief)
    browser_page.wait_for_selector('#live-indicator[data-state="live"]')
    browser_page.wait_for_timeout(500)  # the claim's refusal has come back
    assert browser_page.query_selector("#duty-banner") is None
