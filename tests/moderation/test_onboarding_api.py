"""Onboarding through the API alone: register, verify (platform report), accept the agreement, issue a key, publish."""

from __future__ import annotations

import json
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

import pytest

from accounts.models import StaffActionLog
from moderation.models import GateDecision, Publisher, Stream, StreamKey, VerificationReport, WebhookDelivery
from moderation.tasks.webhooks import deliver_webhook
from tests.moderation.test_api import VALID_DOCUMENT, error_of, platform, registration  # noqa: F401
from tests.moderation.test_gate import on_publish
from tests.moderation.test_webhooks import SECRET, Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def platform_receiver(settings, monkeypatch):
    monkeypatch.setattr(deliver_webhook, "apply_async", lambda args, **options: deliver_webhook.apply(args))
    with Receiver() as running:
        settings.LIVEWARD_PLATFORM_WEBHOOK_URL = running.url
        settings.LIVEWARD_PLATFORM_WEBHOOK_SECRET = SECRET
        yield running


def register(platform, **overrides) -> dict:  # noqa: F811
    response = platform.post(reverse("api-publishers"), registration(**overrides), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def report(**overrides) -> dict:
    data = {
        "method": "id_face",
        "provider": "kyc-cloud",
        "reference": "kyc-0001",
        "result": "verified",
        "performed_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
    }
    data.update(overrides)
    return data


def send_report(platform, account="acct-2001", **overrides):  # noqa: F811
    return platform.post(reverse("api-publisher-verifications", args=[account]), report(**overrides), format="json")


def test_the_whole_onboarding_through_the_api_reaches_an_open_gate(
    platform,  # noqa: F811
    agreement,
    entertainment,
    nginx_node,
    client,
    platform_receiver,
    django_capture_on_commit_callbacks,
):
    register(platform, agreement_version="")
    current = platform.get(reverse("api-current-agreement"))
    assert current.status_code == 200 and current.json()["version"] == "2026-01"

    with django_capture_on_commit_callbacks(execute=True):
        answer = send_report(platform)
    assert answer.status_code == 201, answer.json()
    assert answer.json()["verification"] == "verified"

    accepted = platform.post(
        reverse("api-publisher-agreement", args=["acct-2001"]), {"version": current.json()["version"]}, format="json"
    )
    assert accepted.status_code == 200 and accepted.json()["agreement_version"] == "2026-01"
    issued = platform.post(
        reverse("api-publisher-stream-keys", args=["acct-2001"]), {"category": "entertainment"}, format="json"
    )
    assert issued.status_code == 201
    key = issued.json()["key"]

    assert on_publish(client, key).status_code == 200
    assert Stream.objects.live().get().publisher.platform_account_id == "acct-2001"

    [request] = platform_receiver.requests
    assert request["verified"] and request["headers"]["X-Liveward-Event"] == "publisher.verification_changed"
    data = json.loads(request["body"])["data"]
    assert (data["publisher"], data["verification"], data["previous"]) == ("acct-2001", "verified", "pending")
    assert (data["method"], data["provider"], data["reference"]) == ("id_face", "kyc-cloud", "kyc-0001")


def test_a_pending_publisher_is_refused_at_the_gate(platform, agreement, entertainment, nginx_node, client):  # noqa: F811
    register(platform)
    key = platform.post(
        reverse("api-publisher-stream-keys", args=["acct-2001"]), {"category": "entertainment"}, format="json"
    ).json()["key"]
    assert on_publish(client, key).status_code != 200
    assert GateDecision.objects.latest("id").reason == GateDecision.Reason.PUBLISHER_UNVERIFIED


def test_a_failed_verification_records_why_and_tells_the_platform(platform, agreement):  # noqa: F811
    register(platform)
    answer = send_report(platform, result="failed", reason="人脸比对不一致")
    assert answer.status_code == 201
    publisher = Publisher.objects.get(platform_account_id="acct-2001")
    assert publisher.verification == Publisher.Verification.REJECTED
    assert publisher.verification_note == "人脸比对不一致"
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "publisher.verification_changed"
    assert (delivery.payload["verification"], delivery.payload["reason"]) == ("rejected", "人脸比对不一致")


def test_a_newer_report_overrides_and_an_older_one_is_refused(platform, agreement):  # noqa: F811
    register(platform)
    now = timezone.now()
    assert send_report(platform, performed_at=(now - timedelta(hours=1)).isoformat()).status_code == 201
    later = send_report(
        platform, reference="kyc-0002", result="failed", reason="证件过期", performed_at=now.isoformat()
    )
    assert later.status_code == 201
    older = send_report(platform, reference="kyc-0003", performed_at=(now - timedelta(minutes=30)).isoformat())
    assert older.status_code == 409 and error_of(older)["code"] == "stale_report"
    publisher = Publisher.objects.get(platform_account_id="acct-2001")
    assert publisher.verification == Publisher.Verification.REJECTED
    assert not VerificationReport.objects.filter(reference="kyc-0003").exists()
    assert WebhookDelivery.objects.count() == 2  # pending → verified, verified → rejected


def test_a_replayed_report_is_refused_and_writes_nothing(platform, agreement):  # noqa: F811
    register(platform)
    assert send_report(platform).status_code == 201
    logs = StaffActionLog.objects.count()
    replay = send_report(platform, performed_at=timezone.now().isoformat())
    assert replay.status_code == 409 and error_of(replay)["code"] == "duplicate_report"
    assert VerificationReport.objects.count() == 1 and StaffActionLog.objects.count() == logs
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"method": "fingerprint"}, "invalid"),
        ({"method": "organisation_licence"}, "bad_field"),  # a person is not verified by a licence
        ({"method": "manual_review"}, "invalid"),  # manual review happens in the console
        ({"result": "maybe"}, "invalid"),
        ({"result": "failed"}, "missing_field"),  # a failure needs its reason
        ({"performed_at": "yesterday"}, "invalid"),
        ({"provider": ""}, "invalid"),
        ({"reference": "a\x00b"}, "invalid"),
    ],
)
def test_bad_reports_are_4xx_and_change_nothing(platform, agreement, overrides, code):  # noqa: F811
    register(platform)
    answer = send_report(platform, **overrides)
    assert 400 <= answer.status_code < 500 and error_of(answer)["code"] == code
    publisher = Publisher.objects.get(platform_account_id="acct-2001")
    assert publisher.verification == Publisher.Verification.PENDING
    assert not VerificationReport.objects.exists() and not WebhookDelivery.objects.exists()


