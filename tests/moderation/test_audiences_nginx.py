"""Viewer counts from Debian's nginx-rtmp: a player watching a stream is counted by the beat's poll."""

from __future__ import annotations

import subprocess

import pytest

from moderation.models import Stream
from moderation.tasks.audiences import poll_viewer_counts
from tests.media import nginx_rtmp_fixture, wait_until  # noqa: F401 (the nginx_rtmp fixture)

pytestmark = pytest.mark.media_server


def test_a_player_on_nginx_is_counted_by_the_poll(nginx_rtmp, stream_key):
    nginx_rtmp.publish(stream_key.issued_key)
    stream = wait_until(lambda: Stream.objects.live().filter(key=stream_key).first(), message="a live stream")
    assert poll_viewer_counts() == {nginx_rtmp.node.name: 0}  # nobody watching yet: nothing changed
    player = subprocess.Popen(
        [nginx_rtmp.ffmpeg, "-loglevel", "error", "-i", nginx_rtmp.rtmp_url(stream_key.issued_key), "-f", "null", "-"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(
            lambda: poll_viewer_counts() and Stream.objects.get(pk=stream.pk).viewers == 1,
            message="the player to be counted",
        )
    finally:
        player.kill()
        player.wait(timeout=10)
    wait_until(
        lambda: poll_viewer_counts() is not None and Stream.objects.get(pk=stream.pk).viewers == 0,
        message="the player to leave the count",
    )
