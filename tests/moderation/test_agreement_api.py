"""Publishing a service-agreement version through the API (Art. 13), as the console page does."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

import pytest

from accounts.models import StaffActionLog
from moderation.models import ServiceAgreement
from tests.moderation.test_api import error_of, platform, staff_client  # noqa: F401

pytestmark = pytest.mark.django_db

TEXT = "第一条 主播应遵守法律法规……\n第二条 平台依照协议采取处置措施……"


def version(**overrides) -> dict:
    return {
        "version": "2026-07",
        "title": "直播服务协议（2026年7月修订）",
        "text": TEXT,
        "effective_at": (timezone.now() + timedelta(days=7)).isoformat(),
        "grace_days": 30,
    } | overrides


def test_a_compliance_admin_client_publishes_a_version_and_it_becomes_current_when_due(admin, agreement):
    client = staff_client(admin)
    answer = client.post(reverse("api-agreements"), version(), format="json")
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert (body["version"], body["text"]) == ("2026-07", TEXT)
    published = ServiceAgreement.objects.get(version="2026-07")
    assert published.grace_ends_at == published.effective_at + timedelta(days=30)
    log = StaffActionLog.objects.get(verb="agreement.publish", target_id=str(published.pk))
    assert log.actor == admin
    # Not in force until its date: the current version is still the one before it.
    assert client.get(reverse("api-current-agreement")).json()["version"] == "2026-01"
    now = client.post(reverse("api-agreements"), version(version="2026-08", effective_at=None), format="json")
    assert now.status_code == 400  # the date is required, not assumed


def test_a_version_in_force_at_once_is_the_current_one(admin, agreement, platform):  # noqa: F811
    answer = staff_client(admin).post(
        reverse("api-agreements"), version(effective_at=timezone.now().isoformat(), grace_days=0), format="json"
    )
    assert answer.status_code == 201, answer.json()
    current = platform.get(reverse("api-current-agreement")).json()
    assert (current["version"], current["text"], current["grace_ends_at"]) == ("2026-07", TEXT, None)


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"effective_at": "2020-01-01T00:00:00+08:00"}, 400, "bad_field"),  # in the past
        ({"version": "2026-01"}, 409, "duplicate_version"),
        ({"version": "2026 07 修订"}, 400, "bad_field"),
        ({"text": ""}, 400, "invalid"),
        ({"title": "标题\u0007"}, 400, "invalid"),
        ({"grace_days": 400}, 400, "invalid"),
        ({"grace_days": -1}, 400, "invalid"),
        ({"effective_at": "next week"}, 400, "invalid"),
    ],
)
def test_bad_versions_are_4xx_and_publish_nothing(admin, agreement, overrides, status, code):
    answer = staff_client(admin).post(reverse("api-agreements"), version(**overrides), format="json")
    assert answer.status_code == status, answer.json()
    assert error_of(answer)["code"] == code
    assert list(ServiceAgreement.objects.values_list("version", flat=True)) == ["2026-01"]


def test_only_compliance_admins_publish(agreement, platform, patroller, inspector):  # noqa: F811
    for client in (platform, staff_client(patroller), staff_client(inspector)):
        answer = client.post(reverse("api-agreements"), version(), format="json")
        assert answer.status_code == 403
    assert not ServiceAgreement.objects.filter(version="2026-07").exists()
