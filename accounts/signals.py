"""Log staff logins, logouts and failed logins."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts import actions


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
