"""End to end: a patroller sees a held comment arrive in the hold queue without a reload and releases it by key."""

from __future__ import annotations

import pytest

from moderation import actions
from moderation.gate import rules
from moderation.models import Comment, Stream
from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_held_comment_arrives_live_and_the_patroller_releases_it(
    asgi_server,  # noqa: F811
    browser_page,  # noqa: F811
    patroller,
    admin,
    nginx_node,
    stream_key,
):
    from playwright.sync_api import expect

    actions.add_term("赌博", category="gambling", action="hold", actor=admin)
    outcome = rules.decide_publish(
        rules.PublishRequest(node=nginx_node, key_name=stream_key.issued_key, app="live", client_id="c-1")
    )
    stream = Stream.objects.get(pk=outcome.stream_id)
    page = browser_page
    log_in(page, asgi_server, patroller, next_path="/comments/held/")
    page.wait_for_selector('#live-indicator[data-state="live"]')
    expect(page.locator("#hold-empty")).to_be_visible()

    (result,) = actions.receive_comments(
        [
            actions.IncomingComment(
                stream_id=stream.pk, external_id="b-1", viewer_id="v-1", text="来 賭 博 吧", viewer_phone_verified=True
            )
        ],
        actor=None,
    )
    row = page.locator(f'.hold-row[data-id="{result.comment.pk}"]')
    expect(row).to_be_visible(timeout=10_000)
    expect(row.locator("mark")).to_have_text("賭 博")
    page.keyboard.press("j")
    page.keyboard.press("l")
    expect(row).to_have_count(0, timeout=10_000)
    assert Comment.objects.get(pk=result.comment.pk).status == Comment.Status.RELEASED
