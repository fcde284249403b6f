"""The Chinese pages show no English validation text: in Chromium, a compliance admin and a patroller
fill forms wrongly (a resident ID whose check digit is wrong, credit thresholds that overlap, a
negative cost, a missing reason, a date that is not a date) and every error they are shown is
Chinese, beside its field."""

from __future__ import annotations

import re

import pytest

from moderation import actions
from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Django's and our own English sentences: none may reach a Chinese page.
ENGLISH = re.compile(r"\b(Enter|This field|Ensure|must|valid|check digit|required|Select a)\b", re.IGNORECASE)
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def shown_errors(page) -> list[str]:
    texts = page.eval_on_selector_all(
        "main .field-error, main .form-error, main .errorlist, main [role=alert]",
        "els => els.filter(e => e.offsetParent !== null).map(e => e.innerText.trim()).filter(Boolean)",
    )
    return texts


def assert_chinese_only(page, expected: list[str]) -> None:
    errors = shown_errors(page)
    assert errors, "no error shown"
    for text in expected:
        assert any(text in error for error in errors), (text, errors)
    for error in errors:
        assert not LATIN_WORD.search(error), error
    assert not ENGLISH.search(page.inner_text("main")), page.inner_text("main")[:2000]


def test_the_chinese_pages_show_no_english_validation_text(asgi_server, new_page, admin):  # noqa: F811
    for slug in ("entertainment", "games"):
        actions.create_category(slug, name={"entertainment": "娱乐", "games": "游戏"}[slug])
    page = new_page(locale="zh-CN")
    log_in(page, asgi_server, admin)

    # The blacklist: a resident ID whose check digit is wrong, a source action that is not one.
    page.goto(f"{asgi_server.url}/blacklist/add/")
    page.select_option("select[name=kind]", "id_document")
    page.fill("input[name=value]", "110105199001011234")
    page.fill("input[name=source_action]", "-5")
    with page.expect_navigation():
        page.click("button[name=check]")
    assert_chinese_only(page, ["身份证号码的校验码不正确"])

    # The credit policy: the lowest score above the highest, a negative cost, no reason given.
    page.goto(f"{asgi_server.url}/credit/edit/")
    page.fill("input[name=score_min]", "100")
    page.fill("input[name=score_max]", "0")
    page.fill("input[name=cost_block]", "-1")
    page.fill("input[name=note]", "")
    with page.expect_navigation():
        page.click("button[name=check]")
    assert_chinese_only(page, ["最低分必须低于最高分。", "确保该值大于或等于0。", "请说明修改内容及原因"])

    # The record search: a date that is not a date (typed into the address, as a shared link would be).
    page.goto(f"{asgi_server.url}/records/streams/?from_day=2026-13-45&state=%E4%B9%9F%E8%AE%B8")  # state: 也许
    assert_chinese_only(page, ["输入一个有效的日期", "选择一个有效的选项"])
