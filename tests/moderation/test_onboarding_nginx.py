"""The documented onboarding (docs/onboarding.md) end to end: API calls only, then ffmpeg to Debian's nginx-rtmp."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

import pytest
from rest_framework.test import APIClient

from accounts.actions import create_machine_client
from accounts.roles import MACHINE_PLATFORM
from moderation import actions, mediaservers
from moderation.models import GateDecision, Publisher, ReasonCode, Stream
from tests.media import nginx_rtmp_fixture, wait_until  # noqa: F401 (the nginx_rtmp fixture)

pytestmark = pytest.mark.media_server


def platform_client() -> APIClient:
    Group.objects.get_or_create(name=MACHINE_PLATFORM)  # a transactional test before may have flushed it
    _user, token = create_machine_client("platform-backend", kind=MACHINE_PLATFORM, actor=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_a_publisher_onboarded_through_the_api_goes_live_on_nginx(nginx_rtmp, agreement, entertainment):
    api = platform_client()
    registered = api.post(
        reverse("api-publishers"),
        {"platform_account_id": "acct-3001", "display_name": "山野行者", "real_name": "周杰",
         "document_number": "110105199001011232", "phone": "13800138000"},
        format="json",
    )  # fmt: skip
    assert registered.status_code == 201, registered.json()
    issued = api.post(
        reverse("api-publisher-stream-keys", args=["acct-3001"]), {"category": "entertainment"}, format="json"
    ).json()

    refused = nginx_rtmp.publish(issued["key"])
    assert refused.wait(timeout=10) != 0, "nginx let an unverified publisher in"
    assert GateDecision.objects.latest("id").reason == GateDecision.Reason.PUBLISHER_UNVERIFIED

    verified = api.post(
        reverse("api-publisher-verifications", args=["acct-3001"]),
        {"method": "id_face", "provider": "kyc-cloud", "reference": "kyc-3001", "result": "verified",
         "performed_at": timezone.now().isoformat()},
        format="json",
    )  # fmt: skip
    assert verified.status_code == 201, verified.json()
    version = api.get(reverse("api-current-agreement")).json()["version"]
    accepted = api.post(reverse("api-publisher-agreement", args=["acct-3001"]), {"version": version}, format="json")
    assert accepted.status_code == 200

    publish = nginx_rtmp.publish(issued["key"])
    stream = wait_until(
        lambda: Stream.objects.live().filter(key_id=issued["id"]).first(),
        message=f"a live stream; ffmpeg said {publish.stderr()!r}",
    )
    adapter = mediaservers.adapter_for(nginx_rtmp.node)
    wait_until(lambda: [s for s in adapter.live_streams() if s.name == issued["key"]], message="nginx to list it")
    assert stream.publisher.platform_account_id == "acct-3001" and publish.running


def test_a_blocked_publishers_new_key_is_refused_by_nginx_until_the_cooling_off_ends(nginx_rtmp, stream_key, patroller):
    api = platform_client()
    publish = nginx_rtmp.publish(stream_key.issued_key)
    stream = wait_until(lambda: Stream.objects.live().filter(key=stream_key).first(), message="a live stream")
    actions.block_stream(stream, actor=patroller, reason=ReasonCode.PORNOGRAPHY)
    assert publish.wait(timeout=10) != 0, "the block did not cut ffmpeg"

    issued = api.post(
        reverse("api-publisher-stream-keys", args=[stream_key.publisher.platform_account_id]),
        {"category": stream_key.category.slug},
        format="json",
    ).json()
    refused = nginx_rtmp.publish(issued["key"])
    assert refused.wait(timeout=10) != 0, "nginx let a new key of a blocked publisher in"
    assert GateDecision.objects.latest("id").reason == GateDecision.Reason.KEY_COOLING_OFF

    Publisher.objects.filter(pk=stream_key.publisher_id).update(cooling_off_until=timezone.now())
    nginx_rtmp.publish(issued["key"])
    wait_until(lambda: Stream.objects.live().filter(key_id=issued["id"]).first(), message="the new key live")


def test_an_organisation_verified_by_manual_review_in_the_console_goes_live_on_nginx(
    nginx_rtmp, agreement, entertainment, client, admin
):
    import base64

    from accounts.actions import create_staff_user
    from accounts.roles import Role
    from tests.conftest import PASSWORD

    api = platform_client()
    registered = api.post(
        reverse("api-publishers"),
        {"platform_account_id": "org-3002", "display_name": "山城融媒", "kind": "organisation",
         "real_name": "山城融媒体中心", "document_type": "business_licence", "document_number": "91500000MA01",
         "agreement_version": "2026-01"},
        format="json",
    )  # fmt: skip
    assert registered.status_code == 201, registered.json()
    scan = b"%PDF-1.4\n" + b"licence scan" * 8
    review = api.post(
        reverse("api-publisher-verification-reviews", args=["org-3002"]),
        {
            "reference": "rv-3002",
            "documents": [{"name": "营业执照.pdf", "content_base64": base64.b64encode(scan).decode()}],
        },
        format="json",
    )
    assert review.status_code == 201, review.json()
    second = create_staff_user("admin2", role=Role.COMPLIANCE_ADMIN, password=PASSWORD, display_name="合规管理员二")
    for reviewer in (admin, second):  # four-eyes: two different compliance admins approve
        client.force_login(reviewer)
        decided = client.post(
            reverse("console:verification-review", args=[review.json()["id"]]), {"decision": "approve", "note": ""}
        )
        assert decided.status_code == 302
    issued = api.post(
        reverse("api-publisher-stream-keys", args=["org-3002"]), {"category": "entertainment"}, format="json"
    ).json()
    publish = nginx_rtmp.publish(issued["key"])
    wait_until(
        lambda: Stream.objects.live().filter(key_id=issued["id"]).first(),
        message=f"a live stream; ffmpeg said {publish.stderr()!r}",
    )
