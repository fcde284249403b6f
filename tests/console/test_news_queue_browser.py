"""The news queue reads as rows a reviewer can work: urgency for a window open or about to open,
decision buttons beside their keys, every row and button reachable by Tab, keys drawn as keycaps."""

from __future__ import annotations

from datetime import timedelta

import pytest

from moderation.models import NewsApplication
from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401
from tests.console.test_wall_looks_browser import contrast_violations, screenshot
from tests.news_world import apply_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def active(page) -> dict:
    return page.evaluate(
        "() => { const e = document.activeElement; const row = e.closest('.news-row');"
        " return {tag: e.tagName, id: e.id, decision: e.dataset.decision || null, row: row ? row.id : null}; }"
    )


def test_rows_show_urgency_buttons_and_are_reached_by_tab(
    asgi_server,  # noqa: F811
    new_page,  # noqa: F811
    editor_in_chief,
    news_key,
    platform_licence,
):
    open_now = apply_for(news_key, title="已开窗直播", start_in=timedelta(minutes=-4), length=timedelta(minutes=20))
    soon = apply_for(news_key, title="即将开窗直播", start_in=timedelta(minutes=25), length=timedelta(minutes=30))
    later = apply_for(news_key, title="明天的直播", start_in=timedelta(hours=20), length=timedelta(hours=1))
    page = new_page(viewport={"width": 1440, "height": 900})
    log_in(page, asgi_server, editor_in_chief, next_path="/news/")
    page.wait_for_selector('#live-indicator[data-state="live"]')
    page.wait_for_function("() => window.livewardNews && window.livewardNews.rows.size === 3")

    # Urgency: the open window and the one about to open say so; tomorrow's says nothing.
    rows = {application.pk: f"#application-{application.pk}" for application in (open_now, soon, later)}
    assert page.get_attribute(rows[open_now.pk], "data-urgency") == "open"
    assert "窗口已开始 4 分钟" in page.inner_text(f"{rows[open_now.pk]} [data-field=urgency]")
    assert page.get_attribute(rows[soon.pk], "data-urgency") == "soon"
    assert "分钟后开始" in page.inner_text(f"{rows[soon.pk]} [data-field=urgency]")
    assert page.get_attribute(rows[later.pk], "data-urgency") is None
    assert not page.is_visible(f"{rows[later.pk]} [data-field=urgency]")

    # Buttons beside the keys, visible, each with its key as a keycap in a monospace face.
    approve = page.locator(f"{rows[open_now.pk]} button[data-decision=approve]")
    assert approve.is_visible()
    assert approve.inner_text().replace("\n", " ").split() == ["批准", "a"]
    assert page.is_visible(f"{rows[open_now.pk]} button[data-decision=reject]")
    font = page.eval_on_selector(
        f"{rows[open_now.pk]} button[data-decision=approve] kbd", "k => getComputedStyle(k).fontFamily"
    )
    assert "monospace" in font
    # The row is not one line: title, then when and who, then the record, each on its own line.
    heights = page.eval_on_selector_all(
        f"{rows[open_now.pk]} .news-main > p", "ps => ps.map(p => p.getBoundingClientRect().top)"
    )
    assert len(heights) == 3 and heights[0] < heights[1] < heights[2]
    screenshot(page, "news-queue")

    # Tab from the top of the page reaches the first row, then its buttons, then the next row.
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    reached = None
    for _ in range(60):
        page.keyboard.press("Tab")
        reached = active(page)
        if reached["id"] == f"application-{open_now.pk}":
            break
    assert reached["id"] == f"application-{open_now.pk}", reached
    page.keyboard.press("Tab")
    assert active(page)["decision"] == "approve" and active(page)["row"] == f"application-{open_now.pk}"
    seen = []
    for _ in range(10):
        page.keyboard.press("Tab")
        now = active(page)
        if now["row"] != f"application-{open_now.pk}":
            break
        seen.append(now["decision"])
    assert "reject" in seen
    assert now["id"] == f"application-{soon.pk}"

    # Shift+Tab back to the first row's last button; Enter on it (a button, no key) opens its form.
    page.keyboard.press("Shift+Tab")
    decision = active(page)["decision"]
    page.keyboard.press("Enter")
    note = page.locator(f"{rows[open_now.pk]} form.decide input[name=note]")
    note.wait_for()
    assert page.evaluate("() => document.activeElement.name") == "note"
    assert decision in {"reject", "return", "recommend"}
    page.keyboard.press("Escape")

    # A click on a button decides too: approve the open window.
    approve.click()
    note.wait_for()
    note.fill("同意")
    page.keyboard.press("Enter")
    page.wait_for_selector(f'{rows[open_now.pk]}[data-status="approved"]', timeout=10_000)
    open_now.refresh_from_db()
    assert open_now.status == NewsApplication.Status.APPROVED
    # Approved: no longer urgent, and its buttons are the ones an approval still takes.
    assert page.get_attribute(rows[open_now.pk], "data-urgency") is None
    assert page.query_selector(f"{rows[open_now.pk]} button[data-decision=approve]") is None
    assert contrast_violations(page) == []
