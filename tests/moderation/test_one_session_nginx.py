"""One key, one session, on two real nginx-rtmp nodes and ffmpeg: a new publish cuts the old, one block cuts all."""

from __future__ import annotations

import signal

import pytest

from moderation import actions, mediaservers
from moderation.models import CreditEvent, ModerationAction, ReasonCode, Stream
from moderation.tasks.cuts import retry_cut
from tests.media import (
    NginxRtmp,
    nginx_rtmp_pair_fixture,  # noqa: F401 (the nginx_rtmp_pair fixture)
    wait_until,
)
from tests.moderation.test_block_nginx import freeze
from tests.moderation.test_mediaservers_nginx import go_live

pytestmark = pytest.mark.media_server
Kind = ModerationAction.Kind
MediaStatus = ModerationAction.MediaStatus


def go_live_again(node: NginxRtmp, key) -> tuple:
    """Publish the key on another node and wait until the gate has made that session the key's live one."""
    publish = node.publish(key.issued_key)
    stream = wait_until(
        lambda: Stream.objects.live().filter(key=key, node=node.node).first(),
        message=f"the second session to go live; ffmpeg said {publish.stderr()!r}",
    )
    return publish, stream


def publishers_on(node: NginxRtmp) -> list[str]:
    return [session.client_id for session in mediaservers.adapter_for(node.node).live_streams()]


def test_a_publish_on_a_second_node_cuts_the_first_and_one_block_cuts_the_key(nginx_rtmp_pair, stream_key, patroller):
    first_node, second_node = nginx_rtmp_pair
    first, first_stream = go_live(first_node, stream_key)

    second, second_stream = go_live_again(second_node, stream_key)

    # The gate ended the first session and cut it at its own node, by its client id.
    assert first.wait(timeout=10) != 0, "the replaced session stayed on air"
    replaced = wait_until(
        lambda: (
            ModerationAction.objects.filter(kind=Kind.REPLACE, stream=first_stream)
            .exclude(media_status=MediaStatus.PENDING)
            .first()
        ),
        message="the replacement's cut to be recorded",
    )
    assert (replaced.media_status, replaced.actor) == (MediaStatus.CONFIRMED, None)
    first_stream.refresh_from_db()
    assert first_stream.end_reason == Stream.EndReason.REPLACED
    assert second.running and publishers_on(first_node) == []
    wait_until(lambda: publishers_on(second_node) == [second_stream.client_id], message="nginx 2 to list it")

    block = actions.block_stream(second_stream, actor=patroller, reason=ReasonCode.PORNOGRAPHY, request_id="b-1")
    again = actions.block_stream(second_stream, actor=patroller, reason=ReasonCode.PORNOGRAPHY, request_id="b-2")

    assert again.pk == block.pk and again.replayed
    assert second.wait(timeout=10) != 0, "the blocked session stayed on air"
    assert ModerationAction.objects.filter(kind=Kind.BLOCK).count() == 1
    assert CreditEvent.objects.filter(kind=CreditEvent.Kind.ACTION).count() == 1  # the block's; a replacement is free
    assert not Stream.objects.live().filter(key=stream_key).exists()
    assert publishers_on(first_node) == [] and publishers_on(second_node) == []


def test_one_block_cuts_both_nodes_while_the_replaced_session_is_still_on_air(
    nginx_rtmp_pair, stream_key, patroller, settings
):
    settings.LIVEWARD_MEDIA_SERVER_TIMEOUT = 1
    first_node, second_node = nginx_rtmp_pair
    first, first_stream = go_live(first_node, stream_key)
    freeze(first_node, signal.SIGSTOP)  # the first node hangs: the replacement cannot cut there
    try:
        second, second_stream = go_live_again(second_node, stream_key)
        replaced = wait_until(
            lambda: ModerationAction.objects.filter(kind=Kind.REPLACE, stream=first_stream, media_attempts=1).first(),
            message="the replacement's first drop to time out",
        )
        assert replaced.media_status == MediaStatus.PENDING

        block = actions.block_stream(second_stream, actor=patroller, reason=ReasonCode.FRAUD, request_id="b-1")

        assert second.wait(timeout=10) != 0, "the blocked session stayed on air"
        block.refresh_from_db()
        # The block tried the replaced session on the hung node too, and keeps trying.
        assert block.media_status == MediaStatus.PENDING and f"{first_node.node.name}:" in block.media_last_error
        assert first.running
    finally:
        freeze(first_node, signal.SIGCONT)

    assert retry_cut.apply(args=[block.pk]).get() in (MediaStatus.CONFIRMED, MediaStatus.GONE)
    assert first.wait(timeout=10) != 0, "the replaced session stayed on air after the block"
    assert ModerationAction.objects.filter(kind=Kind.BLOCK).count() == 1
    assert CreditEvent.objects.filter(kind=CreditEvent.Kind.ACTION).count() == 1
    wait_until(lambda: publishers_on(first_node) == [] and publishers_on(second_node) == [], message="no publisher")
    assert not Stream.objects.live().filter(key=stream_key).exists()
