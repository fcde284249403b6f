"""The block path on the real thing: nginx-rtmp, ffmpeg, the gate, the drop, and a node that is down."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from moderation import actions
from moderation.models import ModerationAction, ReasonCode, Stream
from moderation.tasks.cuts import retry_cut
from tests.media import (
    nginx_rtmp_fixture,  # noqa: F401 (the nginx_rtmp fixture)
    wait_until,
)
from tests.moderation.test_mediaservers_nginx import go_live

pytestmark = pytest.mark.media_server
MediaStatus = ModerationAction.MediaStatus


def test_block_cuts_the_publisher_and_the_key_cannot_come_back(nginx_rtmp, stream_key, patroller):
    publish, stream = go_live(nginx_rtmp, stream_key)

    action = actions.block_stream(stream, actor=patroller, reason=ReasonCode.VIOLENCE_TERROR, request_id="b-1")

    # The drop ran on commit, before block_stream returned.
    assert "media_confirmed" in action.stamps
    action.refresh_from_db()
    assert action.media_status == MediaStatus.CONFIRMED and action.media_confirmed_at is not None
    assert publish.wait(timeout=10) != 0, "ffmpeg's connection was not cut"
    stream.refresh_from_db()
    assert stream.ended_at is not None and stream.end_reason == Stream.EndReason.CUT

    again = nginx_rtmp.publish(stream_key.issued_key)
    assert again.wait(timeout=10) != 0, "the blocked key was let back in"
    assert not Stream.objects.live().filter(key=stream_key).exists()


def freeze(nginx_rtmp, signal_number: int) -> None:
    """Stop (SIGSTOP) or continue (SIGCONT) nginx's master and workers: a hung media server."""
    pids = [nginx_rtmp.process.pid]
    children = subprocess.run(["pgrep", "-P", str(nginx_rtmp.process.pid)], capture_output=True, text=True)
    pids += [int(pid) for pid in children.stdout.split()]
    for pid in pids:
        os.kill(pid, signal_number)


def test_a_hung_node_leaves_the_cut_pending_until_the_retry_confirms(nginx_rtmp, stream_key, patroller, settings):
    settings.LIVEWARD_MEDIA_SERVER_TIMEOUT = 1
    publish, stream = go_live(nginx_rtmp, stream_key)
    freeze(nginx_rtmp, signal.SIGSTOP)
    try:
        action = actions.block_stream(stream, actor=patroller, reason=ReasonCode.FRAUD, request_id="b-2")
        action.refresh_from_db()
        assert action.media_status == MediaStatus.PENDING, "a hung node cannot have confirmed"
        assert action.media_attempts == 1 and action.media_last_error
        assert "media_confirmed" not in action.stamps
        # Meanwhile the gate refuses the key: the stream cannot come back while the cut is pending.
        from moderation.gate import rules

        request = rules.PublishRequest(node=nginx_rtmp.node, key_name=stream_key.issued_key, app="live", client_id="x")
        assert not rules.decide_publish(request).allowed
    finally:
        freeze(nginx_rtmp, signal.SIGCONT)

    # The node, once thawed, may still serve the drop request that timed out: then the retry finds
    # the publisher gone. Either way the cut is confirmed now, and ffmpeg's connection is closed.
    assert retry_cut.apply(args=[action.pk]).get() in (MediaStatus.CONFIRMED, MediaStatus.GONE)
    action.refresh_from_db()
    assert action.media_status in (MediaStatus.CONFIRMED, MediaStatus.GONE) and action.media_attempts == 2
    assert publish.wait(timeout=10) != 0, "the retry did not cut ffmpeg"
    stream.refresh_from_db()
    assert stream.end_reason == Stream.EndReason.CUT
    wait_until(lambda: not Stream.objects.live().filter(key=stream_key).exists(), message="no live stream")
