"""The console's pages: the home page (the patrol wall), the error pages, the health check."""

from __future__ import annotations

from urllib.parse import urlencode

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import pytest

from moderation import actions
from moderation.models import Stream
from tests.conftest import NODE_SECRET, make_publisher

pytestmark = pytest.mark.django_db

TITLES = ["深夜食堂：今晚做红烧肉", "王者荣耀巅峰赛冲分", "徒步秦岭：鳌太线第二天"]


def publish(client, key: str, client_id: str, title: str = "") -> None:
    """Open a stream the way a media server does: through the gate's nginx-rtmp callback."""
    form = {"app": "live", "name": key, "addr": "203.0.113.9", "clientid": client_id, "call": "publish"}
    if title:
        form["title"] = title
    response = client.post(
        f"/gate/nginx-rtmp/edge-1/{NODE_SECRET}/on_publish",
        urlencode(form),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200, response.content


def open_streams(client, count: int, *, category, first: int = 0) -> None:
    for number in range(first, first + count):
        publisher = make_publisher(f"acct-{number:04d}", f"主播{number:02d}号")
        key = actions.issue_stream_key(publisher, category=category, default_title=f"直播间{number:02d}")
        publish(client, key.issued_key, client_id=str(number))


@pytest.fixture
def staff_client(client, patroller):
    client.force_login(patroller)
    return client


def test_home_is_the_patrol_wall_with_the_live_count(staff_client, nginx_node, agreement, entertainment):
    publishers = [make_publisher(f"acct-{n}", name) for n, name in enumerate(["美食小当家", "峡谷老司机", "山野行者"])]
    for number, (publisher, title) in enumerate(zip(publishers, TITLES, strict=True)):
        key = actions.issue_stream_key(publisher, category=entertainment)
        publish(staff_client, key.issued_key, client_id=str(number), title=title)

    response = staff_client.get(reverse("console:home"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "巡查墙" in body and 'id="wall"' in body  # the cards come over the WebSocket
    assert '<span class="count" id="live-count"' in body and ">3</span>" in body


def test_ended_streams_are_not_counted(staff_client, nginx_node, stream_key):
    publish(staff_client, stream_key.issued_key, client_id="1", title="已经下播的直播")
    stream = Stream.objects.get()
    actions.end_stream_session(node=nginx_node, client_id="1", key_name=stream_key.issued_key)
    assert Stream.objects.live().count() == 0, stream
    body = staff_client.get("/").content.decode()
    assert 'id="live-count"' in body and ">0</span>" in body


def test_home_has_the_connection_indicator_and_a_skip_link(staff_client):
    body = staff_client.get("/").content.decode()
    assert 'id="live-indicator"' in body and 'data-text-live="在线"' in body and 'data-text-down="连接中断"' in body
    assert '<a class="skip-link" href="#main">' in body and '<main id="main"' in body
    assert "/static/js/wall/main.js" in body and "/static/css/console.css" in body
    assert "http://" not in body and "https://" not in body  # nothing from a CDN


def test_home_uses_the_same_number_of_queries_for_3_and_30_streams(staff_client, nginx_node, agreement, entertainment):
    open_streams(staff_client, 3, category=entertainment)
    with CaptureQueriesContext(connection) as few:
        assert staff_client.get("/").status_code == 200
    open_streams(staff_client, 27, category=entertainment, first=3)
    with CaptureQueriesContext(connection) as many:
        assert staff_client.get("/").status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    # Session, user, roles; live count, tiers, categories; the patroller's open shift and the last
    # handover note; unresolved audit findings and emergencies in force (the header's badges).
    assert len(few) <= 10, [q["sql"][:150] for q in few.captured_queries]


def test_an_unknown_page_is_a_404_in_the_consoles_look_without_details(staff_client):
    response = staff_client.get("/no/such/page")
    assert response.status_code == 404
    body = response.content.decode()
    assert "页面不存在" in body and 'class="topbar"' in body
    assert "gate/nginx-rtmp" not in body and "URLconf" not in body and "Request URL" not in body


def test_a_404_for_anonymous_does_not_show_the_staff_menu(client, db):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "退出登录" not in response.content.decode()


def test_healthz_answers_ok(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_every_page_states_the_zone_its_times_are_in(client, patroller):
    client.force_login(patroller)
    for path in ["/", "/accounts/shifts/", "/records/actions/"]:
        body = client.get(path).content.decode()
        assert "时间均为 Asia/Shanghai 时区（UTC+0800）。" in body, path
    english = client.get("/accounts/shifts/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Times are in Asia/Shanghai (UTC+0800)." in english
