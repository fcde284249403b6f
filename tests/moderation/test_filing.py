"""分类备案: the filing export of verified publishers new or changed in a period, CSV and XLSX with a manifest."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

import pytest
from openpyxl import load_workbook

from moderation import actions
from moderation.models import Publisher, VerificationReport
from tests.conftest import make_publisher

pytestmark = pytest.mark.django_db


def verify(publisher: Publisher, reference: str) -> None:
    actions.report_verification(
        publisher,
        method="id_face",
        provider="kyc",
        reference=reference,
        result=VerificationReport.Result.VERIFIED,
        performed_at=timezone.now(),
        actor=None,
    )


def test_the_filing_lists_new_verified_publishers_masked_and_marks_them_filed(agreement, admin):
    verified = make_publisher("acct-5001", "=HYPERLINK(1)", verified=False)
    verify(verified, "k-1")
    make_publisher("acct-5002", "未认证", verified=False)
    today = timezone.localdate()
    export = actions.export_filing(actor=admin, period_start=today, period_end=today)

    assert export.publisher_count == 1
    text = export.csv_file.read().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][0] == "acct-5001" and rows[1][1] == "'=HYPERLINK(1)"  # never a formula
    assert "110105199001011234" not in text and "13800138000" not in text  # masked
    sheet = load_workbook(io.BytesIO(export.xlsx_file.read())).active
    assert sheet.cell(row=2, column=1).value == "acct-5001" and sheet.cell(row=2, column=2).data_type == "s"
    export.csv_file.seek(0)
    digest = hashlib.sha256(export.csv_file.read()).hexdigest()
    assert digest in export.manifest
    publisher = Publisher.objects.get(platform_account_id="acct-5001")
    assert publisher.filing == Publisher.Filing.FILED and publisher.filed_at is not None

    again = actions.export_filing(actor=admin, period_start=today, period_end=today)
    assert again.publisher_count == 1  # still changed in the period: a re-export repeats it


def test_a_change_of_verification_puts_a_filed_publisher_in_the_next_filing(agreement, admin):
    publisher = make_publisher("acct-5003", "主播", verified=False)
    verify(publisher, "k-3")
    today = timezone.localdate()
    actions.export_filing(actor=admin, period_start=today, period_end=today)
    Publisher.objects.filter(pk=publisher.pk).update(verification_performed_at=timezone.now() - timedelta(hours=1))
    verify(publisher, "k-4")
    assert Publisher.objects.get(pk=publisher.pk).filing == Publisher.Filing.NOT_FILED


def test_bad_periods_and_roles_are_refused(agreement, admin, patroller):
    today = timezone.localdate()
    with pytest.raises(actions.ModerationError):
        actions.export_filing(actor=admin, period_start=today, period_end=today - timedelta(days=1))
    with pytest.raises(actions.ModerationError):
        actions.export_filing(actor=admin, period_start=today + timedelta(days=1), period_end=today + timedelta(days=2))
    with pytest.raises(actions.ModerationError):
        actions.export_filing(actor=patroller, period_start=today, period_end=today)


def test_the_filing_page_exports_and_serves_the_files(client, agreement, admin, inspector):
    verify(make_publisher("acct-5005", "主播五", verified=False), "k-5")
    today = timezone.localdate().isoformat()
    client.force_login(admin)
    assert client.post(reverse("console:filing"), {"period_start": today, "period_end": today}).status_code == 302
    page = client.get(reverse("console:filing")).content.decode()
    assert "liveward-filing-" in page
    from moderation.models import FilingExport

    export = FilingExport.objects.get()
    for part in ("csv", "xlsx", "manifest"):
        assert client.get(reverse("console:filing-file", args=[export.pk, part])).status_code == 200
    client.force_login(inspector)
    assert client.get(reverse("console:filing")).status_code == 200
    assert client.post(reverse("console:filing"), {"period_start": today, "period_end": today}).status_code == 403
