"""Give an API client a new token; its old tokens keep working for the overlap, then stop."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from accounts.actions import MAX_ROTATION_OVERLAP, machine_kind, rotate_client_token
from accounts.models import User


class Command(BaseCommand):
    help = (
        "Issue an API client a new token (same scopes) and print it once; the client's current tokens keep "
        "working for --overlap-hours (0: they stop now)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("client", help="the client's name, as create_api_token made it")
        parser.add_argument("--overlap-hours", type=float, required=True, help="how long the old token still works")

    def handle(self, *args, client: str, overlap_hours: float, **options) -> None:
        user = User.objects.filter(username=client).first()
        if user is None or machine_kind(user) is None:
            raise CommandError(f"no API client named {client!r}")
        if not 0 <= overlap_hours <= MAX_ROTATION_OVERLAP.total_seconds() / 3600:
            raise CommandError(f"--overlap-hours must be between 0 and {MAX_ROTATION_OVERLAP.days * 24}")
        try:
            token, key = rotate_client_token(user, overlap=timedelta(hours=overlap_hours), actor=None)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(
            f"New token {token.prefix}… for {client!r} (scopes: {', '.join(token.scopes)}); shown only this once:"
        )
        self.stdout.write(key)
        self.stderr.write(f"The old token works for {overlap_hours:g} more hour(s).")
