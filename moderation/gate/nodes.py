"""The gate's media-server nodes: who may call it, looked up per callback with a short cache."""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import time

from moderation.models import MediaServer

# Positive node lookups are cached per process for a few seconds: the node check runs on every
# callback, and nodes change rarely. A new node is seen at once (misses are not cached); a disabled
# node or a changed secret takes effect within NODE_CACHE_SECONDS.
NODE_CACHE_SECONDS = 5.0
_node_cache: dict[tuple[str, str], tuple[float, MediaServer]] = {}


# What authenticate_node answers for a node whose secret matches but whose caller is not allowed.
ADDRESS_REFUSED = "address_refused"


@functools.lru_cache(maxsize=256)
def _networks(allowed: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] | None:
    """Parse an allow-list once per distinct list; None if any entry is not a network (fail closed)."""
    try:
        return tuple(ipaddress.ip_network(network, strict=False) for network in allowed)
    except (TypeError, ValueError):
        return None


def node_admits_address(node: MediaServer, address: str) -> bool:
    """Tell whether the node's allow-list admits a callback from ``address`` (an empty list admits any).

    Fails closed: an address that is not an IP, or an allow-list that does not parse, admits nothing.
    """
    allowed = node.allowed_networks or []
    if not allowed:
        return True
    if not isinstance(allowed, list):
        return False
    networks = _networks(tuple(str(network) for network in allowed))
    try:
        caller = ipaddress.ip_address(address)
    except ValueError:
        return False
    if networks is None:
        return False
    if isinstance(caller, ipaddress.IPv6Address) and caller.ipv4_mapped is not None:
        caller = caller.ipv4_mapped  # a dual-stack listener reports IPv4 callers as ::ffff:a.b.c.d
    return any(caller in network for network in networks)


def authenticate_node(name: str, secret: str, kind: str, address: str = "") -> MediaServer | str | None:
    """Return the enabled node of this kind whose secret matches and whose allow-list admits the caller.

    None for no such node or a wrong secret; ADDRESS_REFUSED for the right secret from an address the
    node's allow-list does not hold (an address not given is held by no allow-list: fails closed).
    """
    cache_key = (kind, name)
    cached = _node_cache.get(cache_key)
    if cached is not None and cached[0] > time.monotonic():
        node = cached[1]
    else:
        node = MediaServer.objects.filter(name=name, kind=kind, enabled=True).first()
        if node is None:
            _node_cache.pop(cache_key, None)
            return None
        _node_cache[cache_key] = (time.monotonic() + NODE_CACHE_SECONDS, node)
    if not node.secret_matches(secret):
        return None
    return node if node_admits_address(node, address) else ADDRESS_REFUSED


def with_fresh_node(request):  # a rules.PublishRequest (a frozen dataclass)
    """The request with its node read again (not from the cache); None if it is gone or its secret or
    allow-list changed."""
    _node_cache.pop((request.node.kind, request.node.name), None)
    fresh = MediaServer.objects.filter(name=request.node.name, kind=request.node.kind, enabled=True).first()
    if (
        fresh is None
        or fresh.secret_hash != request.node.secret_hash
        or fresh.allowed_networks != request.node.allowed_networks
    ):
        return None
    return dataclasses.replace(request, node=fresh)


def forget_cached_nodes() -> None:
    """Drop the node cache (after a node is changed in this process, and between tests)."""
    _node_cache.clear()
