"""The second factor of a staff login (django-otp): enrol an authenticator app, check its codes and
the recovery codes, refuse and log everything else.

Every account that logs in with a password must pass a second factor before it may do anything
else (accounts/middleware.py holds it on these pages); machine clients use API tokens and are never
asked. A staff member has one confirmed TOTP device (the authenticator app) and one static device
holding the recovery codes, each usable once. Wrong, replayed and used codes are refused and logged
(``two_factor.refused`` with the reason); after as many refusals as the password lockout allows
(``AXES_FAILURE_LIMIT`` within ``AXES_COOLOFF_TIME``) the account is locked for the second factor
until the cool-off passes or a compliance admin unlocks it. The writes here are actions, as in
accounts/actions.py: lock, check, write, log.
"""

from __future__ import annotations

import base64
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.crypto import salted_hmac

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.actions import log_staff_action
from accounts.models import StaffActionLog, User
from accounts.roles import MACHINE_KINDS

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "authenticator"
RECOVERY_NAME = "recovery"
DEMO_AUTHENTICATOR_NAME = "demo"  # the demo's accounts (seed_demo): manage.py demo_totp prints their codes
_KEY_HEX = re.compile(r"[0-9a-f]{40}")
_TOTP_CODE = re.compile(r"[0-9]{6}")
_RECOVERY_CODE = re.compile(r"[a-z2-7]{8}")

# The reasons a code is refused (stored in the log, shown translated by the views).
WRONG_CODE = "wrong_code"
REPLAYED_CODE = "replayed_code"
USED_RECOVERY_CODE = "used_recovery_code"
MALFORMED_CODE = "malformed_code"
LOCKED = "locked"
NOT_ENROLLED = "not_enrolled"
ENROLLED_ALREADY = "enrolled_already"


class SecondFactorRefused(Exception):
    """A code was refused; ``code`` names why (one of the reasons above)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def needs_second_factor(user) -> bool:
    """Tell whether this logged-in user must pass a second factor: every account but machine clients."""
    if not getattr(user, "is_authenticated", False):
        return False
    return not user.role_names.intersection(MACHINE_KINDS)


def authenticator(user: User) -> TOTPDevice | None:
    """Return the user's confirmed authenticator, if enrolled."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def session_is_verified(user, session) -> bool:
    """Tell whether this session passed the user's second factor (the consumer's check; pages use OTPMiddleware)."""
    persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    if not persistent_id:
        return False
    device = Device.from_persistent_id(persistent_id)
    return device is not None and device.user_id == user.pk and device.confirmed


def is_recovery_code_device(device: Device) -> bool:
    """Tell whether a device that accepted a code holds recovery codes (not the authenticator)."""
    return isinstance(device, StaticDevice)


def recovery_codes_left(user: User) -> int:
    """Count the user's unused recovery codes."""
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- enrolment --------------------------------------------------------------------------------


def new_authenticator_key() -> str:
    """Return a fresh secret for an authenticator (hex, 20 bytes), kept in the session until confirmed."""
    return secrets.token_hex(20)


def manual_key(key: str) -> str:
    """Return the key as people type it into an authenticator app: base32 in groups of four."""
    text = base64.b32encode(bytes.fromhex(key)).decode("ascii").rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def provisioning_uri(user: User, key: str) -> str:
    """Return the otpauth:// URI the enrolment QR code carries."""
    return TOTPDevice(user=user, key=key).config_url


