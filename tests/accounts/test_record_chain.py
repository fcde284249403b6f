"""The append-only, hash-chained records: the staff log, moderation actions, news decisions (issue 12)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

import pytest

from accounts import record_chain
from accounts.actions import log_staff_action
from accounts.models import RecordChainAnchor, StaffActionLog
from accounts.record_chain import AppendOnlyError
from moderation import actions
from moderation.models import Finding, LegalHold, ModerationAction, NewsDecision, ReasonCode
from moderation.tasks.audits import run_audit
from tests.news_world import apply_for, approve

pytestmark = pytest.mark.django_db
MediaStatus = ModerationAction.MediaStatus


@pytest.fixture
def block(stream_key, nginx_node, patroller) -> ModerationAction:
    stream = actions.open_stream(
        stream_key,
        published_name=stream_key.issued_key,
        node=nginx_node,
        app="live",
        client_id="c-1",
        addr="",
        title="夜市",
    )
    return actions.block_stream(stream, actor=patroller, reason=ReasonCode.FRAUD, request_id="chain-1")


@pytest.fixture
def decision(news_key, platform_licence, editor_in_chief) -> NewsDecision:
    approve(apply_for(news_key), editor_in_chief)
    return NewsDecision.objects.latest("pk")


def verify_all() -> dict[str, record_chain.ChainReport]:
    return {model._meta.label_lower: record_chain.verify_chain(model) for model in record_chain.chained_models()}


def raw_update(table: str, assignment: str, pk: int, params: list) -> None:
    """Change a row as someone with the database's superuser would: around the trigger."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")  # ordinary triggers do not fire
        cursor.execute(f"UPDATE {table} SET {assignment} WHERE id = %s", [*params, pk])
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")


def test_the_chained_models_are_the_log_the_actions_and_the_news_decisions():
    labels = [model._meta.label_lower for model in record_chain.chained_models()]
    assert labels == ["accounts.staffactionlog", "moderation.moderationaction", "moderation.newsdecision"]


def test_every_field_of_a_chained_model_is_chained_or_named_mutable():
    for model in record_chain.chained_models():
        named = {"id", "chain_digest", *model.chain_fields, *model.mutable_fields}
        assert {field.name for field in model._meta.concrete_fields} == named, model
        assert not set(model.chain_fields) & set(model.mutable_fields)


def test_each_row_holds_the_digest_of_the_one_before_and_its_own_content(block, decision, admin):
    line = log_staff_action(admin, "test.line", data={"n": 1, "when": ["a", 2]}, ip="::ffff:10.0.0.1")
    before = StaffActionLog.objects.filter(pk__lt=line.pk).latest("pk")
    assert line.chain_digest == record_chain.record_digest(before.chain_digest, line, StaffActionLog.chain_fields)
    assert line.chain_digest != before.chain_digest and len(line.chain_digest) == 64
    reports = verify_all()
    assert all(report.intact for report in reports.values()), reports
    assert reports["moderation.moderationaction"].rows == 1 and reports["moderation.newsdecision"].rows >= 2
    # What was read back from the database (JSON, an IPv6 address, times) hashes as it did before insert.
    reloaded = StaffActionLog.objects.get(pk=line.pk)
    assert record_chain.record_digest(before.chain_digest, reloaded, StaffActionLog.chain_fields) == line.chain_digest


def test_the_orm_refuses_to_change_or_delete_a_chained_row(block, decision, admin):
    line = log_staff_action(admin, "test.line")
    for model, row, field, value in (
        (StaffActionLog, line, "verb", "other.line"),
        (ModerationAction, block, "reason", ReasonCode.PORNOGRAPHY),
        (NewsDecision, decision, "note", "改过"),
    ):
        with pytest.raises(AppendOnlyError):
            model.objects.filter(pk=row.pk).update(**{field: value})
        with pytest.raises(AppendOnlyError):
            model.objects.filter(pk=row.pk).delete()
        with pytest.raises(AppendOnlyError):
            row.delete()
        setattr(row, field, value)
        with pytest.raises(AppendOnlyError):
            row.save()
        with pytest.raises(AppendOnlyError):
            row.save(update_fields=[field])
        with pytest.raises(AppendOnlyError):
            model.objects.bulk_update([row], [field])
        assert model.objects.filter(pk=row.pk).exclude(**{field: value}).exists()
    assert all(report.intact for report in verify_all().values())


def test_the_media_servers_answer_still_changes_and_the_chain_holds(block):
    assert ModerationAction.objects.filter(pk=block.pk).update(media_status=MediaStatus.CONFIRMED, media_attempts=2)
    block.media_last_error = "timeout"
    block.save(update_fields=["media_last_error"])
    assert ModerationAction.objects.get(pk=block.pk).media_status == MediaStatus.CONFIRMED
    assert verify_all()["moderation.moderationaction"].intact


