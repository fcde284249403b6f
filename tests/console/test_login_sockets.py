"""The console socket and the staff login: no socket before the second factor, closed when the
session ends idle (not before: another tab's activity counts, the socket's own traffic does not),
and closed at once when the account's access is revoked (manage.py revoke_staff_access)."""

from __future__ import annotations

import asyncio
import time

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.test import Client

import pytest
from asgiref.sync import sync_to_async
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from accounts.models import StaffActionLog, User
from accounts.staff_sessions import ACTIVE_AT
from tests.console.test_consumer import TIMEOUT, assert_still_open, communicator, receive
from tests.second_factor import log_in_without_second_factor

# As tests/console/test_consumer.py: the consumer reads the database from its own threads.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def logged_in(user, *, second_factor: bool = True) -> tuple[Client, bytes]:
    client = Client()
    if second_factor:
        client.force_login(user)
    else:
        log_in_without_second_factor(client, user)
    return client, f"sessionid={client.cookies['sessionid'].value}".encode()


def set_last_activity(client: Client, at: float) -> None:
    session = SessionStore(session_key=client.cookies["sessionid"].value)
    session[ACTIVE_AT] = at
    session.save()


async def connected(cookie: bytes):
    ws = await communicator(cookie)
    ok, code = await ws.connect(timeout=TIMEOUT)
    assert ok, code
    assert (await receive(ws))["type"] == "hello"
    assert (await receive(ws))["type"] == "snapshot"
    return ws


async def close_code(ws) -> int:
    while True:
        output = await ws.receive_output(timeout=TIMEOUT)
        if output["type"] == "websocket.close":
            return output["code"]


async def test_a_session_without_the_second_factor_opens_no_socket(patroller):
    _client, cookie = await sync_to_async(logged_in)(patroller, second_factor=False)
    ws = await communicator(cookie)
    assert await ws.connect(timeout=TIMEOUT) == (False, 4401)


async def test_an_idle_session_opens_no_socket_and_ends(patroller):
    client, cookie = await sync_to_async(logged_in)(patroller)
    idle = settings.LIVEWARD_IDLE_MINUTES * 60
    await sync_to_async(set_last_activity)(client, time.time() - idle - 1)
    ws = await communicator(cookie)
    assert await ws.connect(timeout=TIMEOUT) == (False, 4401)
    assert not await Session.objects.aexists()
    assert await StaffActionLog.objects.filter(actor=patroller, verb="session.idle_end").aexists()


async def test_an_open_console_closes_when_its_session_goes_idle(patroller):
    client, cookie = await sync_to_async(logged_in)(patroller)
    idle = settings.LIVEWARD_IDLE_MINUTES * 60
    await sync_to_async(set_last_activity)(client, time.time() - idle + 2)
    ws = await connected(cookie)
    await assert_still_open(ws, "idle-but-not-yet")  # the socket's own traffic is not activity
    assert await close_code(ws) == 4401
    assert not await Session.objects.aexists()
    assert await StaffActionLog.objects.filter(actor=patroller, verb="session.idle_end").acount() == 1
    response = await sync_to_async(client.get)("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


async def test_activity_in_another_tab_keeps_the_console_open(patroller):
    client, cookie = await sync_to_async(logged_in)(patroller)
    idle = settings.LIVEWARD_IDLE_MINUTES * 60
    await sync_to_async(set_last_activity)(client, time.time() - idle + 2)
    ws = await connected(cookie)
    response = await sync_to_async(client.post)("/accounts/session/")  # a key press reported by idle.js
    assert response.status_code == 200 and response.json()["seconds_left"] > idle - 5
    await asyncio.sleep(3)
    await assert_still_open(ws, "kept")
    await ws.disconnect()
    assert await Session.objects.aexists()


async def test_revoking_access_closes_the_console_and_ends_every_session(patroller):
    first, cookie = await sync_to_async(logged_in)(patroller)
    second, _other = await sync_to_async(logged_in)(patroller)
    token = await Token.objects.acreate(user=patroller)
    ws = await connected(cookie)
    assert await TOTPDevice.objects.filter(user=patroller).aexists()

    await sync_to_async(call_command)("revoke_staff_access", "patroller", reason="phone stolen on the night shift")

    assert await close_code(ws) == 4401
    assert not await Session.objects.aexists()
    for client in (first, second):  # the old cookies open nothing
        response = await sync_to_async(client.get)("/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    again = await communicator(cookie)
    assert await again.connect(timeout=TIMEOUT) == (False, 4401)
    assert not await Token.objects.filter(key=token.key).aexists()
    assert not await TOTPDevice.objects.filter(user=patroller).aexists()
    assert not await StaticDevice.objects.filter(user=patroller).aexists()
    user = await User.objects.aget(pk=patroller.pk)
    assert user.must_change_password and not user.has_usable_password()
    line = await StaffActionLog.objects.aget(verb="staff.revoke_access")
    assert line.target_id == str(patroller.pk)
    assert line.data == {"reason": "phone stolen on the night shift", "sessions": 2, "tokens": 1, "devices": 2}
    # The old password no longer logs in.
    logins = await sync_to_async(Client().login)(username="patroller", password="correct-horse-battery")
    assert not logins


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["nobody", "--reason", "x"], "no account named 'nobody'"),
        (["patroller", "--reason", "   "], "give a reason"),
        (["patroller", "--reason", "x" * 501], "longer than 500"),
    ],
)
def test_revoking_with_bad_input_changes_nothing(patroller, arguments, message):
    client, _cookie = logged_in(patroller)
    with pytest.raises(CommandError, match=message):
        call_command("revoke_staff_access", *arguments)
    assert client.get("/").status_code == 200
    assert TOTPDevice.objects.filter(user=patroller).exists()
    assert not StaffActionLog.objects.filter(verb="staff.revoke_access").exists()
