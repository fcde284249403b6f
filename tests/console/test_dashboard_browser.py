"""The compliance dashboard in Chromium, with the demo's data: its charts render."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

import pytest

from accounts.models import User
from moderation import actions
from moderation.models import MediaServer, ReasonCode, StreamKey
from moderation.tasks.audits import run_audit
from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401
from tests.console.test_wall_browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_dashboard_renders_with_the_demos_data(asgi_server, browser_page, settings, tmp_path):  # noqa: F811
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=StringIO())
    node = MediaServer.objects.get()
    patroller = User.objects.get(username="patroller")
    keys = list(StreamKey.objects.filter(revoked_at__isnull=True).select_related("publisher")[:6])
    streams = []
    for number, key in enumerate(keys):
        streams.append(
            actions.open_stream(
                key,
                published_name=f"demo-{key.publisher.platform_account_id}",  # seed_demo's rule
                node=node,
                app="live",
                client_id=str(number),
                addr="",
                title=key.default_title or "直播",
                at=timezone.now() - timedelta(minutes=20 + 10 * number),
            )
        )
    actions.mark_patrolled(streams[0], actor=patroller)
    actions.warn_publisher(streams[1], actor=patroller, reason=ReasonCode.INSULT_DEFAMATION, note="注意言辞")
    for audit in ("patrol_coverage", "staffing"):
        run_audit.apply(args=[audit]).get()

    page = browser_page
    log_in(page, asgi_server, User.objects.get(username="inspector"), next_path="/dashboard/")
    page.wait_for_selector("#chart-live svg")
    assert page.locator("figure svg").count() == 4
    assert page.locator("#chart-live svg rect").count() >= len(streams)
    assert page.locator("#chart-findings svg rect").count() >= 1
    assert "无人值班" in page.inner_text("#tile-staffing")
    assert f"在播 {len(streams)} 路" in page.inner_text("#tile-coverage")
    box = page.locator("#chart-live svg").bounding_box()
    assert box and box["width"] > 300 and box["height"] > 100
    screenshot(page, "dashboard")
