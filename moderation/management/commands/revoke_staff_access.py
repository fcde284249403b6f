"""End every session of a (compromised) staff account at once: the drill of docs/security.md.

Here rather than in accounts because closing the account's open consoles goes through moderation.events.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.staff_sessions import revoke_staff_access
from moderation import events


class Command(BaseCommand):
    help = (
        "Revoke a staff account's access at once: delete its sessions and close its open consoles, delete its "
        "API tokens and second-factor devices, make its password unusable and force a change. Logged."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username", help="the account to revoke")
        parser.add_argument("--reason", required=True, help="why (kept in the staff action log)")

    def handle(self, *args, username: str, reason: str, **options) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no account named {username!r}")
        try:
            removed = revoke_staff_access(user, reason=reason, actor=None)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if not events.flush(timeout=5.0):  # the consoles' close messages leave before this process does
            self.stderr.write("! could not reach the channel layer: open consoles close at their next check")
        self.stdout.write(
            f"{username}: {removed['sessions']} session(s) ended, {removed['tokens']} API token(s) and "
            f"{removed['devices']} second-factor device(s) deleted; the password no longer works."
        )
        self.stdout.write(
            "To give the account back: confirm the owner in person, set a temporary password with "
            f"`manage.py changepassword {username}`; they must then choose their own and enrol a new authenticator."
        )
