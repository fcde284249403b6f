"""The wall re-sorts live and alerts: a flag below the fold rises into view, the tab title counts
what needs attention, the card the patroller is on stays under the keys. The socket is routed to
the protocol stand-in of test_wall_browser.py, so these pin the client's behaviour frame by frame."""

from __future__ import annotations

import pytest

from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401
from tests.console.test_wall_browser import StandIn, card, screenshot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def order(page) -> list[int]:
    return page.eval_on_selector_all(".wall-card", "cards => cards.map(c => Number(c.dataset.stream))")


@pytest.fixture
def big_wall(asgi_server, new_page, patroller):  # noqa: F811
    """Twenty-one cards on a 1440×900 screen: the last ones are far below the fold."""
    page = new_page(viewport={"width": 1440, "height": 900})
    stand_in = StandIn(page, [card(number) for number in range(1, 22)])
    log_in(page, asgi_server, patroller)
    page.wait_for_selector("#card-21")
    return page, stand_in


def test_a_flag_arriving_below_the_fold_rises_into_view_and_alerts(big_wall):
    page, stand_in = big_wall
    assert order(page)[-1] == 21
    assert page.evaluate("document.querySelector('#card-21').getBoundingClientRect().top") > 900
    assert not page.title().startswith("(")
    stand_in.delta("stream.updated", card(21, review_flag="violence", review_score=0.99, priority=1150))
    page.wait_for_function("() => document.querySelector('.wall-card').dataset.stream === '21'")
    assert order(page)[:3] == [21, 1, 2]
    # In view without scrolling, once it has glided up (the motion takes a moment).
    in_view = "() => (r => r.top >= 0 && r.bottom <= 900)(document.querySelector('#card-21').getBoundingClientRect())"
    page.wait_for_function(in_view)
    assert page.evaluate("window.scrollY") == 0
    assert "is-alerting" in page.get_attribute("#card-21", "class")
    assert "机审：暴力 0.99" in page.inner_text("#card-21")  # the vendor's "violence" in the console's words
    assert page.title().startswith("(1) 巡查墙")
    assert page.inner_text("#attention-count") == "1 个待关注"
    screenshot(page, "wall-alert")

    # n jumps to it; looking at it clears the alert.
    page.keyboard.press("n")
    assert page.evaluate("document.activeElement.id") == "card-21"
    page.wait_for_function("() => !document.title.startsWith('(')")
    assert "is-alerting" not in page.get_attribute("#card-21", "class")
    assert not page.is_visible("#attention-count")


def test_an_escalation_and_a_report_alert_and_count_in_the_title(big_wall):
    page, stand_in = big_wall
    stand_in.delta("stream.escalated", card(7))
    stand_in.delta("stream.updated", card(12, open_reports=2, priority=1100))
    page.wait_for_function("() => document.title.startsWith('(2) ')")
    page.wait_for_function("() => document.querySelector('.wall-card').dataset.stream === '12'")
    assert "is-alerting" in page.get_attribute("#card-7", "class")


def test_the_card_the_patroller_is_on_stays_under_the_keys(big_wall):
    page, stand_in = big_wall
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")  # on card 3
    assert page.evaluate("document.activeElement.id") == "card-3"
    stand_in.delta("stream.updated", card(3, priority=1))  # would sort last
    stand_in.delta("stream.updated", card(20, priority=1200))  # rises to the top
    page.wait_for_function("() => document.querySelector('.wall-card').dataset.stream === '20'")
    assert order(page)[:5] == [20, 1, 2, 3, 4]  # card 3 where it was
    assert page.evaluate("document.activeElement.id") == "card-3"
    page.keyboard.press("j")  # leaving it lets it go to its place
    assert page.evaluate("document.activeElement.id") == "card-4"
    page.wait_for_function("() => [...document.querySelectorAll('.wall-card')].pop().dataset.stream === '3'")


def test_after_p_the_focus_moves_on_and_the_patrolled_card_moves_back(big_wall):
    page, stand_in = big_wall
    page.keyboard.press("j")  # on card 1
    page.keyboard.press("p")
    assert page.evaluate("document.activeElement.id") == "card-2"
    wait_for(page, lambda: stand_in.frames("action"), message="the patrol frame")
    assert stand_in.frames("action")[0]["stream"] == 1
    page.wait_for_selector("#card-1 .card-result[data-kind=ok]")
    # The server's delta: patrolled now, so it sorts after the never-patrolled cards of its priority.
    stand_in.delta("stream.patrolled", card(1, priority=990, last_patrolled_at="2026-01-01T09:00:00+08:00"))
    page.wait_for_function("() => document.querySelector('.wall-card').dataset.stream === '2'")
    assert order(page).index(1) == order(page).index(10) + 1  # priority 990 = card 10's
    assert page.evaluate("document.activeElement.id") == "card-2"


def test_after_a_cut_the_count_and_the_pager_agree_at_once(big_wall):
    page, stand_in = big_wall
    assert page.inner_text("#live-count") == "21"
    assert page.inner_text("#window-text") == "第 1–21 条，共 21 条"
    stand_in.delta("stream.blocked", card(5, state="cut_pending"))
    stand_in.delta("stream.ended", {"id": 5, "state": "ended", "end_reason": "cut"})
    page.wait_for_selector('#card-5[data-state="ended"]')
    page.wait_for_function("() => document.querySelector('#window-text').textContent === '第 1–20 条，共 20 条'")
    assert page.inner_text("#live-count") == "20"
