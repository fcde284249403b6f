"""Reporting blacklistings to the provincial office (Art. 15): the export as CSV and XLSX with a manifest.

The export lists the entries of a period with masked identities only, marks them reported, and keeps
the files with their SHA-256 digests. Every cell is written so a spreadsheet reads it as text, and
whatever was stored (a control character in a note or a publisher's name) is written in a form both
files can hold (moderation/text_input.py's ``for_export``); the stored values stay as they are.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import spreadsheets
from moderation.actions.blacklist import require_blacklist_admin
from moderation.errors import ModerationError
from moderation.identity import (
    Kind,
)
from moderation.models import (
    BlacklistEntry,
    BlacklistExport,
    ReasonCode,
)
from moderation.queries import blacklist_entries_for_export
from moderation.text_input import for_export

# The columns the provincial office gets (docs/blacklist.md says why each is there).
EXPORT_COLUMNS: list[tuple[str, str]] = [
    ("reference", "黑名单编号 Reference"),
    ("blacklisted_at", "列入时间 Blacklisted at"),
    ("identity_kind", "标识类别 Identity kind"),
    ("identity_masked", "标识（脱敏） Identity (masked)"),
    ("platform_account_id", "平台账号 Platform account"),
    ("publisher_name", "主播名称 Publisher"),
    ("reason_code", "原因代码 Reason code"),
    ("reason", "原因 Reason"),
    ("note", "说明 Note"),
    ("source_action", "处置记录编号 Source action"),
    ("term", "期限 Term"),
    ("status", "状态 Status"),
    ("closed_accounts", "关闭账号数 Accounts closed"),
    ("author", "操作人 Entered by"),
]


_KIND_ZH = {
    Kind.ID_DOCUMENT: "身份证件",
    Kind.PHONE: "手机号码",
    Kind.DEVICE: "设备标识",
    Kind.PLATFORM_ACCOUNT: "平台账号",
}


def _export_rows(entries: list[BlacklistEntry]) -> list[list[str]]:

    rows = []
    with translation.override("zh-hans"):  # the office reads Chinese
        for entry in entries:
            local = timezone.localtime(entry.created_at)
            source = entry.source_publisher
            row = [
                entry.reference,
                local.strftime("%Y-%m-%d %H:%M:%S"),
                _KIND_ZH.get(entry.kind, entry.kind),
                entry.masked_value,
                source.platform_account_id if source else "",
                source.display_name if source else "",
                entry.reason,
                str(ReasonCode(entry.reason).label),
                entry.note,
                str(entry.source_action_id or ""),
                "永久" if entry.expires_at is None else timezone.localtime(entry.expires_at).strftime("%Y-%m-%d"),
                entry.get_status_display(),  # the page's word (有效), in Chinese here
                str(entry.closed_count),
                entry.author.get_username() if entry.author else "",
            ]
            rows.append([for_export(value) for value in row])
    return rows


def export_blacklist(*, actor: User, period_start: date, period_end: date) -> BlacklistExport:
    """Export the blacklistings of a period (CSV, XLSX, SHA-256 manifest) and mark them reported."""
    require_blacklist_admin(actor)
    if period_end < period_start:
        raise ModerationError("the period ends before it starts", code="bad_field")
    if period_start > timezone.localdate():
        raise ModerationError("the period starts in the future", code="bad_field")
    zone = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(period_start, time.min), zone)
    end = timezone.make_aware(datetime.combine(period_end + timedelta(days=1), time.min), zone)
    now = timezone.now()
    with transaction.atomic():
        entries = list(blacklist_entries_for_export(start=start, end=end).select_for_update(of=("self",)))
        rows = _export_rows(entries)
        stem = f"liveward-blacklist-{period_start:%Y%m%d}-{period_end:%Y%m%d}-{spreadsheets.file_stamp(now)}"
        header = spreadsheets.header_with_zone(EXPORT_COLUMNS)
        csv_data = spreadsheets.csv_bytes(header, rows)
        xlsx_data = spreadsheets.xlsx_bytes(header, rows, sheet="黑名单", title=stem, column_width=20)
        manifest = spreadsheets.manifest([(f"{stem}.csv", csv_data), (f"{stem}.xlsx", xlsx_data)])
        export = BlacklistExport(
            created_by=actor,
            created_at=now,
            period_start=period_start,
            period_end=period_end,
            entry_count=len(entries),
            manifest=manifest,
        )
        export.csv_file.save(f"{stem}.csv", ContentFile(csv_data), save=False)
        export.xlsx_file.save(f"{stem}.xlsx", ContentFile(xlsx_data), save=False)
        export.save()
        unreported = [entry.pk for entry in entries if entry.report_status == BlacklistEntry.Report.UNREPORTED]
        BlacklistEntry.objects.filter(pk__in=unreported).update(
            report_status=BlacklistEntry.Report.REPORTED, reported_at=now, export=export
        )
        log_staff_action(
            actor,
            "blacklist.export",
            target=export,
            data={
                "period": [period_start.isoformat(), period_end.isoformat()],
                "entries": len(entries),
                "marked_reported": len(unreported),
                "manifest": manifest,
            },
        )
    return export
