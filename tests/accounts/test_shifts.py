"""Shifts (值班): check in and out, who is on duty, handover notes (交接班), the shifts page."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

import pytest

from accounts.actions import (
    ShiftError,
    check_in,
    check_out,
    create_staff_user,
    on_duty,
    recent_handover_notes,
)
from accounts.models import Shift, StaffActionLog
from accounts.roles import Role
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

SHIFTS = "/accounts/shifts/"
CHECK_IN = "/accounts/shifts/check-in"
CHECK_OUT = "/accounts/shifts/check-out"


def log_lines(verb: str) -> list[StaffActionLog]:
    return list(StaffActionLog.objects.filter(verb=verb).order_by("id"))


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- actions ----------------------------------------------------------------------------------


def test_check_in_and_out_round_trip_writes_one_log_line_each(patroller):
    start = timezone.now() - timedelta(hours=8)
    shift = check_in(patroller, at=start)
    assert shift.started_at == start and shift.ended_at is None
    assert [(person, person.on_duty_since) for person in on_duty()] == [(patroller, start)]

    ended = check_out(patroller, handover_note="  3号直播间评论区有引流，请重点关注。  ", at=start + timedelta(hours=8))
    assert ended.pk == shift.pk
    assert ended.ended_at == start + timedelta(hours=8)
    assert ended.handover_note == "3号直播间评论区有引流，请重点关注。"
    assert list(on_duty()) == []

    [line_in] = log_lines("shift.check_in")
    [line_out] = log_lines("shift.check_out")
    assert line_in.actor == patroller and line_in.target_id == str(shift.pk)
    assert line_out.actor == patroller and line_out.target_id == str(shift.pk)
    assert line_out.data == {"handover_note_chars": len(ended.handover_note), "released_streams": 0}


def test_checking_in_twice_is_refused(patroller):
    check_in(patroller)
    with pytest.raises(ShiftError) as refused:
        check_in(patroller)
    assert refused.value.code == "already_on_duty"
    assert Shift.objects.filter(user=patroller).count() == 1
    assert len(log_lines("shift.check_in")) == 1


def test_checking_out_without_a_shift_is_refused(patroller):
    with pytest.raises(ShiftError) as refused:
        check_out(patroller, handover_note="")
    assert refused.value.code == "not_on_duty"
    assert log_lines("shift.check_out") == []


def test_a_handover_note_over_2000_characters_is_refused(patroller):
    check_in(patroller)
    with pytest.raises(ShiftError) as refused:
        check_out(patroller, handover_note="注" * 2001)
    assert refused.value.code == "note_too_long"
    assert Shift.objects.get(user=patroller).ended_at is None
    assert check_out(patroller, handover_note="注" * 2000).ended_at is not None


def test_a_compliance_admin_may_check_in(admin):
    assert check_in(admin).user == admin


@pytest.mark.parametrize("persona", ["news_reviewer", "inspector", "outsider", "editor_in_chief"])
def test_other_roles_cannot_check_in(request, persona):
    user = request.getfixturevalue(persona)
    with pytest.raises(ShiftError) as refused:
        check_in(user)
    assert refused.value.code == "forbidden"
    assert not Shift.objects.exists()


def test_on_duty_lists_only_open_shifts_earliest_first(patroller, admin):
    now = timezone.now()
    third = create_staff_user("patroller3", role=Role.PATROLLER, password=PASSWORD, display_name="巡查员小周")
    check_in(admin, at=now - timedelta(hours=1))
    check_in(patroller, at=now - timedelta(hours=2))
    check_in(third, at=now - timedelta(hours=3))
    check_out(third, handover_note="", at=now)
    assert [(person, person.on_duty_since) for person in on_duty()] == [
        (patroller, now - timedelta(hours=2)),
        (admin, now - timedelta(hours=1)),
    ]


def test_handover_notes_of_the_last_24_hours_newest_first(patroller, admin):
    now = timezone.now()
    check_in(patroller, at=now - timedelta(hours=40))
    check_out(patroller, handover_note="太早的记录", at=now - timedelta(hours=30))
    check_in(patroller, at=now - timedelta(hours=20))
    check_out(patroller, handover_note="夜班：无异常。", at=now - timedelta(hours=12))
    check_in(admin, at=now - timedelta(hours=10))
    check_out(admin, handover_note="", at=now - timedelta(hours=2))  # nothing to hand over
    check_in(admin, at=now - timedelta(hours=2))
    check_out(admin, handover_note="早班：已封禁两个直播间，见处置记录。", at=now - timedelta(hours=1))
    notes = [shift.handover_note for shift in recent_handover_notes(now=now)]
    assert notes == ["早班：已封禁两个直播间，见处置记录。", "夜班：无异常。"]


# --- the page ---------------------------------------------------------------------------------


def test_the_page_shows_who_is_on_duty_and_the_handover_notes(patroller, admin):
    now = timezone.now()
    check_in(admin, at=now - timedelta(hours=9))
    check_out(admin, handover_note="请留意新闻频道的弹幕。", at=now - timedelta(hours=1))
    check_in(admin, at=now - timedelta(minutes=30))
    response = logged_in(patroller).get(SHIFTS)
    assert response.status_code == 200
    body = response.content.decode()
    assert "值班" in body and "交接班记录" in body
    assert "合规管理员小赵" in body  # on duty, and the note's author
    assert "请留意新闻频道的弹幕。" in body
    assert f'action="{CHECK_IN}"' in body and f'action="{CHECK_OUT}"' not in body
    assert 'href="/accounts/shifts/" aria-current="page"' in body


def test_a_patroller_checks_in_and_out_through_the_page(patroller):
    client = logged_in(patroller)
    response = client.post(CHECK_IN, follow=True)
    assert response.redirect_chain == [(SHIFTS, 302)]
    body = response.content.decode()
    assert "已签到" in body and 'name="handover_note"' in body
    assert Shift.objects.get(user=patroller).ended_at is None

    response = client.post(CHECK_OUT, {"handover_note": "一切正常。"}, follow=True)
    assert response.redirect_chain == [(SHIFTS, 302)]
    body = response.content.decode()
    assert "已签退" in body and "一切正常。" in body
    assert Shift.objects.get(user=patroller).handover_note == "一切正常。"


def test_errors_are_shown_and_the_note_is_kept(patroller):
    client = logged_in(patroller)
    response = client.post(CHECK_OUT, {"handover_note": "写了一半"})
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode() and "尚未签到" in response.content.decode()

    check_in(patroller)
    response = client.post(CHECK_OUT, {"handover_note": "长" * 2001})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'role="alert"' in body and "长" * 2001 in body
    assert Shift.objects.get(user=patroller).ended_at is None


def test_the_forms_refuse_a_post_without_csrf_token(patroller):
    client = Client(enforce_csrf_checks=True)
    client.force_login(patroller)
    assert client.post(CHECK_IN).status_code == 403
    assert not Shift.objects.exists()
    check_in(patroller)
    assert client.post(CHECK_OUT, {"handover_note": ""}).status_code == 403
    assert Shift.objects.get().ended_at is None


def test_the_forms_take_post_only(patroller):
    client = logged_in(patroller)
    assert client.get(CHECK_IN).status_code == 405
    assert client.get(CHECK_OUT).status_code == 405
    assert not Shift.objects.exists()


def test_an_inspector_sees_the_page_but_cannot_check_in(inspector):
    client = logged_in(inspector)
    body = client.get(SHIFTS).content.decode()
    assert f'action="{CHECK_IN}"' not in body
    assert client.post(CHECK_IN).status_code == 403
    assert not Shift.objects.exists()


def test_outsiders_and_anonymous_users_are_kept_out(client, outsider):
    assert client.get(SHIFTS)["Location"].startswith("/accounts/login/")
    assert logged_in(outsider).get(SHIFTS).status_code == 403


def test_nobody_is_on_duty_before_anyone_checks_in(patroller, admin, inspector):
    from accounts.actions import create_machine_client

    create_machine_client("platform-backend", kind="platform_backend", actor=None)
    now = timezone.now()
    check_in(admin, at=now - timedelta(hours=3))
    check_out(admin, handover_note="", at=now - timedelta(hours=1))  # a shift that ended
    assert list(on_duty()) == []
    body = logged_in(patroller).get(SHIFTS).content.decode()
    assert "无人值班" in body
    assert '<ul class="duty-list">' not in body


def test_check_in_from_the_wall_goes_back_to_the_wall(patroller):
    response = logged_in(patroller).post(CHECK_IN, {"next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    response = logged_in(patroller).post(CHECK_IN, {"next": "https://evil.example/"})
    assert response.status_code == 400  # already checked in; and an outside page is never a target
    response = Client()
    response.force_login(patroller)
    check_out(patroller, handover_note="")
    assert response.post(CHECK_IN, {"next": "https://evil.example/"})["Location"] == SHIFTS
