"""Records in Chromium: a patroller finds a publisher by a phone number written another way."""

from __future__ import annotations

import pytest

from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401
from tests.conftest import make_publisher

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_search_finds_a_publisher_by_a_differently_written_phone_number(
    asgi_server,  # noqa: F811
    browser_page,  # noqa: F811
    patroller,
    agreement,
):
    make_publisher("acct-1001", "美食小当家")  # +8613800138000 on record
    make_publisher("acct-2002", "旅行日记").__class__.objects.filter(platform_account_id="acct-2002").update(
        phone_hash=""
    )
    page = browser_page
    log_in(page, asgi_server, patroller)
    with page.expect_navigation():
        page.click("nav.topnav >> text=记录查询")
    page.fill("input[name=q]", "138-0013-8000")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    rows = page.inner_text("table.records tbody")
    assert "美食小当家" in rows and "旅行日记" not in rows
    assert "+86138****8000" in rows
    assert "时间均为控制台时区 Asia/Shanghai（UTC+0800）" in page.inner_text("main")
