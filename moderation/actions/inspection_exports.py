"""Exports for inspections (配合监督检查, Art. 16): a period's records as a zip of CSV and JSONL with a manifest.

An inspector or compliance admin asks for a period and the kinds; a Celery worker builds the zip
(``build_inspection_export``, safe to run twice); the page offers the download once it is ready.
Each request, build and download is in the staff action log. Exports expire and their files are
deleted after ``LIVEWARD_EXPORT_KEEP_HOURS``.

The zip holds, per kind, ``<kind>.csv`` (UTF-8 with a BOM, every cell as text) and ``<kind>.jsonl``;
``manifest.json`` (period, kinds, rows and SHA-256 of every file); ``SHA256SUMS`` (the same digests
in ``sha256sum`` format, the manifest included); ``README.txt`` with the verification command.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
import zipfile
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import permissions, queries, retention, spreadsheets, task_queue
from moderation.errors import ModerationError
from moderation.models import InspectionExport
from moderation.text_input import for_export

Status = InspectionExport.Status
BUILD_TASK = "moderation.tasks.exports.build_inspection_export"
MAX_PERIOD_DAYS = 366
VERIFY_COMMAND = "unzip -d export liveward-export.zip && cd export && sha256sum -c SHA256SUMS"


def validate_export_request(*, period_start, period_end, kinds, now: datetime | None = None) -> list[str]:
    """Check a requested period and kinds; return the kinds in order, or raise ModerationError saying why."""
    now = now or timezone.now()
    if not isinstance(period_start, datetime) or not isinstance(period_end, datetime):
        raise ModerationError("give both the start and the end of the period", code="unbounded")
    if period_end <= period_start:
        raise ModerationError("the period ends before it starts", code="reversed")
    if period_end - period_start > timedelta(days=MAX_PERIOD_DAYS):
        raise ModerationError(f"a period is at most {MAX_PERIOD_DAYS} days", code="too_long")
    if period_start > now:
        raise ModerationError("the period starts in the future", code="future")
    if not isinstance(kinds, list | tuple) or not kinds:
        raise ModerationError("choose at least one kind of record", code="no_kinds")
    unknown = [kind for kind in kinds if kind not in InspectionExport.Kind.values]
    if unknown:
        raise ModerationError(f"unknown kind {str(unknown[0])[:40]!r}", code="bad_field")
    days = retention.retention_days()
    for kind in kinds:
        record_kind = retention.EXPORT_RETENTION[kind]
        if record_kind and period_start < retention.retention_cutoff(record_kind, now, days=days):
            raise ModerationError(
                f"{kind} are kept {days[record_kind]} days: the period starts before that", code="beyond_retention"
            )
    return [kind for kind in InspectionExport.Kind.values if kind in kinds]


def request_inspection_export(*, actor: User, period_start: datetime, period_end: datetime, kinds) -> InspectionExport:
    """Queue an export of the period's records of these kinds; nothing starts for a bad request."""
    permissions.check(actor, "records.export")
    kinds = validate_export_request(period_start=period_start, period_end=period_end, kinds=kinds)
    with transaction.atomic():
        export = InspectionExport.objects.create(
            requested_by=actor,
            period_start=period_start,
            period_end=period_end,
            kinds=kinds,
            progress_total=len(kinds),
        )
        log_staff_action(
            actor,
            "export.request",
            target=export,
            data={"start": period_start.isoformat(), "end": period_end.isoformat(), "kinds": kinds},
        )
        transaction.on_commit(lambda: task_queue.enqueue(BUILD_TASK, export.pk))
    return export


class _Digest(io.RawIOBase):
    """A write-only stream that hashes and counts what passes through to ``target``."""

    def __init__(self, target) -> None:
        self.target = target
        self.sha256 = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.sha256.update(data)
        return self.target.write(data)


def _cell(value) -> str:
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return for_export(str(value))


def _write_kind(archive: zipfile.ZipFile, kind: str, export: InspectionExport) -> tuple[int, dict[str, str]]:
    # A zip takes one open member at a time: the CSV, then the JSONL (the rows are read twice).
    with archive.open(f"{kind}.csv", "w", force_zip64=True) as raw:
        csv_digest = _Digest(raw)
        csv_text = io.TextIOWrapper(csv_digest, encoding="utf-8-sig", newline="", write_through=True)
        writer = None
        count = 0
        for row in queries.export_rows(kind, export.period_start, export.period_end):
            if writer is None:
                writer = csv.DictWriter(csv_text, fieldnames=list(row))
                writer.writeheader()
            writer.writerow({key: _cell(value) for key, value in row.items()})
            count += 1
        csv_text.flush()
        csv_text.detach()
    with archive.open(f"{kind}.jsonl", "w", force_zip64=True) as raw:
        jsonl_digest = _Digest(raw)
        for row in queries.export_rows(kind, export.period_start, export.period_end):
            jsonl_digest.write((json.dumps(row, ensure_ascii=False, default=str) + "\n").encode())
    return count, {f"{kind}.csv": csv_digest.sha256.hexdigest(), f"{kind}.jsonl": jsonl_digest.sha256.hexdigest()}


