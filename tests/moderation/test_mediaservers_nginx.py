"""The nginx-rtmp adapter and the gate, against Debian's nginx with the RTMP module and ffmpeg.

What nginx-rtmp 1.2.2 (Debian's libnginx-mod-rtmp, reporting nginx_rtmp_version 1.1.4) actually
posts, form-encoded, with notify_method post (observed with this fixture):

    on_publish       call=publish        app, flashver, swfurl, tcurl, pageurl, addr, clientid, name, type
    on_update        call=update_publish same as publish minus type, plus time (s) and timestamp (ms)
    on_publish_done  call=publish_done   same as publish minus type

``test_gate_accepts_the_call_values_nginx_sends`` checks that the gate protocols accept these, and the
end-to-end tests check that nginx acts on the answers (403 on publish refuses, 403 on update drops).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

import pytest

from moderation import mediaservers
from moderation.gate.protocols import NGINX_HOOKS
from moderation.mediaservers import DropResult, MediaServerBadAnswer, MediaServerHTTPError, MediaServerUnreachable
from moderation.mediaservers.nginx_rtmp import parse_stat
from moderation.models import GateDecision, MediaServer, Stream, StreamKey, hash_stream_key
from tests.media import (
    NginxRtmp,
    nginx_rtmp_fixture,  # noqa: F401 (the nginx_rtmp fixture)
    wait_until,
)
from tests.srs_standin import srs_standin_fixture  # noqa: F401 (the srs_standin fixture)

media_server = pytest.mark.media_server

OBSERVED_CALLS = {"on_publish": "publish", "on_update": "update_publish", "on_publish_done": "publish_done"}


def live_stream_of(key: StreamKey) -> Stream | None:
    return Stream.objects.live().filter(key=key).first()


def go_live(nginx_rtmp: NginxRtmp, key: StreamKey):
    """Publish under ``key`` and wait until the gate opened its stream and nginx lists it."""
    publish = nginx_rtmp.publish(key.issued_key)
    stream = wait_until(lambda: live_stream_of(key), message=f"a live stream; ffmpeg said {publish.stderr()!r}")
    adapter = mediaservers.adapter_for(nginx_rtmp.node)
    wait_until(
        lambda: [s for s in adapter.live_streams() if s.name == key.issued_key], message="nginx to list the stream"
    )
    return publish, stream


@media_server
def test_allowed_key_goes_live_and_the_adapter_lists_it(nginx_rtmp, stream_key):
    publish, stream = go_live(nginx_rtmp, stream_key)

    assert (stream.node, stream.app, stream.category) == (nginx_rtmp.node, "live", stream_key.category)
    assert stream.client_id.isdigit()
    assert publish.running
    [session] = mediaservers.adapter_for(nginx_rtmp.node).live_streams()
    assert (session.app, session.name, session.client_id) == ("live", stream_key.issued_key, stream.client_id)
    assert session.addr == "127.0.0.1" and session.viewers == 0
    assert session.uptime_seconds is not None and session.uptime_seconds >= 0
    without_slash = MediaServer(name="x", kind=MediaServer.Kind.NGINX_RTMP, control_url=nginx_rtmp.control_url[:-1])
    assert [s.client_id for s in mediaservers.adapter_for(without_slash).live_streams()] == [stream.client_id]
    assert GateDecision.objects.filter(stream=stream, allowed=True, reason=GateDecision.Reason.ALLOWED).exists()


def assert_refused_at_connect(nginx_rtmp: NginxRtmp, key_name: str, reason: str) -> None:
    publish = nginx_rtmp.publish(key_name)
    assert publish.wait(timeout=10) != 0, publish.stderr()
    assert not Stream.objects.exists()
    decision = GateDecision.objects.get(key_hash=hash_stream_key(key_name))
    assert (decision.allowed, decision.reason, decision.node) == (False, reason, nginx_rtmp.node)
    assert mediaservers.adapter_for(nginx_rtmp.node).live_streams() == []


@media_server
def test_unknown_key_is_refused_at_connect(nginx_rtmp, stream_key):
    assert_refused_at_connect(nginx_rtmp, "no-such-key", GateDecision.Reason.UNKNOWN_KEY)


@media_server
def test_key_in_cooling_off_is_refused_at_connect(nginx_rtmp, stream_key):
    # No action puts a key in cooling-off yet (blocking will); set the field as a block would.
    StreamKey.objects.filter(pk=stream_key.pk).update(denied_until=timezone.now() + timedelta(minutes=10))
    assert_refused_at_connect(nginx_rtmp, stream_key.issued_key, GateDecision.Reason.KEY_COOLING_OFF)


@media_server
def test_drop_ends_the_publisher_and_publish_done_closes_the_stream(nginx_rtmp, stream_key):
    publish, stream = go_live(nginx_rtmp, stream_key)

    result = mediaservers.adapter_for(nginx_rtmp.node).drop(stream)

    assert result == DropResult(dropped=1)
    assert publish.wait(timeout=10) != 0
    wait_until(lambda: not live_stream_of(stream_key), message="on_publish_done to close the stream")
    stream.refresh_from_db()
    assert stream.ended_at is not None and stream.end_reason == Stream.EndReason.UNPUBLISHED
    assert mediaservers.adapter_for(nginx_rtmp.node).live_streams() == []


@media_server
def test_drop_of_a_stream_no_longer_publishing_drops_nothing(nginx_rtmp, stream_key):
    publish, stream = go_live(nginx_rtmp, stream_key)
    adapter = mediaservers.adapter_for(nginx_rtmp.node)
    assert adapter.drop(stream).dropped == 1
    publish.wait()

    assert adapter.drop(stream) == DropResult(dropped=0)


@media_server
def test_drop_names_the_session_and_leaves_another_client_of_the_key_alone(nginx_rtmp, stream_key):
    publish, stream = go_live(nginx_rtmp, stream_key)
    adapter = mediaservers.adapter_for(nginx_rtmp.node)
    # The same key and app, but another connection's number (a session the gate replaced, say).
    other_session = Stream(key=stream_key, app="live", client_id=str(int(stream.client_id) + 1000), node=stream.node)

    assert adapter.drop(other_session) == DropResult(dropped=0)
    assert publish.running
    assert [session.client_id for session in adapter.live_streams()] == [stream.client_id]
    assert adapter.drop(stream) == DropResult(dropped=1)
    assert publish.wait(timeout=10) != 0


@media_server
def test_update_denial_makes_nginx_drop_the_publisher(nginx_rtmp, stream_key):
    publish, stream = go_live(nginx_rtmp, stream_key)
    wait_until(
        lambda: Stream.objects.filter(pk=stream.pk, last_update_at__isnull=False).exists(),
        message="a first on_update to be allowed",
    )

    StreamKey.objects.filter(pk=stream_key.pk).update(denied_until=timezone.now() + timedelta(minutes=10))

    assert publish.wait(timeout=10) != 0
    decision = GateDecision.objects.get(hook=GateDecision.Hook.UPDATE)
    assert (decision.allowed, decision.reason, decision.stream) == (False, GateDecision.Reason.KEY_COOLING_OFF, stream)
    wait_until(lambda: not live_stream_of(stream_key), message="the stream to close")
    stream.refresh_from_db()
    assert stream.end_reason == Stream.EndReason.GATE_DENIED


@media_server
def test_gate_accepts_the_call_values_nginx_sends(nginx_rtmp, stream_key):
    for hook, call in OBSERVED_CALLS.items():
        assert call in NGINX_HOOKS[hook]
    # And nginx really sends them: every callback of a whole session passed the gate's call check.
    _publish, stream = go_live(nginx_rtmp, stream_key)
    wait_until(
        lambda: Stream.objects.filter(pk=stream.pk, last_update_at__isnull=False).exists(),
        message="an on_update to be accepted",
    )
    mediaservers.adapter_for(nginx_rtmp.node).drop(stream)
    wait_until(lambda: not live_stream_of(stream_key), message="on_publish_done to be accepted")
    assert not GateDecision.objects.filter(reason=GateDecision.Reason.BAD_REQUEST).exists()
    assert "notify: update" in nginx_rtmp.error_log


@media_server
def test_adapter_against_a_stopped_nginx_raises_unreachable(nginx_rtmp, stream_key):
    _publish, stream = go_live(nginx_rtmp, stream_key)
    nginx_rtmp.stop()
    adapter = mediaservers.adapter_for(nginx_rtmp.node)

    with pytest.raises(MediaServerUnreachable, match="ConnectionRefusedError"):
        adapter.live_streams()
    with pytest.raises(MediaServerUnreachable, match="ConnectionRefusedError"):
        adapter.drop(stream)


# --- answers nginx would never give (no nginx needed) ------------------------------------------


@pytest.mark.parametrize("body", [b"", b"<html>bad gateway", b"<html><body>hello</body></html>", b"\xff\xfe"])
def test_a_stat_page_that_is_not_rtmp_stat_raises_bad_answer(body):
    with pytest.raises(MediaServerBadAnswer):
        parse_stat(body)


def test_a_stat_page_with_a_nameless_publisher_raises_bad_answer():
    body = b"<rtmp><server><application><name>live</name><live><stream><name>k</name>"
    body += b"<client><address>127.0.0.1</address><publishing/></client></stream></live></application></server></rtmp>"
    with pytest.raises(MediaServerBadAnswer):
        parse_stat(body)


def test_a_stat_page_without_publishers_lists_nothing():
    body = b"<rtmp><server><application><name>live</name><live><nclients>0</nclients></live>"
    body += b"</application></server></rtmp>"
    assert parse_stat(body) == []


def test_a_control_port_that_is_not_nginx_raises(srs_standin, stream_key):
    # The SRS stand-in answers 404 to /control and /stat, as a misconfigured location would.
    node = MediaServer(name="edge-x", kind=MediaServer.Kind.NGINX_RTMP, control_url=srs_standin.url)
    adapter = mediaservers.adapter_for(node)
    with pytest.raises(MediaServerHTTPError) as raised:
        adapter.live_streams()
    assert raised.value.status == 404
    with pytest.raises(MediaServerHTTPError):
        adapter.drop(Stream(key=stream_key, app="live", client_id="1", node=node))
