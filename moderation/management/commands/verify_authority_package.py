"""Verify a package of a report to the authorities as the regulator would: with the public key alone."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from moderation import authority_package


class Command(BaseCommand):
    help = (
        "Check a report-to-the-authorities package: the manifest's Ed25519 signature under the public key "
        "(--public-key PEM; default: this console's signing key) and every file's SHA-256 and size. "
        "Exits non-zero when it does not verify; docs/reports.md."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("package", help="the downloaded zip")
        parser.add_argument("--public-key", help="the public key in PEM (default: this console's)")

    def handle(self, *args, **options) -> None:
        try:
            package = Path(options["package"]).read_bytes()
            public_key = Path(options["public_key"]).read_bytes() if options["public_key"] else None
        except OSError as error:
            raise CommandError(f"cannot read: {error}") from None
        try:
            manifest = authority_package.verify_package(package, public_key=public_key)
        except authority_package.PackageInvalid as error:
            raise CommandError(f"the package does NOT verify: {error}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"verified: {manifest.get('reference')} · {len(manifest['files'])} files · "
                f"{manifest.get('algorithm')} key {manifest.get('key_id')}"
            )
        )
