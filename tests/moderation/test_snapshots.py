"""Snapshots: ffmpeg grabs from the real nginx-rtmp, failures that record nothing, the beat scheduler."""

from __future__ import annotations

import hashlib
import socket
import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

import pytest

from moderation import actions, credit_policy, events, frame_grabber, mediaservers, queries
from moderation.models import MediaServer, Snapshot, Stream
from moderation.tasks.snapshots import capture_stream_snapshot, schedule_due_snapshots
from tests.media import (
    NginxRtmp,
    free_port,
    nginx_rtmp_fixture,  # noqa: F401 (the nginx_rtmp fixture)
    wait_until,
)

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def sent_events(monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr(events, "stream_updated", lambda stream_id: sent.append(stream_id))
    return sent


def open_on(node: MediaServer, key, client_id: str = "1") -> Stream:
    return actions.open_stream(
        key, published_name=key.issued_key, node=node, app="live", client_id=client_id, addr="", title=""
    )


def node_playing_from(name: str, play_url: str) -> MediaServer:
    node, _secret = actions.register_media_server(
        name, kind=MediaServer.Kind.NGINX_RTMP, control_url="http://127.0.0.1:9/", secret="s" * 24
    )
    return actions.set_media_server_play_url(node, play_url=play_url, actor=None)


# --- real capture --------------------------------------------------------------------------------


@pytest.mark.media_server
def test_live_stream_gets_a_jpeg_snapshot_from_nginx_rtmp(nginx_rtmp: NginxRtmp, stream_key, sent_events):
    actions.set_media_server_play_url(nginx_rtmp.node, play_url=f"rtmp://127.0.0.1:{nginx_rtmp.rtmp_port}", actor=None)
    publish = nginx_rtmp.publish(stream_key.issued_key)
    stream = wait_until(
        lambda: Stream.objects.live().filter(key=stream_key).first(),
        message=f"a live stream; ffmpeg said {publish.stderr()!r}",
    )

    started = time.monotonic()
    snapshot_id = capture_stream_snapshot.apply(args=(stream.pk,)).get()
    elapsed = time.monotonic() - started

    assert snapshot_id is not None, nginx_rtmp.error_log[-2000:]
    snapshot = Snapshot.objects.get(pk=snapshot_id)
    data = snapshot.image.read()
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    assert snapshot.sha256 == hashlib.sha256(data).hexdigest()
    assert snapshot.source == Snapshot.Source.CAPTURE and snapshot.image.name.startswith("snapshots/")
    stream.refresh_from_db()
    assert stream.latest_snapshot == snapshot
    assert elapsed < 8
    url = f"/media/snapshots/{snapshot.image.name.removeprefix('snapshots/')}"
    # Consoles are told the card changed, and the card they then get shows the new frame.
    assert stream.pk in sent_events
    card = queries.cards_for_streams([stream.pk])[stream.pk]
    assert card["snapshot_url"] == url
    # Run again at once (a redelivered task): the fresh frame is enough.
    assert capture_stream_snapshot.apply(args=(stream.pk,)).get() is None
    assert Snapshot.objects.filter(stream=stream).count() == 1


# --- failed grabs record nothing ---------------------------------------------------------------


@pytest.mark.django_db
def test_node_without_play_url_records_nothing(nginx_node, stream_key, caplog):
    stream = open_on(nginx_node, stream_key)

    assert frame_grabber.capture_snapshot(stream) is None

    assert not Snapshot.objects.exists()
    assert "has no play URL" in caplog.text


@pytest.mark.django_db
def test_dead_node_records_nothing_and_does_not_raise(stream_key, caplog):
    stream = open_on(node_playing_from("edge-dead", f"rtmp://127.0.0.1:{free_port()}"), stream_key)

    assert capture_stream_snapshot.apply(args=(stream.pk,)).get() is None

    assert not Snapshot.objects.exists()
    stream.refresh_from_db()
    assert stream.latest_snapshot is None
    assert "no snapshot of stream" in caplog.text


@pytest.mark.django_db
def test_silent_node_is_given_up_after_the_timeout(settings, stream_key, caplog):
    settings.LIVEWARD_SNAPSHOT_TIMEOUT = 1
    with socket.socket() as silent:  # accepts the connection, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        stream = open_on(node_playing_from("edge-silent", f"rtmp://127.0.0.1:{silent.getsockname()[1]}"), stream_key)
        started = time.monotonic()

        assert frame_grabber.capture_snapshot(stream) is None

        assert time.monotonic() - started < 5
    assert not Snapshot.objects.exists()
    assert "no snapshot of stream" in caplog.text


@pytest.mark.django_db
def test_missing_ffmpeg_records_nothing(monkeypatch, stream_key, caplog):
    stream = open_on(node_playing_from("edge-2", "rtmp://127.0.0.1:1935"), stream_key)
    monkeypatch.setenv("PATH", "/nonexistent")

    assert frame_grabber.capture_snapshot(stream) is None

    assert not Snapshot.objects.exists()
    assert "ffmpeg is not installed" in caplog.text


@pytest.mark.django_db
def test_ended_stream_is_not_captured(stream_key):
    stream = open_on(node_playing_from("edge-3", "rtmp://127.0.0.1:1935"), stream_key)
    actions.end_stream_session(node=stream.node, client_id=stream.client_id, key_name=stream_key.issued_key)

    assert capture_stream_snapshot.apply(args=(stream.pk,)).get() is None
    assert capture_stream_snapshot.apply(args=(999_999,)).get() is None


@pytest.mark.parametrize("kind", MediaServer.Kind.values)
def test_play_url_is_the_node_base_with_app_and_key(kind):
    node = MediaServer(name="n", kind=kind, play_url="rtmp://10.0.0.5:1935/")
    stream = Stream(node=node, app="live", published_name="k-1")
    assert mediaservers.adapter_for(node).play_url(stream) == "rtmp://10.0.0.5:1935/live/k-1"
    node.play_url = "file:///etc/passwd"
    assert mediaservers.adapter_for(node).play_url(stream) is None


# --- the record_snapshot action --------------------------------------------------------------


@pytest.mark.django_db
def test_recording_a_frame_makes_it_the_cards_snapshot_on_commit(
    nginx_node, stream_key, sent_events, django_capture_on_commit_callbacks
):
    stream = open_on(nginx_node, stream_key)

    with django_capture_on_commit_callbacks(execute=True):
        snapshot = actions.record_snapshot(stream, image_bytes=JPEG, source=Snapshot.Source.CAPTURE)

    stream.refresh_from_db()
    assert stream.latest_snapshot == snapshot
    assert snapshot.sha256 == hashlib.sha256(JPEG).hexdigest()
    assert sent_events == [stream.pk]


@pytest.mark.django_db
def test_a_rolled_back_snapshot_sends_nothing(nginx_node, stream_key, sent_events, django_capture_on_commit_callbacks):
    stream = open_on(nginx_node, stream_key)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        actions.record_snapshot(stream, image_bytes=JPEG, source=Snapshot.Source.CAPTURE)
        raise RuntimeError("roll back")

    assert callbacks == [] and sent_events == []
    assert not Snapshot.objects.exists()


@pytest.mark.django_db
def test_snapshot_of_an_ended_stream_is_refused_and_leaves_no_file(nginx_node, stream_key, media_root):
    stream = open_on(nginx_node, stream_key)
    actions.end_stream_session(node=nginx_node, client_id=stream.client_id, key_name=stream_key.issued_key)

    with pytest.raises(actions.ModerationError) as refused:
        actions.record_snapshot(stream, image_bytes=JPEG, source=Snapshot.Source.CAPTURE)

    assert refused.value.code == "stream_not_live"
    assert not Snapshot.objects.exists()
    assert not [path for path in media_root.rglob("*") if path.is_file()]


@pytest.mark.django_db
def test_an_older_frame_does_not_replace_the_latest(nginx_node, stream_key):
    stream = open_on(nginx_node, stream_key)
    newer = actions.record_snapshot(stream, image_bytes=JPEG, source=Snapshot.Source.CAPTURE)

    actions.record_snapshot(
        stream,
        image_bytes=JPEG,
        source=Snapshot.Source.EXTERNAL,
        taken_at=timezone.now() - timedelta(minutes=5),
    )

    stream.refresh_from_db()
    assert stream.latest_snapshot == newer


# --- the scheduler ---------------------------------------------------------------------------


@pytest.fixture
def world(publisher, clear_cache):
    """Streams in a fast (10 s) and a slow (600 s) category, on a node with and one without a play URL."""
    fast = actions.create_category("games", name="游戏", risk_tier=1, snapshot_interval_seconds=10)
    slow = actions.create_category("education", name="教育", risk_tier=4, snapshot_interval_seconds=600)
    playing = node_playing_from("edge-play", "rtmp://127.0.0.1:1935")
    silent, _secret = actions.register_media_server(
        "edge-no-play", kind=MediaServer.Kind.NGINX_RTMP, control_url="http://127.0.0.1:9/"
    )
    now = timezone.now()
    streams = {}

    def stream(name: str, category, node, *, snapshot_age: int | None = None) -> Stream:
        key = actions.issue_stream_key(publisher, category=category, key=f"key-{name}")
        opened = open_on(node, key, client_id=name)
        if snapshot_age is not None:
            actions.record_snapshot(
                opened,
                image_bytes=JPEG,
                source=Snapshot.Source.CAPTURE,
                taken_at=now - timedelta(seconds=snapshot_age),
            )
        streams[name] = opened
        return opened

    stream("never", fast, playing)
    stream("stale", fast, playing, snapshot_age=20)
    stream("fresh", fast, playing, snapshot_age=2)
    stream("slow", slow, playing, snapshot_age=60)
    stream("slow-stale", slow, playing, snapshot_age=700)
    stream("no-play-url", fast, silent)
    ended = stream("ended", fast, playing)
    actions.end_stream_session(node=playing, client_id="ended", key_name="key-ended")
    streams["ended"] = ended
    return streams


def test_scheduler_claims_only_due_streams_and_never_twice(world, django_assert_num_queries):
    due = {world["never"].pk: 10, world["stale"].pk: 10, world["slow-stale"].pk: 600}

    credit_policy.current_policy()  # warm in a running process; checked again every few seconds, not per tick
    with django_assert_num_queries(2):
        found = frame_grabber.streams_due_for_snapshot()
    assert dict(found) == due

    assert dict(frame_grabber.claim_due_snapshots()) == due
    assert frame_grabber.claim_due_snapshots() == []  # a second tick, or a second beat, within the interval


def test_scheduler_queries_do_not_grow_with_streams(world, publisher, django_assert_num_queries):
    category = world["never"].category
    node = world["never"].node
    for number in range(10):
        key = actions.issue_stream_key(publisher, category=category, key=f"more-{number}")
        open_on(node, key, client_id=f"more-{number}")

    credit_policy.current_policy()
    with django_assert_num_queries(2):
        assert len(frame_grabber.streams_due_for_snapshot()) == 13


def test_beat_task_enqueues_one_capture_per_due_stream(world, monkeypatch):
    enqueued: list[tuple[int, int]] = []
    monkeypatch.setattr(
        capture_stream_snapshot,
        "apply_async",
        lambda args, expires: enqueued.append((args[0], expires)),
    )

    assert schedule_due_snapshots.apply().get() == 3
    assert schedule_due_snapshots.apply().get() == 0

    assert sorted(enqueued) == sorted([(world["never"].pk, 10), (world["stale"].pk, 10), (world["slow-stale"].pk, 600)])
