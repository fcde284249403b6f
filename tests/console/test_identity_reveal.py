"""Revealing a publisher's full identity: compliance admins only, with a reason, in the staff action log."""

from __future__ import annotations

from django.urls import reverse

import pytest

from accounts.models import StaffActionLog
from moderation import actions
from moderation.errors import ModerationError

pytestmark = pytest.mark.django_db


def reveal(client, user, publisher, **form):
    client.force_login(user)
    return client.post(reverse("console:publisher-reveal", args=[publisher.pk]), form)


def test_a_compliance_admin_reveals_one_value_with_a_reason_and_the_log_keeps_it(client, publisher, admin):
    client.force_login(admin)
    page = client.get(reverse("console:publisher", args=[publisher.pk]))
    assert f'action="{reverse("console:publisher-reveal", args=[publisher.pk])}"' in page.content.decode()
    assert "110105199001011234" not in page.content.decode()

    answer = reveal(client, admin, publisher, field="document_number", reason="公安机关协查函 2026-118")

    assert answer.status_code == 200
    html = answer.content.decode()
    assert 'id="revealed-value">110105199001011234<' in html
    assert "+8613800138000" not in html  # only the value asked for
    assert "no-store" in answer["Cache-Control"]
    entry = StaffActionLog.objects.get(verb="identity.reveal")
    assert entry.actor == admin and entry.target_id == str(publisher.pk)
    assert entry.data == {"field": "document_number", "reason": "公安机关协查函 2026-118"}


@pytest.mark.parametrize("role", ["patroller", "inspector", "editor_in_chief", "news_reviewer"])
def test_no_other_role_may_reveal_or_sees_the_button(client, publisher, role, request):
    user = request.getfixturevalue(role)
    client.force_login(user)
    page = client.get(reverse("console:publisher", args=[publisher.pk]))
    assert "/reveal/" not in page.content.decode()

    answer = reveal(client, user, publisher, field="document_number", reason="想看看这个人")

    assert answer.status_code == 403
    assert "110105199001011234" not in answer.content.decode()
    assert not StaffActionLog.objects.filter(verb="identity.reveal").exists()
    with pytest.raises(ModerationError) as refused:
        actions.reveal_identity(publisher, field="phone", reason="想看看这个人", actor=user)
    assert refused.value.code == "forbidden"


@pytest.mark.parametrize(
    "form",
    [
        {"field": "document_number", "reason": ""},
        {"field": "document_number", "reason": "  "},
        {"field": "document_number", "reason": "看"},
        {"field": "password", "reason": "公安机关协查函"},
        {"field": "document_number", "reason": "协查\x00函"},
        {"reason": "公安机关协查函"},
    ],
)
def test_a_reveal_without_a_proper_reason_or_field_shows_nothing_and_logs_nothing(client, publisher, admin, form):
    answer = reveal(client, admin, publisher, **form)

    assert answer.status_code == 400
    assert "110105199001011234" not in answer.content.decode()
    assert not StaffActionLog.objects.filter(verb="identity.reveal").exists()


def test_an_unknown_publisher_is_404(client, admin):
    client.force_login(admin)
    answer = client.post(reverse("console:publisher-reveal", args=[999999]), {"field": "phone", "reason": "协查函"})
    assert answer.status_code == 404
