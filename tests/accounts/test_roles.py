"""Staff roles: the groups the migration creates, the role check, and the page guard."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory

import pytest

from accounts.models import User
from accounts.roles import ROLE_PERMISSIONS, Role, has_role, require_role
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

PERSONA_ROLES = {
    "patroller": Role.PATROLLER,
    "news_reviewer": Role.NEWS_REVIEWER,
    "editor_in_chief": Role.EDITOR_IN_CHIEF,
    "admin": Role.COMPLIANCE_ADMIN,
    "inspector": Role.INSPECTOR,
}


def test_the_five_role_groups_exist_with_their_permissions_after_migrate():
    groups = {group.name: group for group in Group.objects.prefetch_related("permissions__content_type")}
    assert set(Role.values) <= set(groups)
    for role in Role.values:
        held = {f"{p.content_type.app_label}.{p.codename}" for p in groups[role].permissions.all()}
        assert held == set(ROLE_PERMISSIONS[role]), role


def test_only_the_compliance_admin_may_change_publishers(admin, patroller, inspector):
    assert admin.has_perm("moderation.change_publisher")
    assert not patroller.has_perm("moderation.change_publisher")
    assert not inspector.has_perm("moderation.change_publisher")
    assert inspector.has_perm("accounts.view_staffactionlog")
    assert not inspector.has_perm("moderation.add_moderationaction")


@pytest.mark.parametrize("persona", sorted(PERSONA_ROLES))
def test_each_persona_holds_its_own_role_and_no_other(request, persona):
    user = request.getfixturevalue(persona)
    own = PERSONA_ROLES[persona]
    assert has_role(user)
    assert has_role(user, own)
    for other in set(Role.values) - {own}:
        assert not has_role(user, other), other
    assert has_role(user, other, own)  # any of several roles is enough


def test_a_user_without_a_role_holds_none(outsider):
    assert not has_role(outsider)
    assert not has_role(outsider, *Role.values)


def test_anonymous_and_inactive_users_hold_no_role(patroller):
    assert not has_role(AnonymousUser())
    assert not has_role(None)
    patroller.is_active = False
    assert not has_role(patroller, Role.PATROLLER)


def test_a_superuser_holds_every_role(db):
    root = User.objects.create_superuser("root", password=PASSWORD)
    assert all(has_role(root, role) for role in Role.values)


# --- the page guard ------------------------------------------------------------------------


def test_anonymous_is_sent_to_the_login_page(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_a_user_without_a_role_gets_403_without_details(client, outsider):
    client.force_login(outsider)
    response = client.get("/")
    assert response.status_code == 403
    assert "403.html" in [t.name for t in response.templates]
    body = response.content.decode()
    assert "无权访问" in body
    assert "PermissionDenied" not in body and "Traceback" not in body
    # no staff menu, and no console socket that would only be refused
    assert 'id="live-indicator"' not in body and 'class="topnav"' not in body
    assert "退出登录" in body


@pytest.mark.parametrize("persona", sorted(PERSONA_ROLES))
def test_every_role_may_open_the_home_page(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/").status_code == 200


def test_a_superuser_passes_the_guard(client, db):
    client.force_login(User.objects.create_superuser("root", password=PASSWORD))
    assert client.get("/").status_code == 200


def _guarded(*roles):
    return require_role(*roles)(lambda request: HttpResponse("ok"))


def test_a_guard_naming_roles_refuses_other_roles(patroller, editor_in_chief):
    view = _guarded(Role.EDITOR_IN_CHIEF)
    request = RequestFactory().get("/news/decide")
    request.user = patroller
    with pytest.raises(PermissionDenied):
        view(request)
    request.user = editor_in_chief
    assert view(request).status_code == 200
    assert view.required_roles == (Role.EDITOR_IN_CHIEF,)
