"""The record lists (记录查询): search across publishers (identity however it is written), streams,
actions, gate decisions and the staff action log; filters, sorting, paging, CSV; who may read what."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client

import pytest

from accounts.actions import log_staff_action
from moderation import actions
from tests.conftest import make_publisher

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("written", ["138 0013 8000", "+86 138-0013-8000", "0086 13800138000", "13800138000"])
def test_a_publisher_is_found_by_a_phone_number_written_differently(patroller, publisher, written):
    make_publisher("acct-3003", "别的主播")
    from moderation.models import Publisher

    Publisher.objects.filter(platform_account_id="acct-3003").update(phone_hash="")  # no phone on record
    body = logged_in(patroller).get("/records/publishers/", {"q": written}).content.decode()
    assert "美食小当家" in body
    assert "别的主播" not in body
    table = body.split("<tbody", 1)[1].split("</tbody>", 1)[0]
    assert "+86138****8000" in table and "13800138000" not in table  # masked, never in clear


def test_a_publisher_is_found_by_id_number_account_name_and_stream_key(patroller, stream_key):
    from moderation.identity import resident_id_check_digit

    number = "11010519900307123"
    number += resident_id_check_digit(number)
    actions.register_publisher(
        "acct-4004",
        display_name="证件号主播",
        real_name="李四",
        document_number=number,
        phone="",
        agreement_version="2026-01",
    )
    client = logged_in(patroller)
    spaced = f"{number[:6]} {number[6:14]} {number[14:].lower()}"
    assert "证件号主播" in client.get("/records/publishers/", {"q": spaced}).content.decode()
    for text in ["acct-1001", "美食", stream_key.issued_key]:
        assert "美食小当家" in client.get("/records/publishers/", {"q": text}).content.decode(), text
    assert "美食小当家" not in client.get("/records/publishers/", {"q": "没有这个人"}).content.decode()


def test_streams_actions_and_gate_decisions_are_listed_and_filtered(client, admin, nginx_node, stream_key):
    from tests.moderation.test_gate import post_form, publish_form

    post_form(client, "on_publish", publish_form(stream_key.issued_key, "5"))
    from moderation.models import ReasonCode, Stream

    stream = Stream.objects.get()
    actions.block_stream(stream, actor=admin, reason=ReasonCode.VIOLENCE_TERROR, note="=HYPERLINK(1)", request_id=None)
    browser = logged_in(admin)
    streams = browser.get("/records/streams/", {"q": "深夜"}).content.decode()
    assert "深夜食堂直播" in streams
    assert (
        "深夜食堂直播"
        not in browser.get("/records/streams/", {"state": "ended", "end_reason": "unpublished"}).content.decode()
    )
    acted = browser.get("/records/actions/", {"kind": "block"}).content.decode()
    assert "暴力、恐怖或教唆犯罪" in acted and "深夜食堂直播" in acted and "断流" in acted
    gate = browser.get("/records/gate/", {"allowed": "true"}).content.decode().split("<tbody", 1)[1]
    assert "edge-1" in gate
    denied = browser.get("/records/gate/", {"allowed": "false"}).content.decode().split("<tbody", 1)[1]
    assert "edge-1" not in denied

    export = browser.get("/records/actions/", {"kind": "block", "export": "csv"})
    assert export["Content-Type"].startswith("text/csv")
    text = export.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("时间,")
    assert "'=HYPERLINK(1)" in text  # a note is never a formula in a spreadsheet
    assert "+0800" in export["Content-Disposition"]  # the file says its zone


def test_sorting_and_paging_take_any_input_without_error(patroller, publisher):
    client = logged_in(patroller)
    for query in [{"sort": "-credit_score"}, {"sort": "no_such_column"}, {"page": "9999"}, {"page": "x"}]:
        assert client.get("/records/publishers/", query).status_code == 200, query


def test_bad_filters_are_a_clear_chinese_error_and_no_rows(patroller, publisher):
    response = logged_in(patroller).get("/records/streams/", {"from_day": "not-a-date", "state": "maybe"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "输入一个有效的日期" in body
    assert "Enter a valid date" not in body


def test_the_staff_action_log_is_for_compliance_admins_and_inspectors(patroller, admin, inspector):
    log_staff_action(admin, "blacklist.add", data={"kind": "phone"})
    for reader in (admin, inspector):
        body = logged_in(reader).get("/records/staff-log/", {"q": "blacklist"}).content.decode()
        assert "blacklist.add" in body
    assert logged_in(patroller).get("/records/staff-log/").status_code == 403
    assert "/records/staff-log/" not in logged_in(patroller).get("/records/publishers/").content.decode()


def test_an_inspector_reads_every_list_and_outsiders_read_none(client, inspector, outsider):
    for kind in ["publishers", "streams", "actions", "gate", "news", "staff-log"]:
        assert logged_in(inspector).get(f"/records/{kind}/").status_code == 200, kind
        assert logged_in(outsider).get(f"/records/{kind}/").status_code in {302, 403}, kind
    assert client.get("/records/publishers/").status_code == 302  # to the login page
    assert logged_in(inspector).get("/records/nothing/").status_code == 403


def test_news_applications_are_found_open_and_decided(
    news_key, platform_licence, editor_in_chief, admin, inspector, patroller, news_reviewer
):
    from tests.news_world import apply_for, approve

    approve(apply_for(news_key, title="财经早报：央行降准解读"), editor_in_chief)
    apply_for(news_key, title="午间快讯：港口复航", start_in=timedelta(hours=3))
    for reader in (admin, inspector, news_reviewer, editor_in_chief):
        client = logged_in(reader)
        everything = client.get("/records/news/").content.decode()
        assert "财经早报：央行降准解读" in everything and "午间快讯：港口复航" in everything, reader
        approved = client.get("/records/news/", {"status": "approved"}).content.decode().split("<tbody", 1)[1]
        assert "财经早报" in approved and "午间快讯" not in approved
        found = client.get("/records/news/", {"q": "财经观察"}).content.decode()  # by the publisher's name
        assert "财经早报" in found
        by_key = client.get("/records/news/", {"q": news_key.issued_key}).content.decode()
        assert "午间快讯" in by_key
    export = logged_in(inspector).get("/records/news/", {"export": "csv", "sort": "title"})
    rows = export.content.decode("utf-8-sig").splitlines()
    assert rows[0].startswith("#,标题,") and len(rows) == 3
    assert logged_in(patroller).get("/records/news/").status_code == 403  # not a news role
    assert "/records/news/" not in logged_in(patroller).get("/records/publishers/").content.decode()


def test_a_compliance_admin_goes_back_from_an_application_to_the_records_not_a_403(
    news_key, platform_licence, admin, news_reviewer
):
    from tests.news_world import apply_for

    application = apply_for(news_key)
    page = logged_in(admin).get(f"/news/applications/{application.pk}/").content.decode()
    assert 'href="/records/news/"' in page and 'href="/news/"' not in page
    assert logged_in(admin).get("/records/news/").status_code == 200
    reviewer_page = logged_in(news_reviewer).get(f"/news/applications/{application.pk}/").content.decode()
    assert 'href="/news/"' in reviewer_page
