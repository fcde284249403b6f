"""Text no input may hold, at the pages: paths, query strings and form fields answer 400 and change nothing.

On PostgreSQL a NUL reaching a query or a write was a 500 ("A string literal cannot contain NUL");
here it never reaches a view (console/middleware.py) or a form lets it through (moderation/text_input.py).
"""

from __future__ import annotations

from django.urls import reverse

import pytest

from accounts import actions as accounts_actions
from accounts.models import Shift
from moderation import actions
from moderation.identity import Kind
from moderation.models import PlatformLicence, ReasonCode

pytestmark = pytest.mark.django_db


def logged_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def entry(admin, publisher):
    return actions.add_blacklist_entry(Kind.PHONE, "13800138000", actor=admin, reason=ReasonCode.FRAUD)


@pytest.mark.parametrize(
    "address",
    [
        "/blacklist/?q=a%00b",  # the search
        "/blacklist/?q=%1B%5B31m",  # an escape sequence
        "/blacklist/?q%00=1",  # a parameter's name
        "/blacklist/?status=%C2%85",  # a C1 control (NEL)
        "/blacklist/a%00b/",  # an entry's reference in the path
        "/blacklist/BL-1%0A/",  # a trailing newline in a path segment
        "/publishers/1/?page=%07",
    ],
)
def test_a_control_character_in_the_address_is_a_clear_400(client, admin, entry, address):
    response = logged_in(client, admin).get(address)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "地址中含有不允许的字符" in response.content.decode()


def test_the_address_refusal_speaks_the_users_language(client, admin, entry):
    response = logged_in(client, admin).get("/blacklist/?q=a%00b", HTTP_ACCEPT_LANGUAGE="en")
    assert response.content.decode() == (
        "The address contains a character that is not allowed (U+0000); nothing was done."
    )


def test_a_clean_search_still_works(client, admin, entry):
    response = logged_in(client, admin).get("/blacklist/", {"q": entry.reference})
    assert response.status_code == 200 and entry.reference in response.content.decode()


@pytest.mark.parametrize("note", ["交接\x00内容", "交接\x07内容", "交接\x1b[2J", "交接\x9b内容"])
def test_a_handover_note_with_a_control_character_is_refused_and_the_shift_stays_open(client, patroller, note):
    accounts_actions.check_in(patroller)
    response = logged_in(client, patroller).post(reverse("accounts:shift-check-out"), {"handover_note": note})
    assert response.status_code == 400
    body = response.content.decode()
    assert "handover_note" in body and "未保存任何内容" in body
    shift = Shift.objects.get(user=patroller)
    assert shift.ended_at is None and shift.handover_note == ""


def test_a_multi_line_handover_note_is_taken_as_written(client, patroller):
    accounts_actions.check_in(patroller)
    note = "3 号流需要关注\r\n\t举报已转交"
    response = logged_in(client, patroller).post(reverse("accounts:shift-check-out"), {"handover_note": note})
    assert response.status_code == 302
    assert Shift.objects.get(user=patroller).handover_note == note.strip()


def test_a_licence_note_with_nul_is_refused_and_the_licence_stays(client, admin, platform_licence):
    response = logged_in(client, admin).post(
        reverse("console:news-licences"), {"form": "withdraw", "licence": platform_licence.pk, "note": "撤回\x00"}
    )
    assert response.status_code == 400
    assert PlatformLicence.objects.get(pk=platform_licence.pk).withdrawn_at is None


def test_a_line_break_inside_a_one_line_field_is_a_form_error(client, admin):
    response = logged_in(client, admin).post(
        reverse("console:news-licences"),
        {
            "form": "platform",
            "number": "京网新许字\n-0002",
            "scopes": ["gathering"],
            "valid_from": "2026-01-01",
            "valid_until": "2027-01-01",
        },
    )
    assert response.status_code == 400
    assert "此字段只能填写一行。" in response.content.decode()
    assert not PlatformLicence.objects.exists()


def test_a_trailing_newline_in_a_one_line_field_is_trimmed_not_stored(client, admin):
    response = logged_in(client, admin).post(
        reverse("console:news-licences"),
        {
            "form": "platform",
            "number": "京网新许字-0002\r\n",
            "scopes": ["gathering"],
            "valid_from": "2026-01-01",
            "valid_until": "2027-01-01",
        },
    )
    assert response.status_code == 302
    assert PlatformLicence.objects.get().number == "京网新许字-0002"


def test_the_login_form_refuses_a_control_character_before_it_is_looked_up(client, patroller):
    response = client.post(reverse("accounts:login"), {"username": "patroller\x00", "password": "x"})
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
