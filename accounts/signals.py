"""Log staff logins, logouts and failed logins."""

import time

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts import actions, staff_sessions


@receiver(user_logged_in)
def _on_login(sender, request, user, **kwargs) -> None:
    actions.log_staff_action(user, "login", ip=actions.client_ip(request))


@receiver(user_logged_out)
def _on_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        actions.log_staff_action(user, "logout", ip=actions.client_ip(request))


@receiver(user_login_failed)
def _on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str(credentials.get("username", ""))[:150]
    actions.log_staff_action(None, "login_failed", data={"username": username}, ip=actions.client_ip(request))


@receiver(user_logged_in)
def _start_activity_clock(sender, request, user, **kwargs) -> None:
    # A new session starts active: the idle limit counts from the login (accounts/staff_sessions.py).
    session = getattr(request, "session", None)
    if session is not None:
        session[staff_sessions.ACTIVE_AT] = time.time()
