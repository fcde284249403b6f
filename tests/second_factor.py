"""Staff logins with a verified second factor, for the whole suite.

Every staff account must pass a second factor after its password (accounts/second_factor.py). The
suite's logins (``client.force_login`` and ``client.login``, all over the tests) get one the way a
person ends up with it: the account enrols an authenticator through the action (with a code
computed from its key, as the app would show) and the session records that device as verified,
as ``django_otp.login`` does once a code is accepted. A test of the half-way state (password
passed, second factor not yet) logs in with ``log_in_without_second_factor``.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

from django.test import Client

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import second_factor

_password_only_login = Client._login


def enrolled_authenticator(user) -> TOTPDevice:
    """Return the user's authenticator, enrolling one through the action if it has none."""
    device = second_factor.authenticator(user)
    if device is None:
        key = second_factor.new_authenticator_key()
        device, _codes = second_factor.enrol_authenticator(user, key=key, code=code_at(key, time.time()))
    return device


def code_at(key: str, at: float, *, step: int = 30) -> str:
    """The code an authenticator app with this key shows at this time."""
    totp = TOTP(bytes.fromhex(key), step=step)
    totp.time = at
    return f"{totp.token():06d}"


def next_code(user) -> str:
    """A code the user's authenticator shows that the server has not accepted yet (waits if need be)."""
    device = enrolled_authenticator(user)
    device.refresh_from_db()
    now = time.time()
    step = int(now // device.step)
    if device.last_t >= step + device.tolerance:  # both steps the server accepts early are used
        time.sleep(device.step - now % device.step + 0.2)
        now = time.time()
        step = int(now // device.step)
    target = max(step, device.last_t + 1)
    return code_at(device.key, target * device.step + 1, step=device.step)


def _login_with_second_factor(client: Client, user, backend=None) -> None:
    _password_only_login(client, user, backend)
    if second_factor.needs_second_factor(user):
        device = enrolled_authenticator(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()


def log_in_without_second_factor(client: Client, user) -> None:
    """Log in with the password only: the session has not passed the second factor."""
    _password_only_login(client, user, "django.contrib.auth.backends.ModelBackend")


@contextmanager
def verified_logins():
    """Make the test client's logins pass the second factor, as the suite's staff do."""
    Client._login = _login_with_second_factor
    try:
        yield
    finally:
        Client._login = _password_only_login


def pass_second_factor(client: Client, username: str) -> None:
    """After a password login through the page, pass its second step through the page too."""
    from accounts.models import User

    response = client.post("/accounts/two-factor/", {"code": next_code(User.objects.get(username=username))})
    assert response.status_code == 302 and "/accounts/" not in response["Location"], response.content[:500]
