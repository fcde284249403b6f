"""Idle sessions end: after LIVEWARD_IDLE_MINUTES without activity the next request finds no login.
Pages and forms are activity; background refreshes and the idle script's status check are not."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore

import pytest

from accounts.models import StaffActionLog
from accounts.staff_sessions import ACTIVE_AT

pytestmark = pytest.mark.django_db


def last_activity(client) -> float:
    return SessionStore(session_key=client.cookies["sessionid"].value)[ACTIVE_AT]


def set_last_activity(client, at: float) -> None:
    session = SessionStore(session_key=client.cookies["sessionid"].value)
    session[ACTIVE_AT] = at
    session.save()


def idle_seconds() -> int:
    return settings.LIVEWARD_IDLE_MINUTES * 60


def test_a_login_starts_the_idle_clock(client, patroller):
    before = time.time()
    client.force_login(patroller)
    assert before <= last_activity(client) <= time.time()


def test_the_session_ends_after_the_idle_limit(client, patroller):
    client.force_login(patroller)
    set_last_activity(client, time.time() - idle_seconds() - 1)
    response = client.get("/", follow=True)
    assert response.redirect_chain[0][0].startswith("/accounts/login/")
    assert "分钟没有操作" in response.content.decode()
    assert "_auth_user_id" not in client.session
    [line] = StaffActionLog.objects.filter(verb="session.idle_end")
    assert line.actor == patroller and line.data == {"idle_minutes": settings.LIVEWARD_IDLE_MINUTES}
    assert client.get("/api/v1/streams/live/").status_code in (401, 403)


def test_an_idle_api_session_gets_no_answer(client, patroller):
    client.force_login(patroller)
    set_last_activity(client, time.time() - idle_seconds() - 1)
    assert client.get("/api/v1/streams/live/").status_code in (401, 403)
    assert "_auth_user_id" not in client.session


def test_just_inside_the_limit_the_session_holds_and_a_page_counts_as_activity(client, patroller):
    client.force_login(patroller)
    set_last_activity(client, time.time() - idle_seconds() + 30)
    assert client.get("/").status_code == 200
    assert last_activity(client) > time.time() - 5


def test_background_refreshes_and_status_checks_are_not_activity(client, patroller):
    client.force_login(patroller)
    earlier = time.time() - 600
    set_last_activity(client, earlier)
    assert client.get("/", HTTP_X_REQUESTED_WITH="fetch").status_code == 200  # a list refreshing after an event
    status = client.get("/accounts/session/")
    assert status.status_code == 200
    assert abs(status.json()["seconds_left"] - (idle_seconds() - 600)) <= 2
    assert status.json()["warning_seconds"] == 60
    assert last_activity(client) == earlier
    assert client.post("/accounts/session/").status_code == 200  # a key press reported by the idle script
    assert last_activity(client) > time.time() - 5


def test_a_player_fetching_its_stream_is_not_activity(client, patroller):
    client.force_login(patroller)
    earlier = time.time() - 600
    set_last_activity(client, earlier)
    # A video element's own fetch (Safari's native HLS); hls.js and flv.js send X-Requested-With.
    client.get("/streams/1/watch/~.m3u8", HTTP_SEC_FETCH_DEST="video")
    client.get("/streams/1/watch/~-3.ts", HTTP_X_REQUESTED_WITH="fetch")
    assert last_activity(client) == earlier


def test_the_status_of_no_login_is_401(client):
    response = client.get("/accounts/session/")
    assert response.status_code == 401 and response.json() == {"logged_in": False, "seconds_left": 0}


def test_console_pages_carry_the_idle_warning_and_its_script(client, patroller):
    client.force_login(patroller)
    page = client.get("/accounts/shifts/").content.decode()
    assert 'id="idle-warning"' in page and f'data-idle-seconds="{idle_seconds()}"' in page
    assert "js/idle.js" in page
    assert "<script>" not in page.split("js/idle.js")[0].split("</head>")[1]  # no inline script added
