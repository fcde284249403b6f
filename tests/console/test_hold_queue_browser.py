"""End to end: a patroller sees a held comment arrive in the hold queue without a reload and releases it by key."""

from __future__ import annotations

import pytest

from moderation import actions
from moderation.gate import rules
from moderation.models import Comment, Stream, WebhookDelivery
from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401
from tests.conftest import make_publisher

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


def open_stream(node, key, client_id: str) -> Stream:
    outcome = rules.decide_publish(
        rules.PublishRequest(node=node, key_name=key.issued_key, app="live", client_id=client_id)
    )
    return Stream.objects.get(pk=outcome.stream_id)


def hold(stream: Stream, *texts: str) -> list[int]:
    items = [
        actions.IncomingComment(
            stream_id=stream.pk,
            external_id=f"{stream.pk}-{index}",
            viewer_id="v-1",
            text=text,
            viewer_phone_verified=True,
        )
        for index, text in enumerate(texts)
    ]
    return [result.comment.pk for result in actions.receive_comments(items, actor=None)]


def test_a_selection_is_rejected_and_all_of_a_streams_released_by_key(
    asgi_server,  # noqa: F811
    browser_page,  # noqa: F811
    patroller,
    admin,
    nginx_node,
    stream_key,
    entertainment,
):
    from playwright.sync_api import expect

    actions.add_term("赌博", category="gambling", action="hold", actor=admin)
    first = open_stream(nginx_node, stream_key, "c-1")
    other_key = actions.issue_stream_key(make_publisher("p-2", "主播二"), category=entertainment, default_title="夜聊")
    second = open_stream(nginx_node, other_key, "c-2")
    one, two, three = hold(first, "赌博一", "赌博二", "赌博三")
    (elsewhere,) = hold(second, "赌博四")
    page = browser_page
    log_in(page, asgi_server, patroller, next_path="/comments/held/")
    rows = page.locator(".hold-row")
    expect(rows).to_have_count(4, timeout=10_000)
    expect(page.locator(".hold-frame")).to_have_count(2)  # one group, with its frame, per stream

    order = [int(row.get_attribute("data-id")) for row in rows.all()]
    page.keyboard.press("j")  # the first row
    page.keyboard.press(" ")
    page.keyboard.press("j")
    page.keyboard.press(" ")
    page.keyboard.press("x")  # reject the two selected
    expect(rows).to_have_count(2, timeout=10_000)
    rejected = set(order[:2])
    assert {pk for pk in (one, two, three, elsewhere) if Comment.objects.get(pk=pk).status == "rejected"} == rejected
    delivery = WebhookDelivery.objects.get(event="comments.decided")  # one decision, one webhook
    assert len(delivery.payload["comments"]) == 2

    page.keyboard.press("j")  # the first row left
    focused_stream = int(page.locator(".hold-row").first.get_attribute("data-stream"))
    page.keyboard.press("L")  # release all of its stream's
    left = {one, two, three, elsewhere} - rejected
    of_stream = {pk for pk in left if Comment.objects.get(pk=pk).stream_id == focused_stream}
    expect(rows).to_have_count(len(left) - len(of_stream), timeout=10_000)
    assert {Comment.objects.get(pk=pk).status for pk in of_stream} == {Comment.Status.RELEASED}
    assert {Comment.objects.get(pk=pk).status for pk in left - of_stream} == {Comment.Status.HELD}
