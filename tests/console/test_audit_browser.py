"""Audits in Chromium: overdue streams marked on the wall, findings alerted to the staff on duty."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from moderation import actions
from moderation.models import Finding, MediaServer
from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401
from tests.conftest import NODE_SECRET
from tests.console.test_wall_browser import StandIn, card, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


def test_the_wall_marks_a_stream_overdue_as_it_becomes_overdue(asgi_server, browser_page, patroller):  # noqa: F811
    page = browser_page
    StandIn(
        page,
        [
            card(1, patrol_due_at=iso(timedelta(minutes=-3))),
            card(2, patrol_due_at=iso(timedelta(seconds=3))),
            card(3, patrol_due_at=iso(timedelta(minutes=10))),
        ],
    )
    log_in(page, asgi_server, patroller)
    page.wait_for_selector("#card-3")
    assert "is-overdue" in page.get_attribute("#card-1", "class")
    assert "is-overdue" not in page.get_attribute("#card-3", "class")
    # Card 2 turns overdue while the wall stays open, without any frame from the server.
    wait_for(page, lambda: "is-overdue" in page.get_attribute("#card-2", "class"), timeout=12, message="overdue")
    assert "is-overdue" not in page.get_attribute("#card-3", "class")


def test_a_patroller_on_duty_sees_a_finding_and_acknowledges_it(
    asgi_server,  # noqa: F811
    browser_page,  # noqa: F811
    patroller,
    stream_key,
):
    from accounts.actions import check_in
    from moderation.tasks.audits import run_audit

    node, _secret = actions.register_media_server(
        "edge-audits", kind=MediaServer.Kind.NGINX_RTMP, control_url="http://127.0.0.1:9/", secret=NODE_SECRET
    )
    actions.open_stream(
        stream_key, published_name=stream_key.issued_key,
        node=node, app="live", client_id="1", addr="203.0.113.9", title="深夜食堂直播",
        at=datetime.now(UTC) - timedelta(minutes=15),
    )  # fmt: skip
    check_in(patroller)
    run_audit.apply(args=["patrol_coverage"]).get()
    finding = Finding.objects.get()
    page = browser_page
    log_in(page, asgi_server, patroller, next_path="/audits/")
    alert = page.wait_for_selector(f'#audit-alerts li[data-finding="{finding.pk}"]', timeout=10_000)
    assert "巡查覆盖" in alert.inner_text() and "unwatched" in alert.inner_text()
    alert.query_selector("button").click()  # 确认
    page.wait_for_selector(f'#audit-alerts li[data-finding="{finding.pk}"].status-acknowledged', timeout=10_000)
    finding.refresh_from_db()
    assert finding.status == Finding.Status.ACKNOWLEDGED and finding.acknowledged_by == patroller
    assert "巡查员小王" in page.inner_text(f'#audit-alerts li[data-finding="{finding.pk}"]')
