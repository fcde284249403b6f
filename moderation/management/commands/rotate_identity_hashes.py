"""Wrap the stored identity hashes with the newest key in LIVEWARD_BLACKLIST_HASH_KEY_ROTATIONS."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from moderation import actions


class Command(BaseCommand):
    help = (
        "After appending a key to LIVEWARD_BLACKLIST_HASH_KEY_ROTATIONS (console stopped), wrap every stored "
        "identity hash with it: HMAC(new key, stored hash). Safe to run twice; docs/blacklist.md."
    )

    def handle(self, *args, **options) -> None:
        try:
            counts = actions.rotate_identity_hashes()
        except actions.ModerationError as error:
            raise CommandError(str(error)) from None
        for name, count in counts.items():
            self.stdout.write(f"· {name}: {count} rows")
        self.stdout.write(self.style.SUCCESS("identity hashes wrapped with the new key"))