def qr_code_svg(uri: str) -> str:
    """Return the QR code of ``uri`` as an inline SVG element (drawn here, no CDN, no inline script)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")


def enrol_authenticator(
    user: User, *, key: str, code: str, ip: str | None = None, name: str = AUTHENTICATOR_NAME
) -> tuple[TOTPDevice, list[str]]:
    """Confirm an authenticator with a code it shows; return it and the new recovery codes (shown once).

    Raises SecondFactorRefused (logged) for a wrong code or an account that is enrolled already.
    """
    key = (key or "").strip().lower()
    if not _KEY_HEX.fullmatch(key):
        raise ValueError("the enrolment key is not a 40-digit hex string")
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # one enrolment at a time per account
        refusal = _locked_or_enrolled(user)
        if refusal is None:
            device = TOTPDevice(user=user, key=key, name=name, confirmed=True)
            totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
            normalised = _normalise(code)
            if not _TOTP_CODE.fullmatch(normalised):
                refusal = MALFORMED_CODE
            elif not totp.verify(int(normalised), device.tolerance):
                refusal = WRONG_CODE
            else:
                device.last_t = totp.t()  # the code that confirmed it cannot log in again
                device.drift = totp.drift
                device.save()
                codes = _new_recovery_codes(user)
                log_staff_action(user, "two_factor.enrol", target=user, data={"device": device.persistent_id}, ip=ip)
                return device, codes
    _refuse(user, refusal, ip=ip, during="enrol")


def replace_recovery_codes(user: User, *, ip: str | None = None) -> list[str]:
    """Give the user ten new recovery codes (the old ones stop working); return them, shown once."""
    with transaction.atomic():
        if authenticator(user) is None:
            raise SecondFactorRefused(NOT_ENROLLED)
        codes = _new_recovery_codes(user)
        log_staff_action(user, "two_factor.recovery_codes", target=user, data={"count": len(codes)}, ip=ip)
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


# --- verification -----------------------------------------------------------------------------


def verify_second_factor(user: User, code: str, *, ip: str | None = None) -> Device:
    """Check a code from the authenticator or a recovery code; return the device that accepted it.

    Raises SecondFactorRefused (logged) for a wrong, replayed, used or malformed code, an account
    without an authenticator, or an account locked after too many refusals.
    """
    normalised = _normalise(code)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # refusals are counted one at a time
        refusal = LOCKED if _locked(user) else None
        if refusal is None:
            if _TOTP_CODE.fullmatch(normalised):
                device, refusal = _check_authenticator(user, normalised)
            elif _RECOVERY_CODE.fullmatch(normalised):
                device, refusal = _check_recovery_code(user, normalised)
            else:
                device, refusal = None, MALFORMED_CODE
            if device is not None:
                data = {"device": device.persistent_id, "method": "totp"}
                if is_recovery_code_device(device):
                    data.update(method="recovery", code=_digest(user, normalised), left=recovery_codes_left(user))
                log_staff_action(user, "two_factor.verify", target=user, data=data, ip=ip)
                return device
    _refuse(user, refusal, ip=ip, during="login")


def _check_authenticator(user: User, code: str) -> tuple[Device | None, str | None]:
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk").first()
    if device is None:
        return None, NOT_ENROLLED
    if device.verify_token(code):  # checks only steps after the last accepted one, and saves it
        return device, None
    window = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if window.verify(int(code), device.tolerance):  # right for the time, but its step was used already
        return None, REPLAYED_CODE
    return None, WRONG_CODE


def _check_recovery_code(user: User, code: str) -> tuple[Device | None, str | None]:
    device = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
    if authenticator(user) is None:
        return None, NOT_ENROLLED
    if device is not None and device.verify_token(code):  # deletes the code it matched
        return device, None
    used = user.staffactionlog_set.filter(verb="two_factor.verify", data__code=_digest(user, code)).exists()
    return None, USED_RECOVERY_CODE if used else WRONG_CODE


def _digest(user: User, code: str) -> str:
    # A used recovery code is recognised by this keyed digest in the log, never stored itself.
    return salted_hmac("liveward.recovery-code", f"{user.pk}:{code}").hexdigest()[:32]


def _normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", str(code or ""))[:32].lower()


def _refuse(user: User, reason: str, *, ip: str | None, during: str):
    """Log a refused code (and a lockout it causes), then raise it."""
    with transaction.atomic():
        verb = "two_factor.locked" if reason == LOCKED else "two_factor.refused"
        log_staff_action(user, verb, target=user, data={"reason": reason, "during": during}, ip=ip)
    raise SecondFactorRefused(reason)


def _locked_or_enrolled(user: User) -> str | None:
    if _locked(user):
        return LOCKED
    if authenticator(user) is not None:
        return ENROLLED_ALREADY
    return None


def refusals_counted(user: User) -> int:
    """Count the refused codes that count toward the lockout now.

    Those within the cool-off (``AXES_COOLOFF_TIME``) since the last accepted code and the last
    unlock of the account by a compliance admin.
    """
    since = timezone.now() - timedelta(hours=settings.AXES_COOLOFF_TIME)
    resets = user.staffactionlog_set.filter(verb__in=["two_factor.verify", "two_factor.enrol"]).aggregate(at=Max("at"))
    unlock = StaffActionLog.objects.filter(verb="login.unlock", data__username=user.get_username()).aggregate(
        at=Max("at")
    )
    for reset in (resets["at"], unlock["at"]):
        if reset is not None and reset > since:
            since = reset
    return user.staffactionlog_set.filter(verb="two_factor.refused", at__gt=since).count()


def _locked(user: User) -> bool:
    return refusals_counted(user) >= settings.AXES_FAILURE_LIMIT


def is_locked(user: User) -> bool:
    """Tell whether the account's second factor is locked after too many refused codes."""
    return _locked(user)


def refusals_by_account() -> dict[str, int]:
    """Return, per account with refused codes in the cool-off, how many count toward its lockout now."""
    since = timezone.now() - timedelta(hours=settings.AXES_COOLOFF_TIME)
    users = User.objects.filter(
        pk__in=StaffActionLog.objects.filter(verb="two_factor.refused", at__gte=since).values("actor_id")
    )
    counts = {user.get_username(): refusals_counted(user) for user in users[:1000]}
    return {username: count for username, count in counts.items() if count}
