"""The credit cycle in Chromium: a violation lowers the level, the gate follows, an appeal restores it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest

from accounts.actions import create_machine_client
from accounts.roles import MACHINE_PLATFORM, Role
from moderation.models import Appeal, CreditEvent, Publisher
from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401
from tests.conftest import NODE_SECRET, _staff
from tests.console.test_wall_browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def gate_status(server, key: str, client_id: str) -> int:
    form = {"app": "live", "name": key, "addr": "203.0.113.1", "clientid": client_id, "call": "publish"}
    request = urllib.request.Request(
        f"{server.url}/gate/nginx-rtmp/edge-1/{NODE_SECRET}/on_publish", data=urlencode(form).encode(), method="POST"
    )
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def api_post(server, token: str, path: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(f"{server.url}{path}", data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_compliance_admin_runs_the_credit_cycle(asgi_server, new_page, admin, nginx_node, stream_key):  # noqa: F811
    second_admin = _staff("admin2", Role.COMPLIANCE_ADMIN, "合规管理员小钱")
    publisher = stream_key.publisher

    page = new_page()
    log_in(page, asgi_server, admin, next_path=f"/publishers/{publisher.pk}/")
    assert page.inner_text("#credit-level").startswith("A")
    # Keyboard only: the points, the reason, Enter.
    page.focus("#id_points")
    page.keyboard.type("-70")
    page.keyboard.press("Tab")
    page.keyboard.type("直播中售卖违禁品，严重违规")
    page.focus("form.adjust-form button")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.inner_text("#credit-score") == "30"
    assert page.inner_text("#credit-level").startswith("E")
    assert page.locator("svg polyline").count() == 1 and page.locator("circle.chart-dot.down").count() == 1
    screenshot(page, "credit-publisher-page")
    assert gate_status(asgi_server, stream_key.issued_key, "c1") == 403  # the gate follows at once

    _user, token = create_machine_client("platform-backend", kind=MACHINE_PLATFORM, actor=None)
    event = CreditEvent.objects.get(publisher=publisher)
    status, body = api_post(
        asgi_server,
        token,
        "/api/v1/appeals/",
        {"kind": "credit_event", "target": event.pk, "publisher": publisher.platform_account_id, "statement": "请复核"},
    )
    assert status == 201, body

    # The admin who adjusted may not decide; the page says so.
    page.goto(f"{asgi_server.url}/appeals/{body['id']}/")
    assert page.locator("[role=alert]").count() >= 1

    other = new_page()
    log_in(other, asgi_server, second_admin, next_path="/appeals/")
    with other.expect_navigation():
        other.click(f"a[href='/appeals/{body['id']}/']")
    screenshot(other, "credit-appeal-page")
    other.check("input[name=decision][value=uphold]")
    other.fill("textarea[name=note]", "复核录像，未发现违禁品")
    with other.expect_navigation():
        other.click("#appeal-decision button[type=submit]")
    assert Appeal.objects.get().status == "upheld"
    publisher = Publisher.objects.get(pk=publisher.pk)
    assert (publisher.credit_score, publisher.credit_level) == (100, "A")
    assert gate_status(asgi_server, stream_key.issued_key, "c2") == 200
