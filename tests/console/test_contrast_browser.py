"""Text contrast at least 4.5:1 beyond the wall: axe-core (vendored, tests/vendor/axe-core) over
the console's main pages, in the light and the dark theme, and at phone size. The wall itself is
checked in test_wall_looks_browser.py (normal, compact, dark, phone)."""

from __future__ import annotations

import pytest

from accounts.actions import log_staff_action
from moderation import actions
from tests.axe import contrast_violations
from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401
from tests.conftest import make_publisher

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
    wider = {}
    for path in ["/records/publishers/", "/accounts/shifts/", "/appeals/", "/blacklist/", "/credit/", "/dashboard/"]:
        page.goto(f"{asgi_server.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:  # tables scroll inside their own box; the page never does sideways
            wider[path] = width
    assert wider == {}


def test_the_check_finds_text_under_four_and_a_half_to_one(new_page):  # noqa: F811
    page = new_page()
    page.set_content('<main><p style="color:#8a8f98;background:#ffffff">灰色的说明文字</p></main>')  # 3.3:1
    assert len(contrast_violations(page)) == 1
    page.set_content('<main><p style="color:#5d6677;background:#ffffff">灰色的说明文字</p></main>')  # --muted, 5.9:1
    assert contrast_violations(page) == []
