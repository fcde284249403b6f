"""Retention, legal holds, the purge and the records audit (Art. 14, 16)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

import pytest

from accounts.actions import log_staff_action
from accounts.models import StaffActionLog
from moderation import actions
from moderation.models import Comment, Evidence, Finding, GateDecision, LegalHold, ReasonCode, RetentionRule, Stream
from moderation.tasks.audits import run_audit

pytestmark = pytest.mark.django_db

OLD = timedelta(days=70)


def days_ago(delta: timedelta):
    return timezone.now() - delta


def stream_with_history(stream_key, node, *, client_id: str, age: timedelta) -> Stream:
    """A stream the gate allowed ``age`` ago, with a decision, two comments, ended an hour later."""
    at = days_ago(age)
    stream = actions.open_stream(
        stream_key,
        published_name=stream_key.issued_key,
        node=node,
        app="live",
        client_id=client_id,
        addr="",
        title="t",
        at=at,
    )
    actions.record_gate_decision(
        hook=GateDecision.Hook.PUBLISH, allowed=True, reason=GateDecision.Reason.ALLOWED, node=node,
        key_name=stream_key.issued_key, stream_key_id=stream_key.pk, publisher_id=stream_key.publisher_id,
        stream_id=stream.pk, client_id=client_id, addr="", at=at,
    )  # fmt: skip
    for number in range(2):
        comment = actions.receive_comment(
            stream, external_id=f"c-{client_id}-{number}", viewer_id="v-1", text="好看", actor=None
        )
        Comment.objects.filter(pk=comment.pk).update(received_at=at)
    Stream.objects.filter(pk=stream.pk).update(ended_at=at + timedelta(hours=1), end_reason="unpublished")
    return Stream.objects.get(pk=stream.pk)


def test_retention_is_at_least_sixty_days(admin, client):
    with pytest.raises(actions.ModerationError):
        actions.set_retention("comments", days=59, actor=admin)
    client.force_login(admin)
    response = client.post("/records/retention/", {"form": "rule", "kind": "comments", "days": "30"})
    assert response.status_code == 400 and not RetentionRule.objects.exists()
    client.post("/records/retention/", {"form": "rule", "kind": "comments", "days": "90"})
    assert RetentionRule.objects.get(kind="comments").days == 90


def test_a_legal_hold_on_something_unknown_is_refused(admin, client):
    for fields in ({"scope": "publisher", "publisher": "999999"}, {"scope": "stream", "stream": "999999"},
                   {"scope": "period", "period_start": "2026-01-02T00:00", "period_end": "2026-01-01T00:00"},
                   {"scope": "period", "period_start": "2026-01-02T00:00"}, {"scope": "galaxy"}):  # fmt: skip
        client.force_login(admin)
        response = client.post("/records/retention/", {"form": "hold", "reason": "调查", **fields})
        assert response.status_code == 400, fields
    assert not LegalHold.objects.exists()


def test_the_purge_deletes_what_is_past_retention_and_keeps_the_rest(stream_key, nginx_node, entertainment):
    old = stream_with_history(stream_key, nginx_node, client_id="1", age=OLD)
    recent = stream_with_history(stream_key, nginx_node, client_id="2", age=timedelta(days=10))
    purged = actions.purge_expired_records()
    assert purged["gate_decisions"] == 1 and purged["comments"] == 2 and purged["streams"] == 0  # streams: 180 d
    assert not GateDecision.objects.filter(stream=old).exists() and not Comment.objects.filter(stream=old).exists()
    assert (
        GateDecision.objects.filter(stream=recent).count() == 1 and Comment.objects.filter(stream=recent).count() == 2
    )
    assert actions.purge_expired_records()["comments"] == 0  # nothing left to do


@pytest.mark.parametrize("scope", ["publisher", "stream", "period"])
def test_a_legal_hold_keeps_everything_it_covers(stream_key, nginx_node, admin, scope):
    held = stream_with_history(stream_key, nginx_node, client_id="1", age=OLD)
    fields = {
        "publisher": {"publisher_id": held.publisher_id},
        "stream": {"stream_id": held.pk},
        "period": {"period_start": held.started_at - timedelta(minutes=1), "period_end": held.ended_at},
    }[scope]
    hold = actions.place_legal_hold(scope, actor=admin, reason="公安机关调查", **fields)
    assert hold.held_counts["comments"] == 2 and hold.held_counts["gate_decisions"] == 1
    actions.purge_expired_records()
    assert Comment.objects.filter(stream=held).count() == 2 and GateDecision.objects.filter(stream=held).count() == 1
    actions.release_legal_hold(hold.pk, actor=admin)
    actions.purge_expired_records()
    assert not Comment.objects.filter(stream=held).exists()


def test_the_records_audit_is_quiet_on_whole_records(stream_key, nginx_node, admin, patroller):
    stream = stream_with_history(stream_key, nginx_node, client_id="1", age=timedelta(days=3))
    Stream.objects.filter(pk=stream.pk).update(ended_at=None, end_reason="")
    actions.warn_publisher(stream, actor=patroller, reason=ReasonCode.INSULT_DEFAMATION, note="注意")
    actions.block_stream(stream, actor=patroller, reason=ReasonCode.PORNOGRAPHY, request_id="r-1")
    assert Evidence.objects.exists()
    actions.place_legal_hold("stream", actor=admin, reason="调查", stream_id=stream.pk)
    summary = run_audit.apply(args=["records"]).get()
    assert summary["decision_gaps"] == 0 and summary["evidence_changed"] == 0 and summary["holds_broken"] == 0
    assert summary["evidence_checked"] >= 1 and not Finding.objects.exists()


def test_the_records_audit_finds_a_gap_a_changed_evidence_and_a_broken_hold(stream_key, nginx_node, admin, patroller):
    stream = stream_with_history(stream_key, nginx_node, client_id="1", age=timedelta(days=3))
    Stream.objects.filter(pk=stream.pk).update(ended_at=None, end_reason="")
    actions.block_stream(stream, actor=patroller, reason=ReasonCode.PORNOGRAPHY, request_id="r-2")
    hold = actions.place_legal_hold("stream", actor=admin, reason="调查", stream_id=stream.pk)
    # Seeded problems: the allow that opened the stream is gone, evidence was altered, a held comment deleted.
    GateDecision.objects.filter(stream=stream).delete()
    evidence = Evidence.objects.filter(kind=Evidence.Kind.METADATA).first()
    Evidence.objects.filter(pk=evidence.pk).update(content={**evidence.content, "title": "改过的"})
    Comment.objects.filter(stream=stream).first().delete()
    run_audit.apply(args=["records"]).get()
    keys = set(Finding.objects.values_list("key", flat=True))
    assert keys == {f"stream:{stream.pk}:no-allow", f"evidence:{evidence.pk}:digest", f"hold:{hold.pk}:purged"}
    assert set(Finding.objects.values_list("severity", flat=True)) == {"critical"}


def test_the_purge_runs_as_an_audit_on_its_schedule(stream_key, nginx_node):
    stream_with_history(stream_key, nginx_node, client_id="1", age=OLD)
    log_staff_action(None, "old.line")
    StaffActionLog.objects.filter(verb="old.line").update(at=days_ago(timedelta(days=400)))
    summary = run_audit.apply(args=["retention_purge"]).get()
    assert summary["comments"] == 2 and summary["staff_log"] == 1
    assert StaffActionLog.objects.filter(verb="records.purge").exists()
