"""Staff sessions: the idle limit, and ending every session of an account at once.

A session records when its user last did something (``ACTIVE_AT``): a page load or a form, or a
key press or click that the console's script reports (static/js/idle.js). Background refreshes
(GET with ``X-Requested-With: fetch``, as the stream page's player sends too, or a media element's
own fetch) and the WebSocket's traffic do not count. After
``LIVEWARD_IDLE_MINUTES`` without activity the session ends at its next request, and the console's
socket closes with 4401 (console/consumers.py), so the page stays and asks to log in again.
"""

from __future__ import annotations

import time
from importlib import import_module

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from accounts.actions import client_ip, log_staff_action
from accounts.models import ApiToken, User

ACTIVE_AT = "liveward_active_at"  # session key: Unix time of the user's last activity
# Activity is written to the session at most this often (a write per request would be one per click).
ACTIVITY_RESOLUTION_SECONDS = 15
WARNING_SECONDS = 60  # the console warns this long before an idle session ends
REASON_MAX_CHARS = 500

# Sent after the commit of a revocation with ``user_id``; moderation closes that user's console sockets.
staff_access_revoked = Signal()


def idle_limit_seconds() -> int:
    """Return how long a session may go without activity."""
    return settings.LIVEWARD_IDLE_MINUTES * 60


def mark_active(session, *, now: float | None = None) -> None:
    """Record activity in the session (written only when the last record is a little old)."""
    now = time.time() if now is None else now
    last = session.get(ACTIVE_AT)
    if not isinstance(last, int | float) or now - last >= ACTIVITY_RESOLUTION_SECONDS:
        session[ACTIVE_AT] = now


def idle_seconds_left(session_data, *, now: float | None = None) -> float:
    """Seconds until the session ends for inactivity; 0 when it has (or never recorded any activity)."""
    last = session_data.get(ACTIVE_AT)
    if not isinstance(last, int | float):
        return 0.0
    now = time.time() if now is None else now
    return max(0.0, last + idle_limit_seconds() - now)


def counts_as_activity(request) -> bool:
    """Tell whether a request is the user doing something (not a background refresh or a status check)."""
    if request.method not in ("GET", "HEAD"):
        return True
    from django.urls import reverse

    if request.path == reverse("accounts:session"):
        return False
    # A video element fetching its stream (the stream page's player) is no more the user than a refresh.
    if request.headers.get("Sec-Fetch-Dest") in {"video", "audio"}:
        return False
    return request.headers.get("X-Requested-With") != "fetch"


def end_idle_session(request) -> None:
    """End the request's session for inactivity: log it, flush it, continue as nobody."""
    user = request.user
    log_staff_action(
        user, "session.idle_end", data={"idle_minutes": settings.LIVEWARD_IDLE_MINUTES}, ip=client_ip(request)
    )
    request.session.flush()
    request.user = AnonymousUser()


def stored_session_seconds_left(session_key: str | None) -> float:
    """Seconds until the stored session ends by its age or by inactivity; 0 if it is gone.

    Read from the session store, not from a copy in memory: another tab's activity counts. A
    session found idle is ended here (deleted and logged), as its next request would end it.
    """
    if not session_key:
        return 0.0
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    model = getattr(store, "model", None)
    if model is not None:
        row = model.objects.filter(session_key=session_key).values_list("expire_date", "session_data").first()
        if row is None:
            return 0.0
        by_age = (row[0] - timezone.now()).total_seconds()
        data = store.decode(row[1])
    else:
        data = store.load()
        by_age = float(store.get_expiry_age()) if data else 0.0
    by_idle = idle_seconds_left(data)
    if by_idle <= 0 and data:
        user = User.objects.filter(pk=data.get("_auth_user_id")).first()
        with transaction.atomic():
            store.delete(session_key)
            if user is not None:
                log_staff_action(user, "session.idle_end", data={"idle_minutes": settings.LIVEWARD_IDLE_MINUTES})
    return max(0.0, min(by_age, by_idle))


def revoke_staff_access(user: User, *, reason: str, actor: User | None = None, ip: str | None = None) -> dict:
    """End every session of a (compromised) staff account at once and take away all it logs in with.

    Deletes its sessions (and closes its open console sockets, on commit), its API tokens and its
    second-factor devices; makes its password unusable and forces a change, so that someone must
    give it a temporary password before it logs in again and then enrols a new authenticator.
    Returns what was removed. ValueError without a reason.
    """
    from django.contrib.sessions.models import Session

    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ValueError("give a reason for revoking the account's access")
    if len(reason) > REASON_MAX_CHARS:
        raise ValueError(f"the reason is longer than {REASON_MAX_CHARS} characters")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        # A changed password ends every session anyway (Django checks its hash on each request); the
        # rows go too, so nothing of them is left to replay.
        user_id = str(user.pk)
        ended = [
            session.session_key
            for session in Session.objects.iterator()
            if session.get_decoded().get("_auth_user_id") == user_id
        ]
        Session.objects.filter(session_key__in=ended).delete()
        # Its API tokens (a staff account has none of its own; tokens moved from before hashing may remain).
        tokens = ApiToken.objects.filter(client=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
        devices = TOTPDevice.objects.filter(user=user).count() + StaticDevice.objects.filter(user=user).count()
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        user.set_unusable_password()
        user.must_change_password = True
        user.save(update_fields=["password", "must_change_password"])
        removed = {"sessions": len(ended), "tokens": tokens, "devices": devices}
        log_staff_action(actor, "staff.revoke_access", target=user, data={"reason": reason, **removed}, ip=ip)
        transaction.on_commit(lambda: staff_access_revoked.send(sender=User, user_id=user.pk))
    return removed
