"""End to end: a report filed from a phone-sized browser appears in the patroller's queue with its timer;
the patroller resolves it with a block and the reporter's status page shows it."""

from __future__ import annotations

import pytest

from moderation.models import ModerationAction, PublicReport
from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401
from tests.moderation.test_reports import open_live

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_phone_report_reaches_the_console_live_and_its_resolution_reaches_the_reporter(
    asgi_server,  # noqa: F811
    new_page,  # noqa: F811
    patroller,
    stream_key,
    nginx_node,
):
    from playwright.sync_api import expect

    stream = open_live(stream_key, nginx_node)
    console = new_page()
    log_in(console, asgi_server, patroller, next_path="/reports/")
    console.wait_for_selector('#live-indicator[data-state="live"]')

    phone = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.goto(asgi_server.url + "/report/")
    assert phone.evaluate("document.documentElement.lang") == "zh-hans"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    phone.select_option("#id_target_kind", "stream")
    phone.fill("#id_target", str(stream.pk))
    phone.select_option("#id_category", "pornography")
    phone.fill("#id_description", "<script>window.pwned=1</script>主播有不雅行为")
    assert phone.input_value('input[name="proof_nonce"]') == ""
    phone.click("button[type=submit]")  # the page's script fetches a challenge and computes the proof first
    phone.wait_for_url("**/report/JB-*/")  # the server takes no report from the page without a valid proof
    receipt = phone.text_content("#receipt")
    assert phone.evaluate("window.pwned === undefined")

    report = PublicReport.objects.get(receipt=receipt)
    row = console.locator(f'tr[data-report="{report.pk}"]')
    expect(row).to_be_visible(timeout=5_000)  # live, without a reload
    expect(row.locator(".countdown")).to_have_text(__import__("re").compile(r"^1:[0-3]\d$|^0:\d\d$"), timeout=5_000)

    console.goto(asgi_server.url + f"/reports/{report.pk}/")
    console.click("#claim-report")
    console.select_option("#id_measure", "block")
    console.select_option("#id_reason", "pornography")
    console.click("#resolve-form button[type=submit]")
    expect(console.locator("#report-status")).to_have_text("已处理：已采取处置措施", timeout=10_000)
    report.refresh_from_db()
    assert report.action.kind == ModerationAction.Kind.BLOCK

    phone.reload()
    expect(phone.locator("#report-status")).to_have_attribute("data-status", "resolved")
    expect(phone.locator(".outcome")).to_be_visible()