def test_a_row_changed_by_raw_sql_is_named_by_the_command_and_the_audit(block, decision, admin):
    lines = [log_staff_action(admin, f"test.line.{number}") for number in range(3)]
    raw_update(StaffActionLog._meta.db_table, "verb = %s", lines[1].pk, ["nothing.happened"])
    raw_update(ModerationAction._meta.db_table, "reason = %s", block.pk, [ReasonCode.PATROLLED])
    reports = verify_all()
    assert reports["accounts.staffactionlog"].broken_id == lines[1].pk
    assert reports["moderation.moderationaction"].broken_id == block.pk
    assert reports["moderation.newsdecision"].intact

    out = StringIO()
    with pytest.raises(CommandError, match=r"accounts\.staffactionlog, moderation\.moderationaction"):
        call_command("verify_record_chain", stdout=out)
    assert f"BROKEN at row {lines[1].pk}" in out.getvalue() and f"BROKEN at row {block.pk}" in out.getvalue()

    summary = run_audit.apply(args=["record_chain"]).get()
    assert summary["broken"] == 2
    keys = set(Finding.objects.values_list("key", flat=True))
    assert keys == {f"chain:accounts.staffactionlog:{lines[1].pk}", f"chain:moderation.moderationaction:{block.pk}"}
    assert set(Finding.objects.values_list("severity", flat=True)) == {"critical"}


def test_a_row_removed_by_raw_sql_breaks_the_chain_at_the_next_row(admin):
    lines = [log_staff_action(admin, f"test.line.{number}") for number in range(3)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(f"DELETE FROM {StaffActionLog._meta.db_table} WHERE id = %s", [lines[1].pk])
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")
    assert verify_all()["accounts.staffactionlog"].broken_id == lines[2].pk


def test_an_intact_chain_passes_the_command_and_the_audit(block, decision):
    out = StringIO()
    call_command("verify_record_chain", stdout=out)
    assert out.getvalue().count("intact") == 3
    assert run_audit.apply(args=["record_chain"]).get()["broken"] == 0 and not Finding.objects.exists()


def test_postgresql_refuses_raw_updates_of_chained_columns_and_deletes(block, admin):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger is PostgreSQL's (CI runs it; set DATABASE_URL)")
    line = log_staff_action(admin, "test.line")
    table = ModerationAction._meta.db_table
    for statement, params in (
        (f"UPDATE {StaffActionLog._meta.db_table} SET verb = 'x' WHERE id = %s", [line.pk]),
        (f"UPDATE {StaffActionLog._meta.db_table} SET chain_digest = '' WHERE id = %s", [line.pk]),
        (f"DELETE FROM {StaffActionLog._meta.db_table} WHERE id = %s", [line.pk]),
        (f"UPDATE {table} SET note = 'x' WHERE id = %s", [block.pk]),
        (f"DELETE FROM {table} WHERE id = %s", [block.pk]),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
    with connection.cursor() as cursor:  # the media server's answer is no chained column
        cursor.execute(f"UPDATE {table} SET media_status = 'confirmed', media_attempts = 3 WHERE id = %s", [block.pk])
        assert cursor.rowcount == 1
    assert all(report.intact for report in verify_all().values())


def test_the_purge_takes_only_the_oldest_lines_and_the_chain_verifies_from_its_anchor(admin):
    held_line = log_staff_action(admin, "test.line", target=admin)
    for number in range(4):
        log_staff_action(admin, f"test.later.{number}")
    first_ids = list(StaffActionLog.objects.filter(pk__lt=held_line.pk).order_by("pk").values_list("pk", flat=True))
    # A hold on the moment of the held line only: everything before it goes, it and all after it stay.
    moment = held_line.at
    actions.place_legal_hold(
        "period", actor=admin, reason="调查", period_start=moment - timedelta(microseconds=1), period_end=moment
    )
    later = timezone.now() + timedelta(days=400)
    purged = actions.purge_expired_records(now=later, batch=2)
    assert purged["staff_log"] == len(first_ids)
    assert not StaffActionLog.objects.filter(pk__in=first_ids).exists()
    assert StaffActionLog.objects.filter(pk__gte=held_line.pk, verb__startswith="test.").count() == 5
    anchor = RecordChainAnchor.objects.get(chain="accounts.staffactionlog")
    assert anchor.last_id == first_ids[-1] and anchor.purged == len(first_ids)
    assert held_line.chain_digest == record_chain.record_digest(anchor.digest, held_line, StaffActionLog.chain_fields)
    assert all(report.intact for report in verify_all().values())
    assert LegalHold.objects.count() == 1


def test_a_chain_emptied_by_the_purge_goes_on_from_its_anchor(admin):
    for number in range(3):
        log_staff_action(admin, f"test.line.{number}")
    assert actions.purge_expired_records(now=timezone.now() + timedelta(days=400))["staff_log"] >= 3
    # The purge's own line is the one left; the next line chains on from it.
    survivor = StaffActionLog.objects.get()
    assert survivor.verb == "records.purge"
    log_staff_action(admin, "test.after")
    assert verify_all()["accounts.staffactionlog"].intact
    assert StaffActionLog.objects.count() == 2
