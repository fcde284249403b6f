"""The Django admin shows the domain read-only; the staff action log cannot be edited."""

import pytest

from accounts.models import User
from moderation import actions
from moderation.models import GateDecision

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    User.objects.create_superuser("root", password="x-very-long-password")
    client.login(username="root", password="x-very-long-password")
    return client


@pytest.mark.parametrize(
    "model",
    [
        "moderation/publisher",
        "moderation/stream",
        "moderation/gatedecision",
        "accounts/staffactionlog",
        "moderation/newsapplication",
        "moderation/publisherlicence",
        "moderation/platformlicence",
        "moderation/comment",
    ],
)
def test_superuser_sees_the_domain_read_only(superuser_client, model, stream_key):
    response = superuser_client.get(f"/admin/{model}/")
    assert response.status_code == 200
    assert superuser_client.get(f"/admin/{model}/add/").status_code == 403


def test_the_admin_never_shows_identity_numbers(superuser_client, stream_key):
    response = superuser_client.get(f"/admin/moderation/publisher/{stream_key.publisher_id}/change/")
    assert response.status_code == 200
    assert "110105199001011234" not in response.content.decode()


def test_gate_decisions_cannot_be_deleted_from_the_admin(superuser_client, nginx_node):
    decision = actions.record_gate_decision(hook="publish", allowed=False, reason="unknown_key", node=nginx_node)
    response = superuser_client.post(f"/admin/moderation/gatedecision/{decision.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert GateDecision.objects.filter(pk=decision.pk).exists()
