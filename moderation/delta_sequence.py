"""The console deltas' sequence: an epoch and a number, platform-wide, in Redis (moderation/events.py).

One hash in the Redis of REDIS_URL, the one the channel layer uses, so a Redis that lost the
counter lost the pub/sub messages in flight with it; the epoch, created with the counter by one
script, tells the consoles so (docs/console-protocol.md).
"""

from __future__ import annotations

import os
import secrets
import threading
from typing import NamedTuple

from django.conf import settings

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

# The delta sequence: one hash in the Redis of REDIS_URL, the one the channel layer uses, so a
# Redis that lost the counter lost the pub/sub messages in flight with it.
SEQUENCE_KEY = "liveward:console:delta-sequence"
# Reserve ARGV[1] numbers (0: none) and return the epoch and the last number given out; a missing
# hash is created with ARGV[2] as its epoch. One script, so no number is given out under a stale epoch.
_RESERVE_SCRIPT = """
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[2]
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', 0)
end
return {epoch, redis.call('HINCRBY', KEYS[1], 'seq', ARGV[1])}
"""
# Redis on the console's hot path answers in a millisecond; one that does not within this is down
# (the consumer reads the position on its database threads, which must not hang on it).
REDIS_TIMEOUT_SECONDS = 1.0


class Position(NamedTuple):
    """Where the delta sequence stands: its epoch and a number in it."""

    epoch: str
    seq: int


_sequence_lock = threading.Lock()
_sequence: tuple[int, redis.commands.core.Script] | None = None


def _reserve_script() -> redis.commands.core.Script:
    global _sequence
    with _sequence_lock:
        if _sequence is None or _sequence[0] != os.getpid():
            client = redis.Redis.from_url(
                settings.REDIS_URL,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                # One retry on a fresh connection: the pooled one is dead after a Redis restart.
                retry=Retry(NoBackoff(), 1),
            )
            _sequence = (os.getpid(), client.register_script(_RESERVE_SCRIPT))
        return _sequence[1]


def reserve(count: int) -> Position:
    """Reserve ``count`` consecutive numbers; return the epoch and the last of them."""
    epoch, last = _reserve_script()(keys=[SEQUENCE_KEY], args=[count, secrets.token_hex(8)])
    return Position(epoch.decode() if isinstance(epoch, bytes) else str(epoch), int(last))


def position() -> Position:
    """Return the epoch and the number of the last delta sent, platform-wide.

    A new epoch starts here if Redis lost the sequence. Raises redis' errors when Redis does not
    answer within a second: the caller (the consumer's hello and snapshot) then fails, and the
    console reconnects.
    """
    return reserve(0)


def ping() -> bool:
    """Whether Redis answers a PING within the timeout (raises redis' errors when it does not)."""
    return bool(_reserve_script().registered_client.ping())
