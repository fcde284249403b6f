"""The escalation inbox: escalations reach compliance admins, are claimed, resolved with a measure or dismissed."""

from __future__ import annotations

from django.urls import reverse

import pytest

from accounts.actions import create_staff_user
from accounts.roles import Role
from moderation import actions
from moderation.models import EscalationCase, ReasonCode
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def escalation(nginx_node, stream_key, patroller):
    stream = actions.open_stream(
        stream_key,
        published_name=stream_key.issued_key,
        node=nginx_node,
        app="live",
        client_id="7",
        addr="",
        title="深夜食堂",
    )
    return actions.escalate_stream(stream, actor=patroller, reason=ReasonCode.RUMOUR, note="疑似谣言，请合规判断")


def post(client, escalation, step, note=""):
    return client.post(reverse("console:escalations"), {"escalation": escalation.pk, "step": step, "note": note})


def test_an_escalation_is_listed_claimed_and_resolved_with_the_measure_taken(client, escalation, admin):
    client.force_login(admin)
    page = client.get(reverse("console:escalations")).content.decode()
    assert "疑似谣言，请合规判断" in page and "深夜食堂" in page and 'value="claim"' in page

    assert post(client, escalation, "act").status_code == 302  # not claimed: refused
    assert not EscalationCase.objects.exists()
    post(client, escalation, "claim")
    post(client, escalation, "act")  # no measure yet: refused
    assert EscalationCase.objects.get().status == "claimed"

    warning = actions.warn_publisher(escalation.stream, actor=admin, reason=ReasonCode.RUMOUR)
    post(client, escalation, "act", "已警示")
    case = EscalationCase.objects.get()
    assert (case.status, case.measure, case.resolved_by, case.note) == ("acted", warning, admin, "已警示")


def test_a_dismissal_needs_a_reason_and_another_admins_claim_stands(client, escalation, admin):
    other = create_staff_user("admin2", role=Role.COMPLIANCE_ADMIN, password=PASSWORD, display_name="合规二")
    client.force_login(admin)
    post(client, escalation, "claim")
    client.force_login(other)
    post(client, escalation, "claim")
    post(client, escalation, "dismiss", "不构成违规")
    assert EscalationCase.objects.get().claimed_by == admin and EscalationCase.objects.get().status == "claimed"
    client.force_login(admin)
    post(client, escalation, "dismiss", "")
    assert EscalationCase.objects.get().status == "claimed"
    post(client, escalation, "dismiss", "不构成违规")
    assert EscalationCase.objects.get().status == "dismissed"


def test_patrollers_do_not_see_the_inbox_and_inspectors_only_read(client, escalation, patroller, inspector):
    client.force_login(patroller)
    assert client.get(reverse("console:escalations")).status_code == 403
    client.force_login(inspector)
    assert client.get(reverse("console:escalations")).status_code == 200
    assert post(client, escalation, "claim").status_code == 403
    assert not EscalationCase.objects.exists()
