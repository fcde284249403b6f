"""The news queue draws times in the console's zone, whatever the browser's own zone is."""

from __future__ import annotations

import datetime

from django.utils import timezone

import pytest

from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401
from tests.news_world import apply_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_browser_in_utc_sees_the_window_in_beijing_time(asgi_server, new_page, editor_in_chief, news_key):  # noqa: F811
    application = apply_for(news_key, title="时区测试直播")
    beijing = timezone.localtime(application.window_start).strftime("%m-%d %H:%M")
    utc = application.window_start.astimezone(datetime.UTC).strftime("%m-%d %H:%M")
    assert beijing != utc
    page = new_page(timezone_id="UTC")
    log_in(page, asgi_server, editor_in_chief, next_path="/news/")
    row = page.wait_for_selector(f"#application-{application.pk}")
    page.wait_for_selector('#live-indicator[data-state="live"]')
    text = row.inner_text()
    assert beijing in text and utc not in text
