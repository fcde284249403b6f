"""How the wall reads: flags that say what the machine suggests, the overdue colour, compact mode,
the dark theme, the phone size; text contrast checked with axe-core. With WALL_SCREENSHOT_DIR set
(bin/screenshots sets docs/screenshots) each look is kept as a screenshot."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

import pytest

from tests.axe import contrast_violations
from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401
from tests.console.test_wall_browser import StandIn, card

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def screenshot(page, name: str) -> None:
    """Keep what the screen shows (not the whole page) when WALL_SCREENSHOT_DIR is set."""
    import os
    from pathlib import Path

    directory = os.environ.get("WALL_SCREENSHOT_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(directory) / f"{name}.png"))


def sample_cards() -> list[dict]:
    now = timezone.now()
    long_ago = (now - timedelta(minutes=45)).isoformat()
    return [
        card(1, title="暴力内容待断流", review_flag="violence", review_score=0.99, review_suggestion="block",
             priority=1200, started_at=long_ago, patrol_interval=600),
        card(2, title="疑似低俗待复核", review_flag="sexy", review_score=0.71, review_suggestion="review",
             priority=1100, started_at=now.isoformat(), patrol_interval=600),
        card(3, title="久未巡查的直播间", started_at=long_ago, patrol_interval=600, priority=1000),
        *[card(number, started_at=now.isoformat(), patrol_interval=600) for number in range(4, 25)],
    ]  # fmt: skip


def open_wall(new_page, server, user, **context):  # noqa: F811
    page = new_page(**context)
    StandIn(page, sample_cards())
    log_in(page, server, user)
    page.wait_for_selector("#card-24")
    page.wait_for_selector('#live-indicator[data-state="live"]')
    return page


def fully_visible_cards(page) -> int:
    return page.evaluate(
        "[...document.querySelectorAll('.wall-card')].filter(c => {"
        " const r = c.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }).length"
    )


def test_flags_say_what_the_machine_suggests_and_overdue_cards_show_it(asgi_server, new_page, patroller):  # noqa: F811
    page = open_wall(new_page, asgi_server, patroller, viewport={"width": 1440, "height": 900})
    assert page.inner_text("#card-1 [data-field=review]") == "机审建议断流：暴力 0.99"
    assert page.inner_text("#card-2 [data-field=review]") == "机审：性感低俗 0.71"
    assert "suggests-block" in page.get_attribute("#card-1 [data-field=review]", "class")
    assert "suggests-block" not in page.get_attribute("#card-2 [data-field=review]", "class")
    assert "is-overdue" in page.get_attribute("#card-3", "class")
    assert "45 分钟未巡查" in page.inner_text("#card-3 [data-field=patrolled]")
    assert "is-overdue" not in page.get_attribute("#card-4", "class")
    assert contrast_violations(page) == []
    screenshot(page, "wall")


def test_compact_mode_shows_more_cards_and_is_remembered(asgi_server, new_page, patroller):  # noqa: F811
    page = open_wall(new_page, asgi_server, patroller, viewport={"width": 1440, "height": 900})
    normal = fully_visible_cards(page)
    page.check("#compact-toggle")
    compact = fully_visible_cards(page)
    assert compact >= 2 * normal, (normal, compact)
    assert not page.is_visible("#card-5 .card-actions")  # the buttons only on the card in hand
    page.keyboard.press("j")
    assert page.is_visible("#card-1 .card-actions")
    assert contrast_violations(page) == []
    screenshot(page, "wall-compact")
    page.reload()
    page.wait_for_selector("#card-24")
    assert page.is_checked("#compact-toggle") and "wall-compact" in page.get_attribute("body", "class")


def test_the_dark_theme_is_remembered_and_keeps_contrast(asgi_server, new_page, patroller):  # noqa: F811
    page = open_wall(new_page, asgi_server, patroller, viewport={"width": 1440, "height": 900})
    assert page.inner_text("#theme-toggle") == "深色主题"
    page.click("#theme-toggle")
    assert page.get_attribute("html", "data-theme") == "dark"
    assert page.inner_text("#theme-toggle") == "浅色主题"
    page.wait_for_timeout(300)  # the glide of the first paint is over
    assert contrast_violations(page) == []
    screenshot(page, "wall-dark")
    page.reload()
    page.wait_for_selector("#card-24")
    assert page.get_attribute("html", "data-theme") == "dark"


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_wall_at_phone_size(asgi_server, new_page, patroller, locale):  # noqa: F811
    page = open_wall(new_page, asgi_server, patroller, viewport={"width": 390, "height": 844}, locale=locale)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the screen
    header = page.evaluate("document.querySelector('.topbar').getBoundingClientRect().height")
    assert header <= 110, header  # was 190 px
    # Navigation labels are whole words on one line each: none wraps.
    heights = page.eval_on_selector_all(".topnav a", "links => links.map(a => a.getBoundingClientRect().height)")
    assert max(heights) < 2 * min(heights)
    widths = page.eval_on_selector_all(
        ".wall-card", "cards => cards.slice(0, 3).map(c => c.getBoundingClientRect().width)"
    )
    assert all(width > 300 for width in widths)  # one column of full-width cards
    page.keyboard.press("j")
    page.keyboard.press("b")
    page.wait_for_selector("#card-1 .picker")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert contrast_violations(page) == []
    page.keyboard.press("Escape")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, f"wall-phone-{locale[:2]}")
