"""Print the current second-factor code of a demo staff account (the run command's demo only)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from django_otp.oath import TOTP

from accounts.models import User
from accounts.second_factor import DEMO_AUTHENTICATOR_NAME, authenticator


class Command(BaseCommand):
    help = "Print the code a demo account's authenticator would show now (accounts enrolled by seed_demo, or DEBUG)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username", help="a demo staff account, e.g. patroller")

    def handle(self, *args, username: str, **options) -> None:
        user = User.objects.filter(username=username).first()
        device = authenticator(user) if user is not None else None
        if device is None:
            raise CommandError(f"{username!r} has no authenticator (is it a demo account?)")
        if device.name != DEMO_AUTHENTICATOR_NAME and not settings.DEBUG:
            raise CommandError(f"{username!r} is not a demo account: its codes are on its owner's phone")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        # A code is accepted once: after a login in this time step, print the next step's (accepted early).
        step = totp.t()
        if device.last_t >= step:
            if device.last_t >= step + device.tolerance:
                time.sleep(device.step - (time.time() - device.t0) % device.step + 0.1)
                step = totp.t()
            totp.drift += max(0, device.last_t + 1 - step)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