def test_a_report_from_the_future_is_refused(platform, agreement):  # noqa: F811
    register(platform)
    answer = send_report(platform, performed_at=(timezone.now() + timedelta(hours=2)).isoformat())
    assert answer.status_code == 400 and error_of(answer)["code"] == "bad_field"


def test_a_report_for_an_unknown_publisher_is_404(platform, agreement):  # noqa: F811
    answer = send_report(platform, account="acct-9999")
    assert answer.status_code == 404 and not VerificationReport.objects.exists()


def test_an_organisation_is_verified_by_its_licence_only(platform, agreement):  # noqa: F811
    register(platform, kind="organisation", document_type="business_licence", document_number="91110000MA01")
    assert send_report(platform).status_code == 400
    assert send_report(platform, method="organisation_licence").status_code == 201


def test_staff_and_strangers_cannot_report(client, agreement, admin):
    client.force_login(admin)
    response = client.post(
        reverse("api-publisher-verifications", args=["acct-2001"]), report(), content_type="application/json"
    )
    assert response.status_code == 403


def test_accepting_an_unknown_agreement_is_400(platform, agreement):  # noqa: F811
    register(platform)
    answer = platform.post(reverse("api-publisher-agreement", args=["acct-2001"]), {"version": "1999"}, format="json")
    assert answer.status_code == 400 and error_of(answer)["code"] == "unknown_agreement"
    assert Publisher.objects.get(platform_account_id="acct-2001").agreement_version == "2026-01"


def test_the_platform_revokes_a_key_and_the_gate_refuses_it(platform, agreement, entertainment, nginx_node, client):  # noqa: F811
    register(platform)
    send_report(platform)
    issued = platform.post(
        reverse("api-publisher-stream-keys", args=["acct-2001"]), {"category": "entertainment"}, format="json"
    ).json()
    revoked = platform.post(reverse("api-publisher-stream-key-revoke", args=["acct-2001", issued["id"]]))
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked" and "key" not in revoked.json()
    assert on_publish(client, issued["key"]).status_code != 200
    assert GateDecision.objects.latest("id").reason == GateDecision.Reason.KEY_REVOKED
    other = platform.post(reverse("api-publisher-stream-key-revoke", args=["acct-9999", issued["id"]]))
    assert other.status_code == 404
    assert StreamKey.objects.get(pk=issued["id"]).status == StreamKey.Status.REVOKED
