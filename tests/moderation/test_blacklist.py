"""The blacklist: entries, closing matching accounts, the gate rule, removal, reversal, the sweep."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

from django.utils import timezone

import pytest

from accounts.actions import create_staff_user
from accounts.models import StaffActionLog
from accounts.roles import Role
from moderation import actions
from moderation.identity import Kind, hash_of
from moderation.models import BlacklistClosure, BlacklistEntry, ModerationAction, Publisher, ReasonCode, Stream
from tests.conftest import PASSWORD
from tests.moderation.test_gate import latest_decision, on_publish

pytestmark = pytest.mark.django_db

ID_NUMBER = "110105199001011232"
PHONE = "+8613800138000"  # the conftest publisher's phone


@pytest.fixture
def second_admin(admin):
    return create_staff_user("admin2", role=Role.COMPLIANCE_ADMIN, password=PASSWORD, display_name="合规管理员小钱")


def register(account: str, *, document_number: str = ID_NUMBER, phone: str = "+8613912345678") -> Publisher:
    publisher = actions.register_publisher(
        account,
        display_name=f"主播{account}",
        document_number=document_number,
        phone=phone,
        agreement_version="2026-01",
    )
    return actions.set_publisher_verification(publisher, verification=Publisher.Verification.VERIFIED, actor=None)


def blacklist(kind: str, value: str, *, actor, **extra) -> BlacklistEntry:
    return actions.add_blacklist_entry(kind, value, actor=actor, reason=ReasonCode.FRAUD, **extra)


# --- adding ------------------------------------------------------------------------------------


def test_adding_an_entry_closes_the_live_publisher_cuts_and_the_gate_denies(client, admin, nginx_node, stream_key):
    assert on_publish(client, stream_key.issued_key).status_code == 200
    stream = Stream.objects.live().get()

    entry = blacklist(Kind.PHONE, "138-0013-8000", actor=admin)  # the publisher's phone, written another way

    publisher = Publisher.objects.get(pk=stream_key.publisher_id)
    assert publisher.status == Publisher.Status.CLOSED
    assert entry.closed_publisher_ids == [publisher.pk]
    closure = BlacklistClosure.objects.get(entry=entry)
    assert closure.publisher == publisher and closure.action.kind == ModerationAction.Kind.CLOSE
    assert closure.action.media_status == ModerationAction.MediaStatus.PENDING  # the drop goes to the node on commit
    assert closure.action.note == f"blacklist {entry.reference}"
    assert entry.masked_value == "+86138****8000" and "13800138000" not in entry.value_hash
    assert StaffActionLog.objects.filter(verb="blacklist.add", target_id=str(entry.pk)).exists()
    assert stream.pk  # the stream was live when the account closed

    response = on_publish(client, stream_key.issued_key, client_id="18")
    assert response.status_code == 403
    assert latest_decision().reason == "publisher_closed"


def test_adding_closes_every_account_of_the_identity_and_cuts_after_commit(
    admin, nginx_node, agreement, entertainment, django_capture_on_commit_callbacks
):
    first, second = register("acct-a"), register("acct-b", phone="+8613700000000")
    other = register("acct-c", document_number="11010519491231002X", phone="+8613600000000")
    keys = [actions.issue_stream_key(p, category=entertainment) for p in (first, second)]
    streams = [
        actions.open_stream(
            key, published_name=key.issued_key, node=nginx_node, app="live", client_id=str(n), addr="", title=""
        )
        for n, key in enumerate(keys)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        entry = blacklist(Kind.ID_DOCUMENT, "110105 19900101 1232", actor=admin)
    assert sorted(entry.closed_publisher_ids) == sorted([first.pk, second.pk])
    assert Publisher.objects.get(pk=other.pk).status == Publisher.Status.ACTIVE
    actions_taken = ModerationAction.objects.filter(kind=ModerationAction.Kind.CLOSE)
    assert actions_taken.count() == 2
    # The node at 127.0.0.1:9 refuses the drop: the cut is retried and the gate keeps denying meanwhile.
    assert all(action.media_attempts == 1 for action in actions_taken)
    assert all(Stream.objects.get(pk=stream.pk).ended_at is None for stream in streams)


def test_a_blacklisted_identity_is_denied_by_the_gate_rule_even_on_a_reopened_account(
    client, admin, nginx_node, stream_key
):
    blacklist(Kind.PLATFORM_ACCOUNT, "acct-1001", actor=admin)
    entry = blacklist(Kind.PHONE, PHONE, actor=admin)
    publisher = Publisher.objects.get(pk=stream_key.publisher_id)
    actions.reopen_publisher(publisher, actor=admin, note="reopened by mistake")

    assert on_publish(client, stream_key.issued_key).status_code == 403
    decision = latest_decision()
    assert decision.reason == "blacklisted"
    assert decision.detail in {entry.reference, BlacklistEntry.objects.get(kind=Kind.PLATFORM_ACCOUNT).reference}


def test_a_device_reported_later_closes_the_account(client, admin, nginx_node, stream_key):
    entry = blacklist(Kind.DEVICE, "IMEI-356938035643809", actor=admin)
    assert entry.closed_publisher_ids == []
    publisher = Publisher.objects.get(pk=stream_key.publisher_id)
    actions.record_publisher_device(publisher, device_id="imei-356938035643809", actor=None)
    assert Publisher.objects.get(pk=publisher.pk).status == Publisher.Status.CLOSED
    assert BlacklistClosure.objects.filter(entry=entry, publisher=publisher).exists()
    assert on_publish(client, stream_key.issued_key).status_code == 403


def test_an_expired_entry_no_longer_refuses(client, admin, nginx_node, stream_key):
    entry = blacklist(Kind.PLATFORM_ACCOUNT, "acct-9", actor=admin, expires_at=timezone.now() + timedelta(days=1))
    later = timezone.now() + timedelta(days=2)
    assert BlacklistEntry.objects.in_force(later).filter(pk=entry.pk).count() == 0
    assert BlacklistEntry.objects.in_force().filter(pk=entry.pk).count() == 1
    # A new entry for the same identity replaces an expired one.
    BlacklistEntry.objects.filter(pk=entry.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    renewed = blacklist(Kind.PLATFORM_ACCOUNT, "acct-9", actor=admin)
    assert BlacklistEntry.objects.get(pk=entry.pk).status == BlacklistEntry.Status.EXPIRED
    assert renewed.status == BlacklistEntry.Status.ACTIVE


@pytest.mark.parametrize(
    ("kind", "value", "extra"),
    [
        (Kind.ID_DOCUMENT, "110105199001011234", {}),  # bad check digit
        (Kind.ID_DOCUMENT, "1101051990", {}),
        (Kind.PHONE, "12345", {}),
        (Kind.DEVICE, "no spaces please", {}),
        ("fingerprint", "x", {}),
        (Kind.PHONE, PHONE, {"reason": "not-a-reason"}),
        (Kind.PHONE, PHONE, {"expires_at": "past"}),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(admin, publisher, kind, value, extra):
    if extra.get("expires_at") == "past":
        extra["expires_at"] = timezone.now() - timedelta(minutes=1)
    with pytest.raises(actions.ModerationError) as error:
        actions.add_blacklist_entry(kind, value, actor=admin, **{"reason": ReasonCode.FRAUD, **extra})
    assert error.value.code == "bad_field"
    assert BlacklistEntry.objects.count() == 0 and BlacklistClosure.objects.count() == 0
    assert Publisher.objects.get(pk=publisher.pk).status == Publisher.Status.ACTIVE


def test_a_duplicate_entry_is_refused_with_the_existing_reference(admin, publisher):
    entry = blacklist(Kind.PHONE, PHONE, actor=admin)
    with pytest.raises(actions.ModerationError) as error:
        blacklist(Kind.PHONE, "0086 138 0013 8000", actor=admin)
    assert error.value.code == "duplicate_entry" and entry.reference in str(error.value)
    assert BlacklistEntry.objects.count() == 1 and ModerationAction.objects.count() == 1


def test_only_compliance_admins_change_the_blacklist(patroller, inspector, admin, publisher):
    for user in (patroller, inspector, None):
        with pytest.raises(actions.ModerationError) as error:
            blacklist(Kind.PHONE, PHONE, actor=user)
        assert error.value.code == "forbidden"
    entry = blacklist(Kind.PHONE, PHONE, actor=admin)
    with pytest.raises(actions.ModerationError):
        actions.request_blacklist_removal(entry, actor=inspector, reason="no")
    assert BlacklistEntry.objects.get().removal_requested_at is None


def test_a_rolled_back_add_closes_nothing(admin, publisher, monkeypatch):
    from moderation.actions import blacklist as blacklist_actions

    def broken(*args, **kwargs):
        raise RuntimeError("the log is down")

    monkeypatch.setattr(blacklist_actions, "log_staff_action", broken)
    with pytest.raises(RuntimeError):
        blacklist(Kind.PHONE, PHONE, actor=admin)
    assert BlacklistEntry.objects.count() == 0
    assert Publisher.objects.get(pk=publisher.pk).status == Publisher.Status.ACTIVE


# --- registration --------------------------------------------------------------------------------


def test_a_new_account_with_a_blacklisted_identity_is_refused(admin, agreement):
    entry = blacklist(Kind.ID_DOCUMENT, ID_NUMBER, actor=admin)
    with pytest.raises(actions.BlacklistedIdentity) as refused:
        register("acct-new", document_number=ID_NUMBER.lower())
    assert refused.value.reference == entry.reference
    assert not Publisher.objects.filter(platform_account_id="acct-new").exists()
    register("acct-clean", document_number="11010519491231002X")  # another identity registers


# --- removal and reversal ------------------------------------------------------------------------


def test_removal_needs_a_reason_and_a_second_admin(admin, second_admin, publisher):
    entry = blacklist(Kind.PHONE, PHONE, actor=admin)
    with pytest.raises(actions.ModerationError) as error:
        actions.request_blacklist_removal(entry, actor=admin, reason="  ")
    assert error.value.code == "missing_field"
    with pytest.raises(actions.ModerationError) as error:
        actions.approve_blacklist_removal(entry, actor=second_admin)
    assert error.value.code == "removal_not_requested"

    actions.request_blacklist_removal(entry, actor=admin, reason="申诉材料证明号码已转让")
    with pytest.raises(actions.ModerationError) as error:
        actions.approve_blacklist_removal(entry, actor=admin)
    assert error.value.code == "same_admin"
    assert BlacklistEntry.objects.get(pk=entry.pk).status == BlacklistEntry.Status.ACTIVE

    actions.approve_blacklist_removal(entry, actor=second_admin, reopen_accounts=True)
    entry.refresh_from_db()
    assert entry.status == BlacklistEntry.Status.REMOVED and entry.removed_by == second_admin
    assert Publisher.objects.get(pk=publisher.pk).status == Publisher.Status.ACTIVE
    assert BlacklistEntry.objects.in_force().count() == 0


def test_a_removal_can_be_turned_down_by_the_second_admin(admin, second_admin, publisher):
    entry = blacklist(Kind.PHONE, PHONE, actor=admin)
    actions.request_blacklist_removal(entry, actor=admin, reason="重复")
    actions.reject_blacklist_removal(entry, actor=second_admin)
    entry.refresh_from_db()
    assert entry.status == BlacklistEntry.Status.ACTIVE and entry.removal_requested_at is None


def test_reversing_reopens_the_accounts_unless_another_entry_still_matches(
    client, admin, second_admin, nginx_node, stream_key, agreement
):
    twin = register("acct-twin", document_number=ID_NUMBER, phone="+8613912345678")
    by_phone = blacklist(Kind.PHONE, PHONE, actor=admin)  # closes the fixture publisher
    by_id = blacklist(Kind.ID_DOCUMENT, ID_NUMBER, actor=admin)  # closes the twin
    blacklist(Kind.PLATFORM_ACCOUNT, "acct-twin", actor=admin)  # and keeps it matched

    actions.reverse_blacklisting(by_phone, actor=second_admin, reason="申诉成立")
    actions.reverse_blacklisting(by_id, actor=second_admin, reason="申诉成立")

    assert Publisher.objects.get(pk=stream_key.publisher_id).status == Publisher.Status.ACTIVE
    assert Publisher.objects.get(pk=twin.pk).status == Publisher.Status.CLOSED  # still blacklisted by account
    assert on_publish(client, stream_key.issued_key).status_code == 200
    by_phone.refresh_from_db()
    assert by_phone.status == BlacklistEntry.Status.REMOVED and by_phone.removal_reason == "申诉成立"
    with pytest.raises(actions.ModerationError):
        actions.reverse_blacklisting(by_phone, actor=second_admin, reason="again")


# --- the sweep -----------------------------------------------------------------------------------


def test_the_sweep_closes_accounts_matching_entries_that_arrived_without_closing_them(admin, publisher, agreement):
    # An entry loaded in bulk (as bench/blacklist.py does) closes nothing by itself: the sweep does.
    entry = BlacklistEntry.objects.create(
        reference="BL-BULK-1", kind=Kind.PHONE, value_hash=hash_of(Kind.PHONE, PHONE), masked_value="+86138****8000",
        reason=ReasonCode.FRAUD, author=admin,
    )  # fmt: skip
    untouched = register("acct-other", document_number="11010519491231002X")

    handled = actions.sweep_blacklist()

    assert handled == {publisher.pk: [entry.reference]}
    assert Publisher.objects.get(pk=publisher.pk).status == Publisher.Status.CLOSED
    closure = BlacklistClosure.objects.get(entry=entry)
    assert closure.by_sweep and closure.action.kind == ModerationAction.Kind.CLOSE
    assert Publisher.objects.get(pk=untouched.pk).status == Publisher.Status.ACTIVE
    assert StaffActionLog.objects.filter(verb="blacklist.enforce").count() == 1

    assert actions.sweep_blacklist() == {}  # idempotent
    assert ModerationAction.objects.filter(kind=ModerationAction.Kind.CLOSE).count() == 1


def test_the_sweep_flags_an_account_closed_for_another_reason_without_closing_it_again(admin, publisher):
    actions.close_publisher_account(publisher, actor=admin, reason=ReasonCode.FRAUD)
    entry = BlacklistEntry.objects.create(
        reference="BL-BULK-2", kind=Kind.PLATFORM_ACCOUNT, value_hash=hash_of(Kind.PLATFORM_ACCOUNT, "acct-1001"),
        masked_value="acct****1001", reason=ReasonCode.FRAUD, author=admin,
    )  # fmt: skip
    assert actions.sweep_blacklist() == {publisher.pk: [entry.reference]}
    closure = BlacklistClosure.objects.get(entry=entry)
    assert closure.action is None and closure.by_sweep
    assert actions.sweep_blacklist() == {}


def test_the_beat_schedule_runs_the_sweep(db):
    from django_celery_beat.models import PeriodicTask

    actions.ensure_audit_schedules()
    task = PeriodicTask.objects.get(name="audit:blacklist_sweep")
    assert task.task == "moderation.tasks.audits.run_audit" and task.args == '["blacklist_sweep"]'
    assert task.enabled and task.crontab.minute == "*/5"


# --- the demo ------------------------------------------------------------------------------------


def test_the_demo_has_entries_one_overdue_and_refuses_the_fraudster_under_a_new_account(settings, tmp_path):

    from django.core.management import call_command

    from moderation.blacklist_matching import registration_check
    from moderation.management.commands.seed_demo import demo_id_number
    from moderation.queries import overdue_unreported_blacklistings

    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    assert BlacklistEntry.objects.count() == 4
    assert overdue_unreported_blacklistings().count() == 1
    assert Publisher.objects.filter(status=Publisher.Status.CLOSED).count() == 0  # the wall keeps its streams
    assert all(p.document_hash for p in Publisher.objects.all())  # the demo's ID numbers are valid
    status, answer = registration_check({"id_number": demo_id_number("11010119850312003"), "phone": "13700001234"})
    assert status == 200 and answer["allowed"] is False and answer["reference"].startswith("BL")


# --- key rotation --------------------------------------------------------------------------------


def test_rotating_the_hash_key_keeps_every_match_and_runs_once(client, admin, nginx_node, stream_key, settings):
    from django.core.management import CommandError, call_command

    from moderation.blacklist_matching import registration_check

    entry = blacklist(Kind.ID_DOCUMENT, ID_NUMBER, actor=admin)
    with pytest.raises(CommandError, match="no rotation key"):
        call_command("rotate_identity_hashes")
    settings.LIVEWARD_BLACKLIST_HASH_KEY_ROTATIONS = ["rotation-key-one-" + "r" * 32]
    assert registration_check({"id_number": ID_NUMBER})[1] == {"allowed": True}  # misses until rotated
    call_command("rotate_identity_hashes", stdout=StringIO())
    assert registration_check({"id_number": ID_NUMBER})[1] == {"allowed": False, "reference": entry.reference}
    assert Publisher.objects.get(pk=stream_key.publisher_id).phone_hash == hash_of(Kind.PHONE, PHONE)
    with pytest.raises(CommandError, match="already"):
        call_command("rotate_identity_hashes")  # twice would wrap twice: refused
    settings.LIVEWARD_BLACKLIST_HASH_KEY_ROTATIONS = ["rotation-key-one-" + "r" * 32, "two-" + "t" * 32, "three" * 8]
    with pytest.raises(CommandError, match="not one key behind"):
        call_command("rotate_identity_hashes")
