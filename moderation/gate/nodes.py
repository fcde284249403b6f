"""The gate's media-server nodes: who may call it, looked up per callback with a short cache."""

from __future__ import annotations

import dataclasses
import time

from moderation.models import MediaServer

# Positive node lookups are cached per process for a few seconds: the node check runs on every
# callback, and nodes change rarely. A new node is seen at once (misses are not cached); a disabled
# node or a changed secret takes effect within NODE_CACHE_SECONDS.
NODE_CACHE_SECONDS = 5.0
_node_cache: dict[tuple[str, str], tuple[float, MediaServer]] = {}


def authenticate_node(name: str, secret: str, kind: str) -> MediaServer | None:
    """Return the enabled node of this kind whose secret matches, or None."""
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
    return node if node.secret_matches(secret) else None


def with_fresh_node(request):  # a rules.PublishRequest (a frozen dataclass)
    """The request with its node read again (not from the cache); None if it is gone or its secret changed."""
    _node_cache.pop((request.node.kind, request.node.name), None)
    fresh = MediaServer.objects.filter(name=request.node.name, kind=request.node.kind, enabled=True).first()
    if fresh is None or fresh.secret_hash != request.node.secret_hash:
        return None
    return dataclasses.replace(request, node=fresh)


def forget_cached_nodes() -> None:
    """Drop the node cache (after a node is changed in this process, and between tests)."""
    _node_cache.clear()
