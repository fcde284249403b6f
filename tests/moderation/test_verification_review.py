"""Manual review of real-name verification: submitted by the platform with scans, decided in the console."""

from __future__ import annotations

import base64

from django.urls import reverse

import pytest

from accounts.actions import create_staff_user
from accounts.roles import Role
from moderation import actions
from moderation.models import Publisher, VerificationDocument, VerificationReview, WebhookDelivery
from tests.conftest import PASSWORD
from tests.moderation.test_api import error_of, platform, registration  # noqa: F401
from tests.moderation.test_onboarding_api import register

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"x" * 64


def encoded(content: bytes) -> str:
    return base64.b64encode(content).decode()


def submit(platform, account="acct-2001", reference="rv-1", documents=None):  # noqa: F811
    documents = documents if documents is not None else [
        {"name": "身份证正面.png", "content_base64": encoded(PNG)},
        {"name": "授权书.pdf", "content_base64": encoded(PDF)},
    ]  # fmt: skip
    return platform.post(
        reverse("api-publisher-verification-reviews", args=[account]),
        {"reference": reference, "documents": documents},
        format="json",
    )


def decide(client, review_id: int, decision: str, note: str = ""):
    return client.post(reverse("console:verification-review", args=[review_id]), {"decision": decision, "note": note})


def test_a_person_is_verified_by_one_compliance_admin_in_the_console(platform, agreement, client, admin):  # noqa: F811
    register(platform)
    answer = submit(platform)
    assert answer.status_code == 201, answer.json()
    review_id = answer.json()["id"]
    assert [d["content_type"] for d in answer.json()["documents"]] == ["image/png", "application/pdf"]

    client.force_login(admin)
    queue = client.get(reverse("console:verification-reviews"))
    assert queue.status_code == 200 and "山野行者" in queue.content.decode()
    page = client.get(reverse("console:verification-review", args=[review_id]))
    document = VerificationDocument.objects.filter(review_id=review_id).first()
    assert reverse("console:verification-document", args=[document.pk]) in page.content.decode()

    assert decide(client, review_id, "approve").status_code == 302
    publisher = Publisher.objects.get(platform_account_id="acct-2001")
    assert publisher.verification == Publisher.Verification.VERIFIED
    review = VerificationReview.objects.get(pk=review_id)
    assert (review.status, review.decided_by, review.report.method) == ("approved", admin, "manual_review")
    delivery = WebhookDelivery.objects.get(event="publisher.verification_changed")
    assert (delivery.payload["method"], delivery.payload["verification"]) == ("manual_review", "verified")
    state = platform.get(reverse("api-publisher-verification-review", args=["acct-2001", review_id]))
    assert state.json()["status"] == "approved"


def test_a_rejection_needs_its_reason(platform, agreement, client, admin):  # noqa: F811
    register(platform)
    review_id = submit(platform).json()["id"]
    client.force_login(admin)
    assert decide(client, review_id, "reject").status_code == 400
    assert VerificationReview.objects.get(pk=review_id).status == "pending"
    assert decide(client, review_id, "reject", "证件照片模糊，无法辨认").status_code == 302
    publisher = Publisher.objects.get(platform_account_id="acct-2001")
    assert (publisher.verification, publisher.verification_note) == ("rejected", "证件照片模糊，无法辨认")


def test_an_organisation_needs_two_different_admins(platform, agreement, client, admin):  # noqa: F811
    register(platform, kind="organisation", document_type="business_licence", document_number="91110000MA01")
    review_id = submit(platform).json()["id"]
    client.force_login(admin)
    assert decide(client, review_id, "approve").status_code == 302
    assert VerificationReview.objects.get(pk=review_id).status == "first_approved"
    assert Publisher.objects.get(platform_account_id="acct-2001").verification == "pending"
    again = decide(client, review_id, "approve")
    assert again.status_code == 400 and "second" in again.content.decode()
    assert Publisher.objects.get(platform_account_id="acct-2001").verification == "pending"

    second = create_staff_user("admin2", role=Role.COMPLIANCE_ADMIN, password=PASSWORD, display_name="合规管理员小钱")
    client.force_login(second)
    assert decide(client, review_id, "approve").status_code == 302
    assert Publisher.objects.get(platform_account_id="acct-2001").verification == "verified"


@pytest.mark.parametrize(
    "documents",
    [
        [{"name": "x.exe", "content_base64": encoded(b"MZ\x90\x00 not a scan")}],
        [{"name": "x.png", "content_base64": encoded(b"<svg onload=alert(1)>")}],
        [{"name": "big.png", "content_base64": encoded(PNG + b"\x00" * (2 * 1024 * 1024))}],
        [{"name": "x.png", "content_base64": "not base64!"}],
        [],
        [{"name": f"{n}.png", "content_base64": encoded(PNG)} for n in range(5)],
    ],
)
def test_bad_scans_are_4xx_and_write_nothing(platform, agreement, documents):  # noqa: F811
    register(platform)
    answer = submit(platform, documents=documents)
    assert 400 <= answer.status_code < 500, answer.content
    assert not VerificationReview.objects.exists() and not VerificationDocument.objects.exists()


def test_a_replayed_review_is_409(platform, agreement):  # noqa: F811
    register(platform)
    assert submit(platform).status_code == 201
    replay = submit(platform)
    assert replay.status_code == 409 and error_of(replay)["code"] == "duplicate_report"
    assert VerificationReview.objects.count() == 1 and VerificationDocument.objects.count() == 2


def test_scans_are_for_staff_who_read_verification_only(platform, agreement, client, admin, inspector, patroller):  # noqa: F811
    register(platform)
    review_id = submit(platform).json()["id"]
    document = VerificationDocument.objects.filter(review_id=review_id, content_type="image/png").get()
    url = reverse("console:verification-document", args=[document.pk])
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(patroller)
    assert client.get(url).status_code == 403
    assert client.get(reverse("console:verification-reviews")).status_code == 403
    client.force_login(inspector)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff" and b"".join(response.streaming_content) == PNG
    assert response["Content-Disposition"].startswith("inline;") and "sandbox" in response["Content-Security-Policy"]
    assert decide(client, review_id, "approve").status_code == 403  # an inspector reads, never decides
    assert VerificationReview.objects.get(pk=review_id).status == "pending"


def test_the_action_refuses_a_role_that_may_not_decide(platform, agreement, patroller):  # noqa: F811
    register(platform)
    review = VerificationReview.objects.get(pk=submit(platform).json()["id"])
    with pytest.raises(actions.ModerationError):
        actions.decide_verification_review(review, actor=patroller, approve=True, note="")