def build_inspection_export(export_id: int) -> str:
    """Build the export's zip (a redelivered task builds it again from scratch); return its status."""
    claimed = InspectionExport.objects.filter(pk=export_id, status__in=[Status.QUEUED, Status.BUILDING]).update(
        status=Status.BUILDING, progress_done=0
    )
    if not claimed:
        return "skipped"
    export = InspectionExport.objects.get(pk=export_id)
    try:
        with tempfile.TemporaryFile() as handle:
            digests: dict[str, str] = {}
            rows: dict[str, int] = {}
            with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for done, kind in enumerate(export.kinds, 1):
                    rows[kind], written = _write_kind(archive, kind, export)
                    digests.update(written)
                    InspectionExport.objects.filter(pk=export_id).update(progress_done=done)
                manifest = {
                    "export": export.pk,
                    "period_start": timezone.localtime(export.period_start).isoformat(),
                    "period_end": timezone.localtime(export.period_end).isoformat(),
                    "kinds": export.kinds,
                    "rows": rows,
                    "files": {name: {"sha256": digest} for name, digest in sorted(digests.items())},
                    "generated_at": timezone.localtime(timezone.now()).isoformat(),
                    "requested_by": export.requested_by.get_username(),
                    "verify": VERIFY_COMMAND,
                }
                manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
                archive.writestr("manifest.json", manifest_bytes)
                digests["manifest.json"] = hashlib.sha256(manifest_bytes).hexdigest()
                archive.writestr("SHA256SUMS", "".join(f"{d}  {name}\n" for name, d in sorted(digests.items())))
                archive.writestr(
                    "README.txt",
                    "Liveward 检查导出 / inspection export\n"
                    f"Period 期间: {manifest['period_start']} – {manifest['period_end']}\n"
                    f"Times 时间: {spreadsheets.zone_label()}\n"
                    f"Verify 校验: {VERIFY_COMMAND}\n",
                )
            handle.seek(0)
            zip_digest = hashlib.sha256()
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                zip_digest.update(chunk)
            size = handle.tell()
            handle.seek(0)
            export.file.save(f"liveward-export-{export.pk}.zip", File(handle), save=False)
    except Exception as exc:
        InspectionExport.objects.filter(pk=export_id).update(
            status=Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:300]
        )
        raise
    now = timezone.now()
    with transaction.atomic():
        InspectionExport.objects.filter(pk=export_id).update(
            status=Status.READY,
            file=export.file.name,
            sha256=zip_digest.hexdigest(),
            size=size,
            rows=rows,
            finished_at=now,
            expires_at=now + timedelta(hours=settings.LIVEWARD_EXPORT_KEEP_HOURS),
            progress_done=len(export.kinds),
        )
        log_staff_action(None, "export.ready", target=export, data={"sha256": zip_digest.hexdigest(), "rows": rows})
    return Status.READY


def record_export_download(export: InspectionExport, *, actor: User) -> None:
    """Log that someone downloaded an export (refused unless it is ready)."""
    permissions.check(actor, "records.export")
    if export.status != Status.READY or not export.file:
        raise ModerationError("this export is not ready (or has expired)", code="conflict")
    log_staff_action(actor, "export.download", target=export, data={"sha256": export.sha256})


def expire_inspection_exports(now: datetime | None = None) -> int:
    """Delete the files of exports past their expiry; return how many expired."""
    now = now or timezone.now()
    expired = 0
    for export in InspectionExport.objects.filter(status=Status.READY, expires_at__lte=now):
        with transaction.atomic():
            if not InspectionExport.objects.filter(pk=export.pk, status=Status.READY).update(status=Status.EXPIRED):
                continue
            name = export.file.name
            log_staff_action(None, "export.expire", target=export, data={"file": name})
            transaction.on_commit(lambda name=name, storage=export.file.storage: storage.delete(name))
        expired += 1
    return expired
