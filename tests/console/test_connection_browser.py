"""The connection never lies: an expired login says "log in again", keeps the page and the action
that waited, and sends it once when the login is back; a refused account is told so, not retried."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.sessions.models import Session
from django.utils import timezone

import pytest

from moderation import actions
from moderation.models import MediaServer, ModerationAction, Stream
from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401
from tests.conftest import NODE_SECRET
from tests.console.test_wall_browser import StandIn, card, publish_through_the_gate, screenshot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


class RefusingStandIn(StandIn):
    """The stand-in, able to close new sockets at once with a close code, as the server does."""

    refuse: int | None = None

    def accept(self, ws) -> None:
        if self.refuse is not None:
            self.sockets.append(ws)
            ws.close(code=self.refuse, reason="")
            return
        super().accept(ws)


@pytest.fixture
def wall(asgi_server, browser_page, patroller):  # noqa: F811
    stand_in = RefusingStandIn(browser_page, [card(1), card(2), card(3)])
    log_in(browser_page, asgi_server, patroller)
    browser_page.wait_for_selector("#card-3")
    browser_page.wait_for_selector('#live-indicator[data-state="live"]')
    return browser_page, stand_in


def test_an_expired_login_asks_to_log_in_again_and_the_waiting_action_is_sent_once_after(wall):
    page, stand_in = wall
    stand_in.refuse = 4401
    stand_in.sockets[-1].close(code=4401, reason="")  # the login expired
    page.wait_for_selector('#live-indicator[data-state="expired"]')
    assert page.inner_text("#live-indicator") == "请重新登录"
    assert page.is_visible("#connection-banner")
    assert "登录已过期" in page.inner_text("#connection-banner")
    assert page.get_attribute("#connection-banner a[data-login]", "target") == "_blank"
    screenshot(page, "wall-login-expired")

    page.keyboard.press("j")
    page.keyboard.press("b")
    page.keyboard.press("Enter")
    page.wait_for_selector("#card-1 .card-result[data-kind=busy]")
    assert page.inner_text("#card-1 .card-result") == "请重新登录后发送：操作已保留"
    sockets = len(stand_in.sockets)
    page.wait_for_timeout(3000)  # no reconnecting in a loop meanwhile (it tries every 15 s)
    assert len(stand_in.sockets) <= sockets + 1
    assert not stand_in.frames("action")

    stand_in.refuse = None  # logged in again in another tab
    page.click("#connection-banner [data-reconnect]")
    page.wait_for_selector('#live-indicator[data-state="live"]')
    assert not page.is_visible("#connection-banner")
    wait_for(page, lambda: stand_in.frames("action"), message="the block after the login")
    page.wait_for_selector("#card-1 .card-result[data-kind=ok]")
    assert len(stand_in.frames("action")) == 1
    assert stand_in.frames("action")[0]["kind"] == "block"


def test_a_refused_account_is_told_and_not_retried(wall):
    page, stand_in = wall
    stand_in.refuse = 4403
    stand_in.sockets[-1].close(code=4403, reason="")
    page.wait_for_selector('#live-indicator[data-state="forbidden"]')
    assert "拒绝" in page.inner_text("#connection-banner")
    sockets = len(stand_in.sockets)
    page.wait_for_timeout(4000)  # a dropped connection would have been retried within about 2 s
    assert len(stand_in.sockets) == sockets


def test_a_server_restart_reconnects_at_once(wall):
    page, stand_in = wall
    stand_in.sockets[-1].close(code=1012, reason="")
    wait_for(page, lambda: len(stand_in.sockets) == 2, timeout=5, message="a new socket")
    page.wait_for_selector('#live-indicator[data-state="live"]')


def test_the_real_server_closes_an_expired_login_and_the_patrol_is_kept_until_the_login_is_back(
    asgi_server,  # noqa: F811
    browser_page,  # noqa: F811
    patroller,
    stream_key,
):
    page = browser_page
    # A node of its own: the live server's gate caches nodes for a few seconds across tests.
    actions.register_media_server(
        "edge-expiry", kind=MediaServer.Kind.NGINX_RTMP, control_url="http://127.0.0.1:9/", secret=NODE_SECRET
    )
    publish_through_the_gate(asgi_server, stream_key.issued_key, client_id="1", node="edge-expiry")
    stream = Stream.objects.live().get()
    log_in(page, asgi_server, patroller)
    Session.objects.update(expire_date=timezone.now() + timedelta(seconds=2))  # the shift's login ends
    page.reload()
    page.wait_for_selector(f"#card-{stream.pk}")
    page.wait_for_selector('#live-indicator[data-state="expired"]', timeout=10_000)
    assert page.is_visible("#connection-banner")

    page.keyboard.press("j")
    page.keyboard.press("p")
    page.wait_for_selector(f"#card-{stream.pk} .card-result[data-kind=busy]")
    assert Stream.objects.get(pk=stream.pk).last_patrolled_at is None

    other = page.context.new_page()  # the banner's link: a new tab of the same browser
    log_in(other, asgi_server, patroller)
    other.close()
    page.bring_to_front()
    page.click("#connection-banner [data-reconnect]")
    page.wait_for_selector(f"#card-{stream.pk} .card-result[data-kind=ok]", timeout=10_000)
    assert Stream.objects.get(pk=stream.pk).last_patrolled_by == patroller
    assert ModerationAction.objects.filter(stream=stream, kind=ModerationAction.Kind.MARK_PATROLLED).count() == 1
