"""Re-encrypt every identity value and scan under the newest key of LIVEWARD_IDENTITY_KEY."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from moderation import actions
from moderation.identity_cipher import IdentityCipherError, current_key_id


class Command(BaseCommand):
    help = (
        "After putting a new key first in LIVEWARD_IDENTITY_KEY (the old ones after it), re-encrypt every "
        "identity value and file under it, a batch at a time. Safe to stop and run again; docs/deploy.md."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch", type=int, default=500, help="rows per transaction (default 500)")

    def handle(self, *args, **options) -> None:
        if not 1 <= options["batch"] <= 100_000:
            raise CommandError("--batch must be between 1 and 100000")
        try:
            counts = actions.rotate_identity_key(batch=options["batch"])
        except IdentityCipherError as error:
            raise CommandError(f"{error}: is every older key still listed in LIVEWARD_IDENTITY_KEY?") from None
        for name, count in counts.items():
            self.stdout.write(f"· {name}: {count} re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"identity at rest is under key {current_key_id()}"))
