"""Service-agreement versions (服务协议, Art. 13): published with a grace period, accepted by API, read by the gate."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

import pytest

from moderation import actions
from moderation.models import GateDecision, Publisher, ServiceAgreement
from tests.moderation.test_gate import latest_decision, on_publish

pytestmark = pytest.mark.django_db


def test_the_previous_version_is_accepted_until_the_grace_period_ends(client, nginx_node, stream_key, admin):
    new = actions.publish_agreement(
        "2026-07", title="直播服务协议（7月修订）", text="第一条……", grace_days=30, actor=admin
    )
    assert on_publish(client, stream_key.issued_key).status_code == 200  # accepted 2026-01: in the grace period

    ServiceAgreement.objects.filter(pk=new.pk).update(grace_ends_at=timezone.now() - timedelta(seconds=1))
    response = on_publish(client, stream_key.issued_key, client_id="18")
    assert response.status_code == 403
    decision = latest_decision()
    assert decision.reason == GateDecision.Reason.NO_CURRENT_AGREEMENT
    assert decision.detail == "current 2026-07, grace for 2026-01 ended"

    actions.accept_agreement(stream_key.publisher, version="2026-07")
    assert on_publish(client, stream_key.issued_key, client_id="19").status_code == 200


def test_without_a_grace_period_the_new_version_is_needed_at_once(client, nginx_node, stream_key):
    actions.publish_agreement("2026-07", title="直播服务协议（7月修订）")
    assert on_publish(client, stream_key.issued_key).status_code == 403
    assert latest_decision().detail == "current 2026-07"


def test_only_the_version_just_before_is_in_grace(client, nginx_node, stream_key, admin):
    actions.publish_agreement("2026-07", title="七月版", actor=admin)
    actions.publish_agreement(
        "2026-08", title="八月版", effective_at=timezone.now() + timedelta(minutes=1), actor=admin
    )
    now = timezone.now()
    for version, hours_ago in (("2026-01", 3), ("2026-07", 2), ("2026-08", 1)):
        ServiceAgreement.objects.filter(version=version).update(
            effective_at=now - timedelta(hours=hours_ago), grace_ends_at=now + timedelta(days=1)
        )
    assert on_publish(client, stream_key.issued_key).status_code == 403  # accepted 2026-01: two versions behind
    Publisher.objects.filter(pk=stream_key.publisher_id).update(agreement_version="2026-07")  # accepted back then
    assert on_publish(client, stream_key.issued_key).status_code == 200  # 2026-07: just before, in its grace


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ({"version": "2026-07", "effective_at": "past"}, "bad_field"),
        ({"version": "2026-01"}, "duplicate_version"),
        ({"version": "has space"}, "bad_field"),
        ({"version": "2026-07", "grace_days": 400}, "bad_field"),
        ({"version": "2026-07", "grace_days": -1}, "bad_field"),
        ({"version": "2026-07", "title": " "}, "missing_field"),
    ],
)
def test_bad_versions_are_refused_and_nothing_is_written(agreement, admin, arguments, code):
    arguments = {"title": "新版", **arguments}
    if arguments.get("effective_at") == "past":
        arguments["effective_at"] = timezone.now() - timedelta(days=1)
    with pytest.raises(actions.ModerationError) as refused:
        actions.publish_agreement(actor=admin, **arguments)
    assert refused.value.code == code
    assert list(ServiceAgreement.objects.values_list("version", flat=True)) == ["2026-01"]


def test_a_version_before_a_scheduled_one_is_refused(agreement, admin):
    actions.publish_agreement("2027-01", title="明年版", effective_at=timezone.now() + timedelta(days=30), actor=admin)
    with pytest.raises(actions.ModerationError):
        actions.publish_agreement(
            "2026-12", title="插队", effective_at=timezone.now() + timedelta(days=10), actor=admin
        )


def test_a_patroller_may_not_publish_a_version(agreement, patroller):
    with pytest.raises(actions.ModerationError) as refused:
        actions.publish_agreement("2026-07", title="越权", actor=patroller)
    assert refused.value.code == "forbidden"


def test_the_console_publishes_a_version_and_counts_who_has_not_accepted(client, publisher, admin, inspector):
    client.force_login(admin)
    start = (timezone.localtime() + timedelta(days=7)).strftime("%Y-%m-%d %H:%M")
    response = client.post(
        reverse("console:agreements"),
        {"version": "2026-12", "title": "年末修订", "effective_at": start, "grace_days": 30, "text": "第一条……"},
    )
    assert response.status_code == 302
    new = ServiceAgreement.objects.get(version="2026-12")
    assert new.grace_ends_at - new.effective_at == timedelta(days=30) and new.text == "第一条……"
    page = client.get(reverse("console:agreements")).content.decode()
    assert 'id="not-accepted"' in page and "<strong>1</strong>" in page  # 美食小当家 has 2026-01

    past = client.post(
        reverse("console:agreements"),
        {"version": "2026-11", "title": "过去", "effective_at": "2020-01-01 00:00", "grace_days": 0, "text": "x"},
    )
    assert past.status_code == 400 and not ServiceAgreement.objects.filter(version="2026-11").exists()

    client.force_login(inspector)
    assert client.get(reverse("console:agreements")).status_code == 200
    denied = client.post(
        reverse("console:agreements"),
        {"version": "2027-02", "title": "越权", "effective_at": start, "grace_days": 0, "text": "x"},
    )
    assert denied.status_code == 403


def test_the_current_version_is_readable_by_api_with_its_text(agreement, admin):
    from tests.moderation.test_api import staff_client

    answer = staff_client(admin).get(reverse("api-current-agreement")).json()
    assert answer["version"] == "2026-01" and answer["grace_ends_at"] is None and "text" in answer
