"""Register a media-server node and print its callback URLs with the secret (shown once)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import URLValidator, validate_slug

from moderation import actions
from moderation.models import MediaServer


class Command(BaseCommand):
    help = "Register a media-server node (nginx-rtmp or SRS); prints its gate callback URLs once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="node name, a slug such as edge-1")
        parser.add_argument("--kind", required=True, choices=MediaServer.Kind.values)
        parser.add_argument("--control-url", required=True, help="base URL of the node's control/API port")
        parser.add_argument("--play-url", default="", help="RTMP base URL to pull streams for snapshots")
        parser.add_argument(
            "--watch-url",
            default="",
            help="HLS (…/{key}.m3u8) or HTTP-FLV (…/{app}/{key}.flv) URL template for the stream page's player",
        )
        parser.add_argument("--console-url", default="http://127.0.0.1:8000", help="how the node reaches the gate")
        parser.add_argument(
            "--allow-from",
            action="append",
            default=[],
            metavar="ADDRESS_OR_NETWORK",
            help="an address or CIDR network the node's callbacks may come from (repeat; none: any address)",
        )

    def handle(
        self,
        *args,
        name: str,
        kind: str,
        control_url: str,
        play_url: str,
        watch_url: str,
        console_url: str,
        allow_from,
        **options,
    ):
        try:
            validate_slug(name)
            URLValidator(schemes=["http", "https"])(control_url)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        if MediaServer.objects.filter(name=name).exists():
            raise CommandError(f"a node named {name!r} exists already")
        try:
            node, secret = actions.register_media_server(
                name,
                kind=kind,
                control_url=control_url if control_url.endswith("/") else control_url + "/",
                play_url=play_url,
                watch_url=watch_url,
                allowed_networks=allow_from,
            )
        except actions.ModerationError as exc:
            raise CommandError(str(exc)) from exc
        base = console_url.rstrip("/")
        self.stdout.write(self.style.SUCCESS(f"Registered {node.name} ({node.get_kind_display()})."))
        self.stdout.write(f"Callbacks accepted from: {', '.join(node.allowed_networks) or 'any address'}")
        self.stdout.write("Its secret is shown now and never again:")
        if kind == MediaServer.Kind.NGINX_RTMP:
            for hook in ("on_publish", "on_publish_done", "on_update"):
                self.stdout.write(f"  {hook:<16} {base}/gate/nginx-rtmp/{node.name}/{secret}/{hook}")
        else:
            self.stdout.write(f"  on_publish / on_unpublish  {base}/gate/srs/{node.name}/{secret}/")
