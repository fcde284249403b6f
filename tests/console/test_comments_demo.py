"""Issue 14's "done means", on the demo: seed_demo's terms and platform token, the stand-in node's
streams and its comment traffic (a few matching) against the real server process. A patroller sees a
held comment arrive live and releases it; a term the admin adds blocks the next matching comment in
the server process without a restart; a muted viewer's next comment is blocked."""

from __future__ import annotations

import io
import random
import socket
import threading

from django.core.management import call_command

import pytest

from accounts.models import User
from moderation import actions
from moderation.comment_feed import TROUBLEMAKER
from moderation.management.commands import simulate_streams
from moderation.models import Comment, ReasonCode
from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401
from tests.media import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def demo(settings, tmp_path, asgi_server):  # noqa: F811
    """seed_demo, then the stand-in node publishing three demo streams and posting their comments."""
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", simulator_control_port=free_port(), stdout=io.StringIO())
    random.seed(14)  # the feed's mix of chat, terms and viewers, the same every run
    command = simulate_streams.Command()
    argv = ["--gate-url", asgi_server.url, "--streams", "3", "--review-flags", "0", "--comments-per-second", "60"]
    argv += ["--duration", "300"]
    thread = threading.Thread(target=call_command, args=(command, *argv), kwargs={"stdout": io.StringIO()})
    thread.daemon = True
    thread.start()
    yield asgi_server
    wait_until(lambda: command.simulator is not None, message="the simulator to start")
    command.simulator.stop()
    thread.join(timeout=30)


def later_ones_blocked(first: Comment, **filters) -> None:
    """Every comment like ``first`` stored after it was blocked as well."""
    later = Comment.objects.filter(pk__gt=first.pk, **filters)
    assert set(later.values_list("status", flat=True)) <= {Comment.Status.BLOCKED}


def test_on_the_demo_holds_arrive_live_terms_reach_the_server_and_mutes_block(demo, browser_page):  # noqa: F811
    from playwright.sync_api import expect

    patroller = User.objects.get(username="patroller")
    admin = User.objects.get(username="compliance")
    page = browser_page
    log_in(page, demo, patroller, next_path="/comments/held/")
    page.wait_for_selector('#live-indicator[data-state="live"]')

    # The feed's traffic: mostly chat, a few matching the demo's terms (赌博 holds, 微信 blocks).
    row = page.locator(".hold-row").first
    expect(row).to_be_visible(timeout=60_000)  # arrived over the socket, no reload
    held_id = int(row.get_attribute("data-id"))
    assert Comment.objects.get(pk=held_id).hold_reason == "sensitive_term"
    page.keyboard.press("j")
    page.keyboard.press("l")
    expect(page.locator(f'.hold-row[data-id="{held_id}"]')).to_have_count(0, timeout=10_000)
    released = Comment.objects.get(pk=held_id)
    assert (released.status, released.decided_by) == (Comment.Status.RELEASED, patroller)
    assert Comment.objects.filter(status=Comment.Status.PUBLISHED).count() > 10
    assert Comment.objects.filter(block_reason="sensitive_term", matched_terms__0__term="微信").exists()

    # The admin adds a term in this process; the server process blocks the next comment with it.
    actions.add_term("主播", category="other", action="block", actor=admin)
    new_term_blocks = Comment.objects.filter(block_reason="sensitive_term", matched_terms__0__term="主播")
    first = wait_until(
        lambda: new_term_blocks.order_by("pk").first(),
        timeout=60,
        message="a comment with the new term blocked by the server process",
    )
    later_ones_blocked(first, text__contains="主播")

    # The patroller mutes the demo's troublemaker everywhere: their next comment is blocked.
    actions.mute_viewer(TROUBLEMAKER, actor=patroller, minutes=60, reason=ReasonCode.INSULT_DEFAMATION)
    first = wait_until(
        lambda: Comment.objects.filter(viewer_id=TROUBLEMAKER, block_reason="muted").order_by("pk").first(),
        timeout=60,
        message="the muted viewer's next comment blocked",
    )
    later_ones_blocked(first, viewer_id=TROUBLEMAKER)
