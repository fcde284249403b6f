"""Retention, legal holds, the purge and the records audit (Art. 14, 16)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

import pytest

from accounts.models import StaffActionLog
from moderation import actions
from moderation.models import (
    Comment,
    Evidence,
    Finding,
    GateDecision,
    LegalHold,
    PublicReport,
    ReasonCode,
    RetentionRule,
    Stream,
    VerificationDocument,
    VerificationReview,
)
from moderation.tasks.audits import run_audit
from tests.conftest import make_publisher

pytestmark = pytest.mark.django_db

OLD = timedelta(days=70)


def days_ago(delta: timedelta):
    return timezone.now() - delta


def stream_with_history(stream_key, node, *, client_id: str, age: timedelta, comments: int = 2) -> Stream:
    """A stream the gate allowed ``age`` ago, with a decision, two comments (or more), ended an hour later."""
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
    for number in range(comments):
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


def test_the_purge_goes_batch_by_batch_and_keeps_a_reported_comment(stream_key, nginx_node):
    old = stream_with_history(stream_key, nginx_node, client_id="1", age=OLD, comments=7)  # batches of two
    reported = actions.file_report(
        source=PublicReport.Source.WEB, target_kind=PublicReport.Target.COMMENT, target="c-1-3",
        category="pornography", description="低俗评论", address="203.0.113.9",
    )  # fmt: skip
    recent = stream_with_history(stream_key, nginx_node, client_id="2", age=timedelta(days=10))
    purged = actions.purge_expired_records(set_based_batch=2)
    assert purged["comments"] == 6  # a public report still refers to the seventh: kept, as PROTECT would
    assert list(Comment.objects.filter(stream=old).values_list("pk", flat=True)) == [reported.comment_id]
    assert Comment.objects.filter(stream=recent).count() == 2
    assert not GateDecision.objects.filter(stream=old).exists()
    assert actions.purge_expired_records(set_based_batch=2)["comments"] == 0


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
    summary = run_audit.apply(args=["retention_purge"]).get()
    # The staff log's lines are all recent (it is append-only: tests/accounts/test_record_chain.py purges it).
    assert summary["comments"] == 2 and summary["staff_log"] == 0
    assert StaffActionLog.objects.filter(verb="records.purge").exists()


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def reviewed_scans(publisher, admin, *, reference: str, decided_ago: timedelta | None):
    """A manual review with one scan, decided ``decided_ago`` (None: still pending)."""
    review = actions.submit_verification_review(
        publisher, reference=reference, documents=[("身份证正面.png", PNG)], actor=None
    )
    if decided_ago is not None:
        review = actions.decide_verification_review(review, actor=admin, approve=True, note="")
        VerificationReview.objects.filter(pk=review.pk).update(decided_at=days_ago(decided_ago))
    return review


def test_verification_scans_go_after_their_retention_counted_from_the_decision(
    admin, agreement, django_capture_on_commit_callbacks
):
    old_person, pending_person = make_publisher("acct-scan-1", "主播甲"), make_publisher("acct-scan-2", "主播乙")
    old = reviewed_scans(old_person, admin, reference="rv-old", decided_ago=timedelta(days=200))
    pending = reviewed_scans(pending_person, admin, reference="rv-pending", decided_ago=None)
    VerificationReview.objects.filter(pk=pending.pk).update(submitted_at=days_ago(timedelta(days=400)))
    recent = reviewed_scans(pending_person, admin, reference="rv-recent", decided_ago=timedelta(days=100))
    old_file = VerificationDocument.objects.get(review=old).file
    storage, name = old_file.storage, old_file.name
    assert storage.exists(name)

    with django_capture_on_commit_callbacks(execute=True):
        purged = actions.purge_expired_records()
    assert purged["verification_scans"] == 1  # 180 days from the decision by default
    assert not VerificationDocument.objects.filter(review=old).exists() and not storage.exists(name)
    assert VerificationReview.objects.filter(pk=old.pk, status="approved").exists()  # the decision is kept
    assert VerificationDocument.objects.filter(review__in=[pending, recent]).count() == 2


def test_a_hold_on_the_publisher_keeps_its_scans(admin, agreement):
    person = make_publisher("acct-scan-3", "主播丙")
    review = reviewed_scans(person, admin, reference="rv-held", decided_ago=timedelta(days=200))
    hold = actions.place_legal_hold("publisher", actor=admin, reason="公安机关调查", publisher_id=person.pk)
    assert hold.held_counts["verification_scans"] == 1
    assert actions.purge_expired_records()["verification_scans"] == 0
    assert VerificationDocument.objects.filter(review=review).count() == 1
    with pytest.raises(actions.ModerationError):
        actions.set_retention("verification_scans", days=59, actor=admin)
