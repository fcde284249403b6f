"""List the API clients with their tokens' scopes, state and last use; revoke a client's tokens."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.actions import machine_kind, revoke_client_tokens
from accounts.models import ApiToken, User
from accounts.roles import MACHINE_KINDS


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "never"


class Command(BaseCommand):
    help = "List the API clients, each token's prefix, scopes, state and last use; --revoke ends a client's tokens."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--revoke", metavar="CLIENT", help="revoke every token of this client now")

    def handle(self, *args, revoke: str | None, **options) -> None:
        if revoke:
            user = User.objects.filter(username=revoke).first()
            if user is None or machine_kind(user) is None:
                raise CommandError(f"no API client named {revoke!r}")
            count = revoke_client_tokens(user, actor=None)
            self.stdout.write(f"Revoked {count} token(s) of {revoke!r}.")
            return
        now = timezone.now()
        clients = (
            User.objects.filter(groups__name__in=MACHINE_KINDS)
            .prefetch_related("groups")
            .distinct()
            .order_by("username")
        )
        tokens: dict[int, list[ApiToken]] = {}
        for token in ApiToken.objects.filter(client__in=clients).order_by("-created_at", "-id"):
            tokens.setdefault(token.client_id, []).append(token)
        for client in clients:
            kind = machine_kind(client) or "?"
            state = "" if client.is_active else " (inactive)"
            self.stdout.write(f"{client.username}  [{kind}]{state}")
            for token in tokens.get(client.pk, []):
                if token.revoked_at is not None:
                    status = f"revoked {_when(token.revoked_at)}"
                elif not token.is_usable(now):
                    status = f"expired {_when(token.expires_at)}"
                elif token.expires_at is not None:
                    status = f"works until {_when(token.expires_at)}"
                else:
                    status = "active"
                self.stdout.write(
                    f"  {token.prefix}…  {status:<28} last used {_when(token.last_used_at):<16}  "
                    f"scopes: {', '.join(token.scopes) or '-'}"
                )
            if client.pk not in tokens:
                self.stdout.write("  (no token)")
