"""Text contrast at least 4.5:1 beyond the wall: axe-core (vendored by axe-playwright-python) over
the console's main pages, in the light and the dark theme, and at phone size. The wall itself is
checked in test_wall_looks_browser.py (normal, compact, dark, phone)."""

from __future__ import annotations

import pytest

from accounts.actions import log_staff_action
from moderation import actions
from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401
from tests.conftest import make_publisher
from tests.console.test_wall_looks_browser import contrast_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PAGES = [
    "/records/publishers/",
    "/records/actions/",
    "/records/staff-log/",
    "/records/streams/?from_day=not-a-date",  # a form error shown
    "/accounts/shifts/",
    "/appeals/",
    "/blacklist/",
    "/credit/",
    "/escalations/",
    "/dashboard/",
]


def some_records(admin) -> None:
    publisher = make_publisher("acct-1001", "美食小当家")
    event = actions.adjust_credit(publisher, actor=admin, points=-20, reason="违规")
    actions.submit_appeal(
        kind="credit_event", target_id=event.pk, publisher_account_id="acct-1001", statement="请复核",
        submitted_by=None,
    )  # fmt: skip
    log_staff_action(admin, "blacklist.add", data={"kind": "phone"})


def violations_on(page, server, paths) -> dict[str, list[str]]:
    found = {}
    for path in paths:
        page.goto(f"{server.url}{path}")
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)  # transitions of the first paint are over
        violations = contrast_violations(page)
        if violations:
            found[path] = violations
    return found


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_main_pages_keep_text_contrast(asgi_server, new_page, admin, agreement, theme):  # noqa: F811
    some_records(admin)
    page = new_page(viewport={"width": 1440, "height": 900})
    log_in(page, asgi_server, admin)
    if theme == "dark":
        page.click("#theme-toggle")
        assert page.get_attribute("html", "data-theme") == "dark"
    assert violations_on(page, asgi_server, PAGES) == {}


def test_the_record_pages_keep_contrast_at_phone_size(asgi_server, new_page, admin, agreement):  # noqa: F811
    some_records(admin)
    page = new_page(viewport={"width": 390, "height": 844})
    log_in(page, asgi_server, admin)
    assert violations_on(page, asgi_server, ["/records/publishers/", "/accounts/shifts/", "/appeals/"]) == {}
    page.goto(f"{asgi_server.url}/records/publishers/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the table scrolls inside its box
