"""The emergency pages: declare (refused without scope or reason), the banner on every console page, end."""

from __future__ import annotations

from django.test import Client

import pytest

from moderation.models import Emergency

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_empty_scope_or_a_missing_reason_is_refused(admin, entertainment):
    client = logged_in(admin)
    empty = client.post("/emergencies/declare", {"measures": ["cut"], "reason": "台风", "reason_code": "rumour"})
    assert empty.status_code == 400 and "scope is empty" in empty.content.decode()
    no_reason = client.post(
        "/emergencies/declare",
        {"categories": ["entertainment"], "measures": ["cut"], "reason": "", "reason_code": "rumour"},
    )
    assert no_reason.status_code == 400
    assert not Emergency.objects.exists()


def test_declared_the_banner_shows_on_every_console_page_until_it_ends(admin, patroller, entertainment):
    client = logged_in(admin)
    answer = client.post(
        "/emergencies/declare",
        {"categories": ["entertainment"], "measures": ["refuse_new"], "reason": "<b>暴雨</b>", "reason_code": "rumour"},
    )
    emergency = Emergency.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/emergencies/{emergency.pk}/"
    for page in ["/", "/reports/", "/accounts/shifts/"]:
        html = logged_in(patroller).get(page).content.decode()
        assert emergency.reference in html and "&lt;b&gt;暴雨&lt;/b&gt;" in html and "<b>暴雨" not in html
    assert logged_in(patroller).post(f"/emergencies/{emergency.pk}/end", {"reason": "x"}).status_code == 403
    assert client.post(f"/emergencies/{emergency.pk}/end", {"reason": ""}).status_code == 400
    assert client.post(f"/emergencies/{emergency.pk}/end", {"reason": "雨停了"}).status_code == 302
    assert emergency.reference not in logged_in(patroller).get("/").content.decode()


def test_everything_is_confirmed_by_a_second_admin_on_the_page(admin, entertainment):
    from accounts.roles import Role
    from tests.conftest import _staff

    client = logged_in(admin)
    client.post(
        "/emergencies/declare",
        {"everything": "on", "measures": ["refuse_new"], "reason": "重大", "reason_code": "rumour"},
    )
    emergency = Emergency.objects.get()
    assert emergency.status == "awaiting"
    assert client.post(f"/emergencies/{emergency.pk}/confirm").status_code == 302
    assert Emergency.objects.get().status == "awaiting"
    second = logged_in(_staff("admin2", Role.COMPLIANCE_ADMIN, "合规管理员小钱"))
    assert second.post(f"/emergencies/{emergency.pk}/confirm").status_code == 302
    assert Emergency.objects.get().status == "active"
