"""Show or change who may call the gate as a media-server node: its address allow-list, its secret."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from moderation import actions
from moderation.models import MediaServer


class Command(BaseCommand):
    help = (
        "Show a media-server node's callback allow-list, replace it (--allow-from, repeatable; --any-address "
        "to clear it), set where the stream page plays its streams (--watch-url), or give the node a new "
        "callback secret (--rotate-secret, printed once)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="the node's name, e.g. edge-1")
        change = parser.add_mutually_exclusive_group()
        change.add_argument(
            "--allow-from",
            action="append",
            default=None,
            metavar="ADDRESS_OR_NETWORK",
            help="an address or CIDR network the node's callbacks may come from; replaces the list",
        )
        change.add_argument("--any-address", action="store_true", help="accept the node's secret from any address")
        parser.add_argument(
            "--watch-url",
            default=None,
            help="the HLS or HTTP-FLV URL template the stream page plays from ('' turns the player off)",
        )
        parser.add_argument("--rotate-secret", action="store_true", help="issue a new callback secret (shown once)")

    def handle(
        self, *args, name: str, allow_from, any_address: bool, watch_url: str | None, rotate_secret: bool, **options
    ) -> None:
        node = MediaServer.objects.filter(name=name).first()
        if node is None:
            raise CommandError(f"no media-server node named {name!r}")
        if allow_from is not None or any_address:
            try:
                node = actions.set_media_server_networks(node, networks=allow_from or [], actor=None)
            except actions.ModerationError as exc:
                raise CommandError(str(exc)) from exc
        if watch_url is not None:
            try:
                node = actions.set_media_server_watch_url(node, watch_url=watch_url, actor=None)
            except actions.ModerationError as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(f"{node.name} ({node.get_kind_display()}, {'enabled' if node.enabled else 'disabled'})")
        self.stdout.write(f"Callbacks accepted from: {', '.join(node.allowed_networks) or 'any address'}")
        self.stdout.write(f"Stream page player: {node.watch_url or 'none'}")
        if rotate_secret:
            secret = actions.rotate_media_server_secret(node, actor=None)
            self.stdout.write("New secret (shown now and never again; the old one stops working at once):")
            self.stdout.write(f"  {secret}")
