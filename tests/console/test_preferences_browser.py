"""Compact mode and the dark theme are remembered for the account: switched at one desk, they are
there when the same patroller logs in at another (a fresh browser, nothing in its storage)."""

from __future__ import annotations

import pytest

from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401
from tests.console.test_wall_looks_browser import open_wall

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_compact_and_dark_follow_the_patroller_to_another_desk(asgi_server, new_page, patroller):  # noqa: F811
    first = open_wall(new_page, asgi_server, patroller, viewport={"width": 1440, "height": 900})
    with first.expect_response(lambda response: "/accounts/preferences/" in response.url) as saved:
        first.click("#theme-toggle")
    assert saved.value.status == 204
    with first.expect_response(lambda response: "/accounts/preferences/" in response.url) as saved:
        first.check("#compact-toggle")
    assert saved.value.status == 204

    second = open_wall(new_page, asgi_server, patroller, viewport={"width": 1440, "height": 900})
    assert second.get_attribute("html", "data-theme") == "dark"
    assert second.inner_text("#theme-toggle") == "浅色主题"
    assert second.is_checked("#compact-toggle") and "wall-compact" in second.get_attribute("body", "class")

    # Switched back at the second desk: kept for the account (the first desk's session ended when
    # the second logged in, one session per staff member).
    with second.expect_response(lambda response: "/accounts/preferences/" in response.url):
        second.click("#theme-toggle")
    from accounts.models import User

    assert User.objects.get(pk=patroller.pk).console_theme == "light"
