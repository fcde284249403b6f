"""The demo shows pictures: the simulator serves a frame per stream, the console's own grabber takes it."""

from __future__ import annotations

import shutil

import pytest

from moderation import actions, frame_grabber
from moderation.models import Stream
from moderation.simulator import Session, Simulator

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")


@pytest.fixture
def simulator():
    node = Simulator(node="sim-1", secret="x" * 16, gate_url="http://127.0.0.1:9/", keys=[], control_port=0)
    node.log = lambda line: None
    node._start_control_server()
    yield node
    node.sessions.clear()  # nothing to end at a gate
    node.shutdown()


@pytest.mark.django_db
def test_a_simulated_stream_gets_a_snapshot_through_the_frame_grabber(simulator, stream_key, entertainment):
    node, _secret = actions.register_media_server(
        "sim-1",
        kind="nginx_rtmp",
        control_url=f"http://127.0.0.1:{simulator.control_port}/",
        play_url=f"http://127.0.0.1:{simulator.control_port}/frames",
    )
    stream = actions.open_stream(
        stream_key,
        published_name=stream_key.issued_key,
        node=node,
        app="live",
        client_id="1",
        addr="",
        title="深夜食堂",
    )
    simulator.sessions[stream_key.issued_key] = Session(key=stream_key.issued_key, title="深夜食堂", client_id=1)

    snapshot = frame_grabber.capture_snapshot(stream)
    assert snapshot is not None and snapshot.image.read().startswith(b"\xff\xd8")
    assert Stream.objects.get(pk=stream.pk).latest_snapshot_id == snapshot.pk


def test_an_unknown_stream_has_no_picture(simulator):
    with pytest.raises(frame_grabber.FrameGrabFailed):
        frame_grabber.grab_frame(f"http://127.0.0.1:{simulator.control_port}/frames/live/nobody", timeout=10)
