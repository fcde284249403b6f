"""Create a machine client of the REST API and print its token once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.actions import create_machine_client
from accounts.roles import MACHINE_KINDS, Scope


class Command(BaseCommand):
    help = "Create an API client (e.g. the platform's backend) and print its token; it is shown only once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="client name, e.g. platform-backend-prod")
        parser.add_argument("--kind", required=True, choices=MACHINE_KINDS, help="what the client may do")
        parser.add_argument(
            "--scope",
            action="append",
            choices=Scope.values,
            help="limit the token to this scope (repeat; default: every scope of the kind)",
        )

    def handle(self, *args, name: str, kind: str, scope: list[str] | None, **options) -> None:
        try:
            _user, token = create_machine_client(name, kind=kind, actor=None, scopes=scope)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(f"API client {name!r} ({kind}) created. Its token (shown only this once):")
        self.stdout.write(token)
        self.stderr.write("Send it as the header  Authorization: Token <token>")
