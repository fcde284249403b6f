"""分类备案 (Art. 12): the filing of publishers with the provincial office, as CSV and XLSX with a manifest.

A filing lists the verified publishers whose filed data is new or changed in a period (registered,
verification changed), identities masked, and marks them filed. The files follow the blacklist
export's rules (text cells only, nothing a spreadsheet reads as a formula; moderation/actions/blacklist_export.py).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import permissions, spreadsheets
from moderation.errors import ModerationError
from moderation.identity import mask_document_number, mask_name, mask_phone
from moderation.models import FilingExport, Publisher
from moderation.text_input import for_export

FILING_COLUMNS: list[tuple[str, str]] = [
    ("platform_account_id", "平台账号 Platform account"),
    ("display_name", "主播名称 Publisher"),
    ("filing_category", "备案类别 Filing category"),
    ("kind", "主体类型 Kind"),
    ("real_name", "姓名/名称（脱敏） Name (masked)"),
    ("document", "证件（脱敏） Document (masked)"),
    ("phone", "手机号码（脱敏） Mobile (masked)"),
    ("verified_at", "实名认证时间 Verified at"),
    ("method", "认证方式 Method"),
    ("changed_at", "变更时间 Changed at"),
    ("previously_filed", "曾备案 Filed before"),
]


def _rows(publishers: list[Publisher]) -> list[list[str]]:
    rows = []
    with translation.override("zh-hans"):
        for publisher in publishers:
            report = publisher.verification_reports.order_by("-performed_at").first()
            document = mask_document_number(publisher.document_number, document_type=publisher.document_type)
            if publisher.kind == Publisher.Kind.ORGANISATION:
                document = mask_document_number(
                    publisher.organisation_licence_number or publisher.document_number,
                    document_type=Publisher.DocumentType.BUSINESS_LICENCE,
                )
            row = [
                publisher.platform_account_id,
                publisher.display_name,
                str(publisher.get_filing_category_display()),
                str(publisher.get_kind_display()),
                mask_name(publisher.real_name),
                document,
                mask_phone(publisher.phone),
                timezone.localtime(publisher.verification_performed_at).strftime("%Y-%m-%d %H:%M:%S")
                if publisher.verification_performed_at
                else "",
                str(report.get_method_display()) if report else "",
                timezone.localtime(publisher.filing_changed_at).strftime("%Y-%m-%d %H:%M:%S"),
                "是" if publisher.filed_at else "否",
            ]
            rows.append([for_export(value) for value in row])
    return rows


def export_filing(*, actor: User, period_start: date, period_end: date) -> FilingExport:
    """Export the verified publishers new or changed in a period (CSV, XLSX, manifest) and mark them filed."""
    permissions.check(actor, "filing.export")
    if period_end < period_start:
        raise ModerationError("the period ends before it starts", code="bad_field")
    if period_start > timezone.localdate():
        raise ModerationError("the period starts in the future", code="bad_field")
    zone = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(period_start, time.min), zone)
    end = timezone.make_aware(datetime.combine(period_end + timedelta(days=1), time.min), zone)
    now = timezone.now()
    with transaction.atomic():
        publishers = list(
            Publisher.objects.select_for_update()
            .filter(
                verification=Publisher.Verification.VERIFIED,
                filing_changed_at__gte=start,
                filing_changed_at__lt=end,
            )
            .order_by("filing_changed_at", "pk")
        )
        rows = _rows(publishers)
        stem = f"liveward-filing-{period_start:%Y%m%d}-{period_end:%Y%m%d}-{spreadsheets.file_stamp(now)}"
        header = spreadsheets.header_with_zone(FILING_COLUMNS)
        csv_data = spreadsheets.csv_bytes(header, rows)
        xlsx_data = spreadsheets.xlsx_bytes(header, rows, sheet="分类备案", title=stem)
        manifest = spreadsheets.manifest([(f"{stem}.csv", csv_data), (f"{stem}.xlsx", xlsx_data)])
        export = FilingExport(
            created_by=actor,
            created_at=now,
            period_start=period_start,
            period_end=period_end,
            publisher_count=len(publishers),
            manifest=manifest,
        )
        export.csv_file.save(f"{stem}.csv", ContentFile(csv_data), save=False)
        export.xlsx_file.save(f"{stem}.xlsx", ContentFile(xlsx_data), save=False)
        export.save()
        Publisher.objects.filter(pk__in=[p.pk for p in publishers]).update(filing=Publisher.Filing.FILED, filed_at=now)
        log_staff_action(
            actor,
            "filing.export",
            target=export,
            data={"period": [period_start.isoformat(), period_end.isoformat()], "publishers": len(publishers),
                  "manifest": manifest},
        )  # fmt: skip
    return export
