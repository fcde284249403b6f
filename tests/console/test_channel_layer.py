"""Console events stay within their Redis database, though Redis pub/sub itself ignores databases."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings

import pytest
from channels_redis.pubsub import RedisPubSubChannelLayer

from console.settings.base import _redis_database


def on_database(url: str, number: int) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return urlunsplit(parts._replace(query=urlencode({"db": number})))
    return urlunsplit(parts._replace(path=f"/{number}"))


def layer_for(url: str) -> RedisPubSubChannelLayer:
    return RedisPubSubChannelLayer(hosts=[url], prefix=f"liveward-db{_redis_database(url)}")


@pytest.mark.parametrize(
    ("url", "number"),
    [
        ("redis://127.0.0.1:6379/3", "3"),
        ("redis://127.0.0.1:6379", "0"),
        ("rediss://user:pw@example.com:6380/12", "12"),
        ("unix:///var/run/redis.sock?db=5", "5"),
        ("unix:///var/run/redis.sock", "0"),
    ],
)
def test_the_database_number_is_read_from_the_url(url, number):
    assert _redis_database(url) == number


def test_the_console_layer_is_prefixed_with_its_database():
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    assert config["prefix"] == f"liveward-db{_redis_database(settings.REDIS_URL)}"


async def test_a_group_message_reaches_its_database_only():
    here, elsewhere = on_database(settings.REDIS_URL, 7), on_database(settings.REDIS_URL, 8)
    listener, same, other = layer_for(here), layer_for(here), layer_for(elsewhere)
    try:
        channel = await listener.new_channel()
        await listener.group_add("console-queue", channel)
        await asyncio.sleep(0.2)  # the subscription is in place
        await other.group_send("console-queue", {"type": "console.delta", "from": "elsewhere"})
        await same.group_send("console-queue", {"type": "console.delta", "from": "here"})
        received = await asyncio.wait_for(listener.receive(channel), timeout=5)
        assert received["from"] == "here"
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(listener.receive(channel), timeout=0.5)
    finally:
        for layer in (listener, same, other):
            await layer.flush()
