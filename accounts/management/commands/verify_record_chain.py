"""Verify the hash chains of the append-only records and name the first broken row of each."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts import record_chain


class Command(BaseCommand):
    help = "Verify the hash chains of the staff action log and the moderation records (docs/security.md)."

    def handle(self, *args, **options) -> None:
        broken = []
        for model in record_chain.chained_models():
            report = record_chain.verify_chain(model)
            if report.intact:
                self.stdout.write(f"{report.chain}: {report.rows} rows intact, head {report.head}")
            else:
                broken.append(report.chain)
                self.stdout.write(
                    f"{report.chain}: BROKEN at row {report.broken_id} ({report.problem}); "
                    f"{report.rows} rows before it verify"
                )
        if broken:
            raise CommandError(f"broken record chain: {', '.join(broken)}")
