"""Who may call the gate as a media-server node: its address allow-list (the secret is in setup)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from django.db import transaction

from accounts.actions import log_staff_action
from accounts.models import User
from moderation.errors import ModerationError
from moderation.models import MediaServer

# More networks than this is a mistake, not an allow-list (each callback checks them all).
MAX_NETWORKS = 32


def normalise_networks(networks: Iterable[str]) -> list[str]:
    """Return the networks in CIDR form, deduplicated in order; ModerationError ``bad_field`` if one is not."""
    normalised: list[str] = []
    for entry in networks:
        text = str(entry).strip()
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ModerationError(f"{text[:60]!r} is not an IP address or network", code="bad_field") from None
        if str(network) not in normalised:
            normalised.append(str(network))
    if len(normalised) > MAX_NETWORKS:
        raise ModerationError(f"at most {MAX_NETWORKS} networks per node", code="bad_field")
    return normalised


def set_media_server_networks(node: MediaServer, *, networks: Iterable[str], actor: User | None) -> MediaServer:
    """Set the addresses a node's callbacks may come from (an empty list: any address with the secret)."""
    normalised = normalise_networks(networks)
    with transaction.atomic():
        node = MediaServer.objects.select_for_update().get(pk=node.pk)
        previous = list(node.allowed_networks or [])
        node.allowed_networks = normalised
        node.save(update_fields=["allowed_networks"])
        log_staff_action(
            actor, "media_server.set_networks", target=node, data={"networks": normalised, "previous": previous}
        )
    return node
