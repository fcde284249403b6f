"""The blacklist pages: search, add, removal, the provincial-office export and its reminder; roles."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

import pytest
from openpyxl import load_workbook

from accounts.actions import create_staff_user
from accounts.roles import Role
from moderation import actions
from moderation.identity import Kind
from moderation.models import BlacklistEntry, BlacklistExport, Publisher, ReasonCode
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def logged_in(client, user):
    client.force_login(user)
    return client


def preview_of(response) -> str:
    """The fingerprint the preview page carries for its confirmation."""
    match = re.search(r'name="preview" value="([0-9a-f]{16})"', response.content.decode())
    assert match, "the page shows no preview to confirm"
    return match.group(1)


def add_through_form(client, url, form):
    """Preview (nothing written), then confirm what the preview showed."""
    preview = client.post(url, form)
    assert preview.status_code == 200 and not BlacklistEntry.objects.filter(kind=form["kind"]).exists()
    return client.post(url, {**form, "preview": preview_of(preview), "confirm": "1"})


@pytest.fixture
def entry(admin, publisher):
    return actions.add_blacklist_entry(
        Kind.PHONE, "13800138000", actor=admin, reason=ReasonCode.FRAUD, note='=HYPERLINK("http://x")'
    )


def test_inspectors_and_admins_read_others_do_not(client, entry, inspector, patroller, outsider):
    for user, status in [(inspector, 200), (patroller, 403), (outsider, 403)]:
        logged_in(client, user)
        assert client.get(reverse("console:blacklist")).status_code == status
        assert client.get(reverse("console:blacklist-entry", args=[entry.reference])).status_code == status
    client.logout()
    assert client.get(reverse("console:blacklist")).status_code == 302  # to the login page


def test_inspectors_cannot_change_anything(client, inspector, entry, publisher):
    logged_in(client, inspector)
    page = client.get(reverse("console:blacklist")).content.decode()
    assert entry.reference in page and reverse("console:blacklist-add") not in page
    assert client.post(reverse("console:blacklist-add"), {"kind": "phone", "value": "13900000000"}).status_code == 403
    removal = reverse("console:blacklist-removal", args=[entry.reference])
    assert client.post(removal, {"reason": "x"}).status_code == 403
    assert client.post(reverse("console:blacklist-export"), {}).status_code == 403
    assert BlacklistEntry.objects.get().removal_requested_at is None and not BlacklistExport.objects.exists()


def test_search_by_any_form_of_the_value_or_the_reference(client, admin, entry):
    logged_in(client, admin)
    other = actions.add_blacklist_entry(Kind.PLATFORM_ACCOUNT, "someone-else", actor=admin, reason=ReasonCode.FRAUD)
    for query in ["+86 138-0013-8000", "0086 13800138000", entry.reference.lower()]:
        body = client.get(reverse("console:blacklist"), {"q": query}).content.decode()
        assert entry.reference in body and other.reference not in body, query
    body = client.get(reverse("console:blacklist"), {"q": "13900000000"}).content.decode()
    assert entry.reference not in body
    body = client.get(reverse("console:blacklist")).content.decode()
    assert "+86138****8000" in body and "13800138000" not in body


def test_admin_adds_an_entry_through_the_form_and_the_account_closes(client, admin, publisher):
    logged_in(client, admin)
    form = {"kind": "phone", "value": "(138) 0013-8000", "reason": "fraud", "note": "多次诈骗", "document_type": ""}
    response = add_through_form(client, reverse("console:blacklist-add"), form)
    entry = BlacklistEntry.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/blacklist/{entry.reference}/")
    assert Publisher.objects.get(pk=publisher.pk).status == Publisher.Status.CLOSED
    page = client.get(response["Location"]).content.decode()
    assert publisher.display_name in page and "+86138****8000" in page


@pytest.mark.parametrize(
    ("form", "field_text"),
    [
        ({"kind": "id_document", "value": "110105199001011234", "reason": "fraud"}, "check digit"),
        ({"kind": "phone", "value": "12345", "reason": "fraud"}, "11 digits"),
        ({"kind": "phone", "value": "13900000000", "reason": "patrolled"}, "patrolled"),
        ({"kind": "phone", "value": "13900000000", "reason": "fraud", "expires_on": "2000-01-01"}, "after today"),
        ({"kind": "phone", "value": "13900000000", "reason": "fraud", "source_action": "999999"}, "No moderation"),
    ],
)
def test_bad_form_input_is_a_form_error_and_writes_nothing(client, admin, form, field_text):
    logged_in(client, admin)
    response = client.post(reverse("console:blacklist-add"), form)
    assert response.status_code == 200 and not BlacklistEntry.objects.exists()
    assert 'class="field-error"' in response.content.decode()


def test_a_duplicate_through_the_form_is_a_form_error(client, admin, entry):
    logged_in(client, admin)
    form = {"kind": "phone", "value": "13800138000", "reason": "fraud"}
    preview = client.post(reverse("console:blacklist-add"), form)
    response = client.post(reverse("console:blacklist-add"), {**form, "preview": preview_of(preview), "confirm": "1"})
    assert response.status_code == 200 and 'class="form-error"' in response.content.decode()
    assert BlacklistEntry.objects.count() == 1


def test_the_preview_names_who_is_closed_and_cut_and_writes_nothing(client, admin, publisher, stream_key, nginx_node):
    stream = actions.open_stream(
        stream_key,
        published_name=stream_key.issued_key,
        node=nginx_node,
        app="live",
        client_id="7",
        addr="",
        title="深夜食堂",
    )
    logged_in(client, admin)
    form = {"kind": "phone", "value": "+86 138 0013 8000", "reason": "fraud"}

    preview = client.post(reverse("console:blacklist-add"), form)

    body = preview.content.decode()
    assert "1 个账号将被关闭" in body and publisher.display_name in body
    assert "1 场直播将被断流" in body and reverse("console:stream", args=[stream.pk]) in body
    assert not BlacklistEntry.objects.exists()
    assert Publisher.objects.get(pk=publisher.pk).status == Publisher.Status.ACTIVE
    # A phone no account holds: the preview says so.
    nobody = client.post(reverse("console:blacklist-add"), {**form, "value": "13900000000"}).content.decode()
    assert "目前没有账号持有该身份" in nobody


def test_a_confirmation_for_another_set_of_accounts_is_shown_again_not_applied(client, admin, publisher):
    logged_in(client, admin)
    form = {"kind": "phone", "value": "13900000000", "reason": "fraud"}
    stale = preview_of(client.post(reverse("console:blacklist-add"), form))  # nobody holds it yet
    actions.register_publisher("acct-late", display_name="后来者", phone="13900000000")

    response = client.post(reverse("console:blacklist-add"), {**form, "preview": stale, "confirm": "1"})

    assert response.status_code == 200 and not BlacklistEntry.objects.exists()
    body = response.content.decode()
    assert "后来者" in body and "自预览以来受影响的对象已变化" in body


def test_removals_waiting_for_a_second_admin_are_listed_and_announced(client, admin, entry):
    second = create_staff_user("admin2", role=Role.COMPLIANCE_ADMIN, password=PASSWORD)
    actions.request_blacklist_removal(entry, actor=admin, reason="号码已注销")
    logged_in(client, second)
    page = client.get(reverse("console:blacklist")).content.decode()
    assert "等待第二位管理员决定的移除" in page and "号码已注销" in page
    assert "1 项黑名单移除等待您决定" in client.get(reverse("console:blacklist-export")).content.decode()
    # The requester is not told to decide their own request.
    logged_in(client, admin)
    assert "项黑名单移除等待您决定" not in client.get(reverse("console:blacklist-export")).content.decode()


def test_active_reads_one_word_on_the_page_and_in_the_export(client, admin, entry):
    logged_in(client, admin)
    page = client.get(reverse("console:blacklist")).content.decode()
    assert re.search(r'<td class="state-active[^"]*">有效', page) and ">正常<" not in page


def test_removal_through_the_pages_needs_a_second_admin(client, admin, entry, publisher):
    second = create_staff_user("admin2", role=Role.COMPLIANCE_ADMIN, password=PASSWORD)
    url = reverse("console:blacklist-removal", args=[entry.reference])
    logged_in(client, admin)
    client.post(url, {"decision": "request", "reason": ""})
    assert BlacklistEntry.objects.get().removal_requested_at is None
    client.post(url, {"decision": "request", "reason": "号码已注销"})
    client.post(url, {"decision": "approve"})
    assert BlacklistEntry.objects.get().status == BlacklistEntry.Status.ACTIVE  # the requester cannot approve
    assert (
        'value="approve"' not in client.get(reverse("console:blacklist-entry", args=[entry.reference])).content.decode()
    )
    logged_in(client, second)
    assert 'value="approve"' in client.get(reverse("console:blacklist-entry", args=[entry.reference])).content.decode()
    client.post(url, {"decision": "approve", "reopen": "1"})
    assert BlacklistEntry.objects.get().status == BlacklistEntry.Status.REMOVED
    assert Publisher.objects.get(pk=publisher.pk).status == Publisher.Status.ACTIVE


# --- export and reminder ------------------------------------------------------------------------


def test_export_writes_csv_xlsx_and_a_manifest_and_marks_the_period_reported(client, admin, entry, publisher):
    old = actions.add_blacklist_entry(Kind.PLATFORM_ACCOUNT, "old-account", actor=admin, reason=ReasonCode.GAMBLING)
    BlacklistEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=60))
    today = timezone.localdate()
    logged_in(client, admin)
    response = client.post(
        reverse("console:blacklist-export"), {"period_start": today - timedelta(days=7), "period_end": today}
    )
    assert response.status_code == 302
    export = BlacklistExport.objects.get()
    assert export.entry_count == 1

    entry.refresh_from_db()
    assert entry.report_status == BlacklistEntry.Report.REPORTED and entry.export == export and entry.reported_at
    assert BlacklistEntry.objects.get(pk=old.pk).report_status == BlacklistEntry.Report.UNREPORTED

    csv_bytes = b"".join(
        client.get(reverse("console:blacklist-export-file", args=[export.pk, "csv"])).streaming_content
    )
    xlsx_bytes = b"".join(
        client.get(reverse("console:blacklist-export-file", args=[export.pk, "xlsx"])).streaming_content
    )
    manifest = client.get(reverse("console:blacklist-export-file", args=[export.pk, "manifest"])).content.decode()
    lines = dict(reversed(line.split("  ")) for line in manifest.strip().splitlines())
    csv_name = next(name for name in lines if name.endswith(".csv"))
    assert lines[csv_name] == hashlib.sha256(csv_bytes).hexdigest()
    assert lines[csv_name.replace(".csv", ".xlsx")] == hashlib.sha256(xlsx_bytes).hexdigest()

    rows = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
    assert rows[0][0].startswith("黑名单编号") and len(rows) == 2
    row = dict(zip([title.split(" ")[0] for title in rows[0]], rows[1], strict=True))
    # A leading + (or =, -, @) would make Excel read a formula: the CSV quotes it with an apostrophe.
    assert row["黑名单编号"] == entry.reference and row["标识（脱敏）"] == "'+86138****8000"
    assert row["平台账号"] == "" and row["原因代码"] == "fraud" and row["期限"] == "永久" and row["关闭账号数"] == "1"
    assert row["状态"] == "有效"  # the page's word for an entry in force
    assert "13800138000" not in csv_bytes.decode("utf-8-sig")
    # Times in the console's zone, which the time column's title states, as does the file name's stamp.
    assert "列入时间 Blacklisted at（Asia/Shanghai UTC+0800）" in rows[0]
    assert row["列入时间"] == timezone.localtime(entry.created_at).strftime("%Y-%m-%d %H:%M:%S")
    assert csv_name.endswith("+0800.csv")

    sheet = load_workbook(io.BytesIO(xlsx_bytes)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[1][0] == entry.reference and values[1][3] == "+86138****8000"
    assert row["说明"] == '\'=HYPERLINK("http://x")'
    assert sheet.cell(row=2, column=9).data_type == "s" and sheet.cell(row=2, column=9).value.startswith("=HYPER")


def test_bad_export_periods_are_form_errors(client, admin, entry):
    today = timezone.localdate()
    logged_in(client, admin)
    for period in [
        {"period_start": today, "period_end": today - timedelta(days=1)},
        {"period_start": today + timedelta(days=3), "period_end": today + timedelta(days=4)},
        {"period_start": "yesterday", "period_end": today},
    ]:
        response = client.post(reverse("console:blacklist-export"), period)
        assert response.status_code == 200 and 'class="field-error"' in response.content.decode()
    assert not BlacklistExport.objects.exists()
    assert BlacklistEntry.objects.get().report_status == BlacklistEntry.Report.UNREPORTED


def test_the_console_reminds_admins_of_unreported_blacklistings(client, admin, inspector, entry, settings):
    settings.LIVEWARD_BLACKLIST_REPORT_DAYS = 3
    logged_in(client, admin)
    assert 'class="reminder"' not in client.get(reverse("console:blacklist")).content.decode()
    BlacklistEntry.objects.filter(pk=entry.pk).update(created_at=timezone.now() - timedelta(days=4))
    page = client.get(reverse("console:home")).content.decode()
    assert 'class="reminder"' in page and "3" in page
    logged_in(client, inspector)
    assert 'class="reminder"' not in client.get(reverse("console:blacklist")).content.decode()

    logged_in(client, admin)
    today = timezone.localdate()
    client.post(reverse("console:blacklist-export"), {"period_start": today - timedelta(days=10), "period_end": today})
    assert 'class="reminder"' not in client.get(reverse("console:home")).content.decode()


def test_inspectors_download_exports(client, admin, inspector, entry):
    today = timezone.localdate()
    export = actions.export_blacklist(actor=admin, period_start=today, period_end=today)
    logged_in(client, inspector)
    assert client.get(reverse("console:blacklist-export")).status_code == 200
    response = client.get(reverse("console:blacklist-export-file", args=[export.pk, "xlsx"]))
    assert response.status_code == 200
    assert client.get(reverse("console:blacklist-export-file", args=[export.pk, "pdf"])).status_code == 404


def test_admin_blacklists_from_a_stream_action_without_typing_the_identity(client, admin, nginx_node, stream_key):
    stream = actions.open_stream(
        stream_key, published_name=stream_key.issued_key, node=nginx_node, app="live", client_id="5", addr="", title=""
    )
    action = actions.block_stream(stream, actor=admin, reason=ReasonCode.FRAUD)
    logged_in(client, admin)
    page = client.get(reverse("console:stream", args=[stream.pk])).content.decode()
    link = f"{reverse('console:blacklist-add')}?action={action.pk}"
    assert link in page
    form = client.get(link).content.decode()
    assert f'value="{action.pk}"' in form
    response = add_through_form(
        client, link, {"kind": "phone", "value": "", "reason": "fraud", "source_action": action.pk}
    )
    assert response.status_code == 302
    entry = BlacklistEntry.objects.get()
    assert entry.masked_value == "+86138****8000" and entry.source_action == action
    assert entry.source_publisher_id == stream_key.publisher_id
    # A kind the publisher holds no value of is a form error.
    response = client.post(link, {"kind": "device", "value": "", "reason": "fraud", "source_action": action.pk})
    assert response.status_code == 200 and BlacklistEntry.objects.count() == 1
