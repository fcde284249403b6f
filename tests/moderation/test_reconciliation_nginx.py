"""Reconciliation on Debian's nginx-rtmp: a publisher whose row the gate lost is cut, a row the node lost is closed."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

import pytest

from moderation import actions, mediaservers
from moderation.models import Finding, Stream, hash_stream_key
from moderation.tasks.audits import run_audit
from tests import media
from tests.media import wait_until
from tests.moderation.test_mediaservers_nginx import go_live

pytestmark = pytest.mark.media_server


@pytest.fixture
def quiet_nginx(live_server, monkeypatch):
    """nginx-rtmp whose on_update comes once an hour: reconciliation, not the gate's update, must find the problem."""
    monkeypatch.setattr(media, "UPDATE_INTERVAL_SECONDS", 3600)
    yield from media._nginx_rtmp_calling(live_server.url)


def test_a_live_publisher_matching_its_row_is_left_alone(quiet_nginx, stream_key):
    publish, stream = go_live(quiet_nginx, stream_key)
    Stream.objects.filter(pk=stream.pk).update(started_at=timezone.now() - timedelta(minutes=2))
    summary = run_audit.apply(args=["reconciliation"]).get()
    assert (summary["sessions"], summary["rows"], summary["closed"], summary["cut"]) == (1, 1, 0, 0)
    assert publish.running and Stream.objects.get(pk=stream.pk).is_live
    assert not Finding.objects.exists()


def test_a_publisher_the_gates_row_lost_is_found_and_cut(quiet_nginx, stream_key):
    publish, stream = go_live(quiet_nginx, stream_key)
    # The row is gone from what the gate holds live (closed long ago, by a bug or a restore), the publisher is not.
    Stream.objects.filter(pk=stream.pk).update(
        ended_at=timezone.now() - timedelta(minutes=5), end_reason=Stream.EndReason.UNPUBLISHED
    )
    summary = run_audit.apply(args=["reconciliation"]).get()
    assert summary["cut"] == 1
    assert publish.wait(timeout=10) != 0, "ffmpeg's connection was not cut"
    adapter = mediaservers.adapter_for(quiet_nginx.node)
    wait_until(lambda: not adapter.live_streams(), message="nginx to drop the session")
    finding = Finding.objects.get()
    assert finding.severity == Finding.Severity.CRITICAL and finding.data["key_hash"] == hash_stream_key(
        stream_key.issued_key
    )


def test_a_row_whose_node_lost_the_stream_is_closed_node_lost(quiet_nginx, stream_key, entertainment):
    other_key = actions.issue_stream_key(stream_key.publisher, category=entertainment, default_title="第二路")
    publish, live = go_live(quiet_nginx, stream_key)
    lost = actions.open_stream(
        other_key, published_name=other_key.issued_key,
        node=quiet_nginx.node, app="live", client_id="999", addr="203.0.113.9", title="第二路",
        at=timezone.now() - timedelta(minutes=3),
    )  # fmt: skip
    Stream.objects.filter(pk=live.pk).update(started_at=timezone.now() - timedelta(minutes=2))
    summary = run_audit.apply(args=["reconciliation"]).get()
    assert (summary["closed"], summary["cut"]) == (1, 0)
    lost.refresh_from_db()
    assert lost.end_reason == Stream.EndReason.NODE_LOST
    assert Stream.objects.get(pk=live.pk).is_live and publish.running
    assert Finding.objects.get().stream == lost
