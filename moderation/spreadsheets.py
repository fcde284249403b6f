"""The files the console hands to offices: CSV for spreadsheets, XLSX, and a SHA-256 manifest.

Shared by the blacklist report (actions/blacklist_export.py) and the 分类备案 filing export
(actions/filing_export.py). Cells are text: a value that would start a formula is neutralised.
"""

from __future__ import annotations

import csv
import hashlib
import io

from openpyxl import Workbook

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading formula character gets a quote before it."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


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
