"""End to end: the editor-in-chief approves from the live queue by keyboard; the publisher then goes live.

Everything is real: uvicorn serves the console and the gate, Debian's nginx-rtmp calls that gate, ffmpeg
publishes under the news key, Chromium shows the queue over the console WebSocket.
"""

from __future__ import annotations

import pytest

from moderation.models import GateDecision, NewsApplication, Stream, hash_stream_key
from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401
from tests.media import nginx_rtmp_asgi_fixture, wait_until  # noqa: F401 (the nginx_rtmp_asgi fixture)
from tests.news_world import apply_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.media_server,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_editor_approves_from_the_queue_and_the_next_connection_is_let_through(
    asgi_server,  # noqa: F811
    nginx_rtmp_asgi,
    browser_page,  # noqa: F811
    editor_in_chief,
    news_key,
    platform_licence,
):
    from playwright.sync_api import expect

    page = browser_page
    log_in(page, asgi_server, editor_in_chief, next_path="/news/")
    page.wait_for_selector('#live-indicator[data-state="live"]')
    expect(page.locator("#news-empty")).to_be_visible()

    # Before approval the key is refused at nginx.
    refused = nginx_rtmp_asgi.publish(news_key.issued_key)
    assert refused.wait(timeout=10) != 0, refused.stderr()
    assert (
        GateDecision.objects.filter(key_hash=hash_stream_key(news_key.issued_key)).latest("id").reason
        == "news_not_approved"
    )

    # The platform submits an application: it appears without a reload.
    application = apply_for(news_key, title="突发：台风登陆直播连线")
    row = page.locator(f"#application-{application.pk}")
    expect(row).to_be_visible(timeout=10_000)
    expect(row).to_contain_text("突发：台风登陆直播连线")
    expect(row).to_have_attribute("data-status", "submitted")

    # Keyboard only: j focuses the row, a opens the approval form, a note, Enter sends it.
    page.keyboard.press("j")
    page.wait_for_function(f"() => document.activeElement?.id === 'application-{application.pk}'")
    page.keyboard.press("a")
    note = row.locator("form.decide input[name=note]")
    expect(note).to_be_focused()
    page.keyboard.type("同意，注意核实现场信息")
    page.keyboard.press("Enter")
    expect(page.locator(f"#application-{application.pk}")).to_have_attribute("data-status", "approved", timeout=10_000)
    expect(page.locator(f'#application-{application.pk} [data-field="result"]')).to_have_attribute("data-kind", "ok")

    application.refresh_from_db()
    assert application.status == NewsApplication.Status.APPROVED
    assert application.decisions.get(kind="approve").actor == editor_in_chief

    # The publisher's next connection is let through.
    publish = nginx_rtmp_asgi.publish(news_key.issued_key)
    stream = wait_until(
        lambda: Stream.objects.live().filter(key=news_key).first(),
        timeout=15,
        message=f"the gate to let the approved key in (ffmpeg: {publish.stderr_path})",
    )
    assert publish.running, publish.stderr()
    assert GateDecision.objects.filter(stream=stream, allowed=True).exists()
