"""The files the console hands to offices: CSV for spreadsheets, XLSX, and a SHA-256 manifest.

Shared by the blacklist report (actions/blacklist_export.py) and the 分类备案 filing export
(actions/filing_export.py). Cells are text: a value that would start a formula is neutralised.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from openpyxl import Workbook

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading formula character gets a quote before it."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def zone_label() -> str:
    """The console's zone as a file states it: ``Asia/Shanghai UTC+0800``."""
    return f"{settings.TIME_ZONE} UTC{timezone.localtime():%z}"


def header_with_zone(columns: list[tuple[str, str]]) -> list[str]:
    """Column titles; a time column (its key ends in ``_at``) says the zone its times are in."""
    return [f"{title}（{zone_label()}）" if key.endswith("_at") else title for key, title in columns]


def file_stamp(moment: datetime) -> str:
    """A file name's time, in the console's zone with its offset (as the times inside the file)."""
    return timezone.localtime(moment).strftime("%Y%m%d%H%M%S%z")


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([[spreadsheet_safe(value) for value in row] for row in rows])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8


def xlsx_bytes(
    header: list[str], rows: list[list[str]], *, sheet: str, title: str, column_width: int | None = None
) -> bytes:
    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    worksheet.append(header)
    for row in rows:
        worksheet.append(row)
    for cells in worksheet.iter_rows(min_row=2):
        for cell in cells:
            if cell.data_type == "f":  # openpyxl reads a leading "=" as a formula; this is text
                cell.data_type = "s"
    if column_width is not None:
        for column in worksheet.columns:
            worksheet.column_dimensions[column[0].column_letter].width = column_width
    workbook.properties.title = title
    workbook.properties.creator = "Liveward"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def manifest(files: list[tuple[str, bytes]]) -> str:
    """``sha256sum`` lines for the files: what the receiving office checks."""
    return "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in files)
