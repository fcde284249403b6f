"""Reconciliation against an SRS stand-in and a node that does not answer: rows closed, sessions cut, nodes marked."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

import pytest

from accounts.models import StaffActionLog
from moderation import actions, queries
from moderation.models import AuditRun, Finding, MediaServer, Stream, hash_stream_key
from moderation.tasks.audits import run_audit
from tests.srs_standin import srs_standin_fixture  # noqa: F401 (the srs_standin fixture)

pytestmark = pytest.mark.django_db


def open_row(stream_key, node, *, client_id: str, minutes_ago: float = 2):
    return actions.open_stream(
        stream_key, published_name=stream_key.issued_key,
        node=node, app="live", client_id=client_id, addr="203.0.113.9", title="深夜食堂直播",
        at=timezone.now() - timedelta(minutes=minutes_ago),
    )  # fmt: skip


@pytest.fixture
def srs_node(srs_standin):
    node, _secret = actions.register_media_server(
        "srs-recon", kind=MediaServer.Kind.SRS, control_url=srs_standin.url, secret="srs-recon-secret"
    )
    return srs_standin, node


def test_the_gate_and_the_node_agreeing_is_quiet(srs_node, stream_key):
    standin, node = srs_node
    client_id = standin.publish(stream_key.issued_key)
    stream = open_row(stream_key, node, client_id=client_id)
    summary = run_audit.apply(args=["reconciliation"]).get()
    assert summary == {"nodes": 1, "sessions": 1, "rows": 1, "closed": 0, "cut": 0, "unreachable": 0}
    assert AuditRun.objects.get().outcome == AuditRun.Outcome.CLEAN
    assert Stream.objects.get(pk=stream.pk).is_live and client_id in standin.streams
    assert MediaServer.objects.get(pk=node.pk).reconciled_at is not None


def test_a_session_live_without_an_allow_is_cut_and_flagged(srs_node):
    standin, node = srs_node
    client_id = standin.publish("key-nobody-allowed")  # this stand-in calls no hook: no gate, no row
    run_audit.apply(args=["reconciliation"]).get()
    assert client_id not in standin.streams, "the session was not kicked"
    finding = Finding.objects.get()
    assert finding.severity == Finding.Severity.CRITICAL and finding.node == node
    # The key shows by its first characters and its hash, never in full (it may be a real key).
    assert finding.data["key"] == "key-no" and finding.data["key_hash"] == hash_stream_key("key-nobody-allowed")
    assert "without an allow" in finding.title and "key-nobody-allowed" not in finding.title
    cut = StaffActionLog.objects.get(verb="node.cut_unallowed")
    assert "key-nobody-allowed" not in str(cut.data) and cut.data["key_hash"] == hash_stream_key("key-nobody-allowed")


def test_a_row_the_node_no_longer_has_is_closed_node_lost(srs_node, stream_key):
    _standin, node = srs_node
    stream = open_row(stream_key, node, client_id="gone-1")  # the node never had it (or lost it)
    run_audit.apply(args=["reconciliation"]).get()
    stream.refresh_from_db()
    assert stream.end_reason == Stream.EndReason.NODE_LOST and stream.ended_at is not None
    finding = Finding.objects.get()
    assert finding.stream == stream and finding.key == f"stream:{stream.pk}:node-lost"


def test_a_row_opened_just_now_is_left_to_the_next_run(srs_node, stream_key):
    _standin, node = srs_node
    stream = open_row(stream_key, node, client_id="new-1", minutes_ago=0)
    run_audit.apply(args=["reconciliation"]).get()
    assert Stream.objects.get(pk=stream.pk).is_live and not Finding.objects.exists()


def test_an_unreachable_node_is_a_finding_and_its_streams_are_unknown_until_it_answers(
    nginx_node, stream_key, srs_standin
):
    stream = open_row(stream_key, nginx_node, client_id="7")  # nginx_node's control URL: port 9, nothing there
    run_audit.apply(args=["reconciliation"]).get()
    finding = Finding.objects.get()
    assert finding.key == "node:edge-1:unreachable" and finding.severity == Finding.Severity.CRITICAL
    assert Stream.objects.get(pk=stream.pk).is_live, "a node that does not answer closes nothing"
    assert queries.cards_for_streams([stream.pk])[stream.pk]["node_state"] == "unknown"
    run_audit.apply(args=["reconciliation"]).get()
    assert Finding.objects.get().times_seen == 2
    assert StaffActionLog.objects.filter(verb="node.unreachable").count() == 1
    # The node answers again (here: it moved to an address that answers): its cards are known again.
    MediaServer.objects.filter(pk=nginx_node.pk).update(control_url=srs_standin.url, kind=MediaServer.Kind.SRS)
    run_audit.apply(args=["reconciliation"]).get()
    assert MediaServer.objects.get(pk=nginx_node.pk).unreachable_since is None
    assert queries.cards_for_streams([stream.pk])[stream.pk]["node_state"] == "ok"
