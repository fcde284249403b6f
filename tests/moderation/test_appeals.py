"""Appeals: the platform submits by API, another compliance admin decides, upheld reverses, webhook tells."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

import pytest
from rest_framework.test import APIClient

from accounts.actions import create_machine_client
from accounts.models import StaffActionLog
from accounts.roles import MACHINE_PLATFORM, Role
from moderation import actions
from moderation.models import (
    Appeal,
    CreditEvent,
    ModerationAction,
    Publisher,
    ReasonCode,
    Stream,
    StreamKey,
    WebhookDelivery,
)
from moderation.tasks.webhooks import deliver_webhook
from tests.conftest import NODE_SECRET, _staff
from tests.moderation.test_webhooks import SECRET, Receiver

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def platform(db):
    _user, token = create_machine_client("platform-backend", kind=MACHINE_PLATFORM, actor=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def second_admin(db):
    return _staff("admin2", Role.COMPLIANCE_ADMIN, "合规管理员小钱")


@pytest.fixture
def platform_receiver(settings, monkeypatch):
    monkeypatch.setattr(deliver_webhook, "apply_async", lambda args, **options: deliver_webhook.apply(args))
    with Receiver() as running:
        settings.LIVEWARD_PLATFORM_WEBHOOK_URL = running.url
        settings.LIVEWARD_PLATFORM_WEBHOOK_SECRET = SECRET
        yield running


def on_publish(client, key: str, client_id: str):
    form = {"app": "live", "name": key, "addr": "203.0.113.1", "clientid": client_id, "call": "publish", "type": "live"}
    return client.post(f"/gate/nginx-rtmp/edge-1/{NODE_SECRET}/on_publish", urlencode(form), content_type=FORM)


@pytest.fixture
def live(client, nginx_node, stream_key):
    assert on_publish(client, stream_key.issued_key, "5").status_code == 200
    return Stream.objects.live().get()


@pytest.fixture
def block_event(live, admin, django_capture_on_commit_callbacks):
    """A block by the (first) compliance admin, which cost 15 points (default policy) after its cut."""
    with django_capture_on_commit_callbacks(execute=True):
        action = actions.block_stream(live, actor=admin, reason=ReasonCode.FRAUD)
    return CreditEvent.objects.get(action=action)


def submit(platform, event_id, *, account="acct-1001", kind="credit_event", statement="我没有违规，请复核录像。"):
    body = {"kind": kind, "target": event_id, "publisher": account, "statement": statement, "reference": "ap-77"}
    return platform.post(reverse("api-appeals"), body, format="json")


def nothing_new_written(before_appeals: int = 0) -> bool:
    return Appeal.objects.count() == before_appeals and not StaffActionLog.objects.filter(verb="appeal.submit").exists()


# --- submission -------------------------------------------------------------------------------


def test_the_platform_submits_an_appeal_and_reads_its_status(platform, block_event):
    response = submit(platform, block_event.pk)
    assert response.status_code == 201, response.content
    body = response.json()
    appeal = Appeal.objects.get()
    assert (body["id"], body["status"], body["target"], body["reference"]) == (
        appeal.pk,
        "pending",
        block_event.pk,
        "ap-77",
    )
    assert appeal.credit_event == block_event and appeal.publisher == block_event.publisher
    assert platform.get(reverse("api-appeal", args=[appeal.pk])).json()["status"] == "pending"


def test_the_platform_reads_credit_events_with_their_ids_and_the_audience_cap(platform, block_event):
    response = platform.get(reverse("api-publisher-credit", args=["acct-1001"]))
    assert response.status_code == 200
    body = response.json()
    assert (body["credit_score"], body["credit_level"]) == (85, "B")
    assert body["credit_rules"]["audience_cap"] is None and body["credit_rules"]["may_broadcast"] is True
    [event] = body["events"]
    assert (event["id"], event["points"], event["action_kind"], event["appealable"]) == (
        block_event.pk,
        -15,
        "block",
        True,
    )
    assert "document_number" not in body  # identity stays with staff endpoints


@pytest.mark.parametrize(
    "change, status, code",
    [
        ({"target": 999999}, 404, "not_found"),
        ({"account": "acct-other"}, 400, "wrong_publisher"),
        ({"kind": "blacklisting"}, 404, "not_found"),  # a credit event's id is no blacklist entry
        ({"kind": "nonsense"}, 400, "invalid"),
        ({"statement": "   "}, 400, "invalid"),
        ({"target": "abc"}, 400, "invalid"),
    ],
)
def test_bad_submissions_are_clear_4xx_and_write_nothing(platform, block_event, change, status, code):
    target = change.pop("target", block_event.pk)
    response = submit(platform, target, **change)
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert nothing_new_written()


def test_a_double_appeal_is_409(platform, block_event):
    assert submit(platform, block_event.pk).status_code == 201
    response = submit(platform, block_event.pk, statement="再次申诉")
    assert response.status_code == 409 and response.json()["error"]["code"] == "duplicate_appeal"
    assert Appeal.objects.count() == 1


def test_only_deductions_can_be_appealed(platform, publisher, admin):
    gift = actions.adjust_credit(publisher, actor=admin, points=5, reason="补偿")
    response = submit(platform, gift.pk)
    assert response.status_code == 400 and response.json()["error"]["code"] == "not_appealable"


def test_staff_and_outsiders_cannot_submit(client, block_event, patroller, admin):
    staff = APIClient()
    staff.force_authenticate(patroller)
    assert submit(staff, block_event.pk).status_code == 403
    assert submit(APIClient(), block_event.pk).status_code in (401, 403)
    assert nothing_new_written()


# --- decisions --------------------------------------------------------------------------------


@pytest.fixture
def appeal(platform, block_event):
    assert submit(platform, block_event.pk).status_code == 201
    return Appeal.objects.get()


def test_an_upheld_appeal_reverses_the_points_the_level_and_the_block(
    client, appeal, block_event, second_admin, platform_receiver, django_capture_on_commit_callbacks
):
    key = StreamKey.objects.get(pk=block_event.action.stream.key_id)
    assert key.denied_until is not None and key.denied_until > timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        actions.decide_appeal(appeal, actor=second_admin, uphold=True, note="录像复核无违规")

    appeal.refresh_from_db()
    assert (appeal.status, appeal.decided_by, appeal.decision_note) == ("upheld", second_admin, "录像复核无违规")
    publisher = Publisher.objects.get(pk=appeal.publisher_id)
    assert (publisher.credit_score, publisher.credit_level) == (100, "A")
    block_event.refresh_from_db()
    reversal = block_event.reversed_by
    assert (reversal.kind, reversal.points, reversal.actor) == ("reversal", 15, second_admin)
    assert StreamKey.objects.get(pk=key.pk).denied_until is None  # the cooling-off is lifted
    assert ModerationAction.objects.filter(kind="lift", actor=second_admin).exists()
    told = {r["headers"]["X-Liveward-Event"] for r in platform_receiver.requests}
    assert {"publisher.lifted", "publisher.credit_level_changed"} <= told  # the lift and the level back to A
    assert on_publish(client, block_event.action.stream.published_name, "8").status_code == 200

    delivery = WebhookDelivery.objects.get(event="appeal.decided")
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    [request] = [r for r in platform_receiver.requests if r["headers"]["X-Liveward-Event"] == "appeal.decided"]
    assert request["verified"]
    data = json.loads(request["body"])["data"]
    assert (data["appeal"], data["outcome"], data["platform_reference"], data["credit_level"]) == (
        appeal.pk,
        "upheld",
        "ap-77",
        "A",
    )


def test_an_upheld_appeal_lifts_the_suspension_it_caused(
    client, live, admin, second_admin, platform, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        action = actions.suspend_publisher(live, actor=admin, reason=ReasonCode.FRAUD, minutes=60)
    event = CreditEvent.objects.get(action=action)
    assert submit(platform, event.pk).status_code == 201
    actions.decide_appeal(Appeal.objects.get(), actor=second_admin, uphold=True, note="误判")
    publisher = Publisher.objects.get(pk=live.publisher_id)
    assert (publisher.status, publisher.suspended_until, publisher.credit_score) == ("active", None, 100)


def test_an_upheld_appeal_reopens_the_account_its_closure_closed(
    live, admin, second_admin, platform, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        action = actions.close_publisher(live, actor=admin, reason=ReasonCode.FRAUD)
    assert submit(platform, CreditEvent.objects.get(action=action).pk).status_code == 201
    actions.decide_appeal(Appeal.objects.get(), actor=second_admin, uphold=True, note="误判")
    assert Publisher.objects.get(pk=live.publisher_id).status == "active"


def test_a_dismissed_appeal_changes_nothing_but_tells_the_platform(
    appeal, block_event, second_admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        actions.decide_appeal(appeal, actor=second_admin, uphold=False, note="证据确凿")
    appeal.refresh_from_db()
    assert appeal.status == "dismissed"
    assert Publisher.objects.get(pk=appeal.publisher_id).credit_score == 85
    block_event.refresh_from_db()
    assert block_event.reversed_by is None
    assert WebhookDelivery.objects.get(event="appeal.decided").payload["outcome"] == "dismissed"


def test_the_admin_who_acted_cannot_decide(appeal, admin):
    for uphold in (True, False):
        with pytest.raises(actions.ModerationError) as error:
            actions.decide_appeal(appeal, actor=admin, uphold=uphold, note="自己复核")
        assert error.value.code == "own_action"
    appeal.refresh_from_db()
    assert appeal.status == "pending" and not WebhookDelivery.objects.filter(event="appeal.decided").exists()


def test_only_a_compliance_admin_decides(appeal, patroller, inspector, editor_in_chief):
    for user in (patroller, inspector, editor_in_chief):
        with pytest.raises(actions.ModerationError) as error:
            actions.decide_appeal(appeal, actor=user, uphold=True, note="x")
        assert error.value.code == "forbidden"
    assert Appeal.objects.get().status == "pending"


def test_a_decision_needs_a_note_and_happens_once(appeal, second_admin):
    with pytest.raises(actions.ModerationError) as error:
        actions.decide_appeal(appeal, actor=second_admin, uphold=True, note="  ")
    assert error.value.code == "missing_field"
    actions.decide_appeal(appeal, actor=second_admin, uphold=False, note="驳回")
    with pytest.raises(actions.ModerationError) as error:
        actions.decide_appeal(appeal, actor=second_admin, uphold=True, note="改判")
    assert error.value.code == "already_decided"
    assert Appeal.objects.get().status == "dismissed" and not CreditEvent.objects.filter(kind="reversal").exists()


def test_a_reversed_event_cannot_be_reversed_again(block_event, second_admin):
    actions.reverse_credit_event(block_event, actor=second_admin, reason="复核")
    with pytest.raises(actions.ModerationError) as error:
        actions.reverse_credit_event(block_event, actor=second_admin, reason="再次")
    assert error.value.code == "already_reversed"
    assert CreditEvent.objects.filter(kind="reversal").count() == 1


def test_an_upheld_appeal_against_a_blacklisting_removes_it_and_reopens_the_account(
    client, live, admin, second_admin, platform, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        entry = actions.add_blacklist_entry("phone", "138 0013 8000", actor=admin, reason=ReasonCode.FRAUD)
    publisher = Publisher.objects.get(pk=live.publisher_id)
    assert publisher.status == "closed" and publisher.credit_score < 100
    assert submit(platform, entry.pk, kind="blacklisting").status_code == 201
    appeal = Appeal.objects.get()
    assert (appeal.kind, appeal.target_id, appeal.publisher_id) == ("blacklisting", entry.pk, publisher.pk)
    with pytest.raises(actions.ModerationError) as own:
        actions.decide_appeal(appeal, actor=admin, uphold=True, note="自己复核")
    assert own.value.code == "own_action"
    with django_capture_on_commit_callbacks(execute=True):
        actions.decide_appeal(appeal, actor=second_admin, uphold=True, note="号码已转让，非本人")
    entry.refresh_from_db()
    assert entry.status == "removed"
    publisher.refresh_from_db()
    assert (publisher.status, publisher.credit_score) == ("active", 100)  # reopened, the closure's points back
    assert on_publish(client, live.published_name, "9").status_code == 200


def test_only_an_account_the_blacklisting_touched_may_appeal_it(
    platform, live, admin, django_capture_on_commit_callbacks
):
    other = actions.register_publisher(
        "acct-untouched", display_name="路人甲", phone="+8613900139000", agreement_version="2026-01"
    )
    with django_capture_on_commit_callbacks(execute=True):
        entry = actions.add_blacklist_entry("phone", "+86 138 0013 8000", actor=admin, reason=ReasonCode.FRAUD)
    response = submit(platform, entry.pk, kind="blacklisting", account=other.platform_account_id)
    assert response.status_code == 400 and response.json()["error"]["code"] == "wrong_publisher"
