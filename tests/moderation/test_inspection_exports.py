"""Exports for inspections: bad periods refused, the zip built by the worker, its manifest verifies, it expires."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import zipfile
from datetime import timedelta

from django.utils import timezone

import pytest

from accounts.models import StaffActionLog
from moderation import actions
from moderation.models import InspectionExport, ReasonCode, Stream
from moderation.tasks.exports import build_inspection_export, expire_inspection_exports

pytestmark = pytest.mark.django_db

ALL_KINDS = [kind for kind, _label in InspectionExport.Kind.choices]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def local(delta: timedelta) -> str:
    return timezone.localtime(timezone.now() + delta).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def world(stream_key, nginx_node, patroller):
    stream = actions.open_stream(
        stream_key,
        published_name=stream_key.issued_key,
        node=nginx_node,
        app="live",
        client_id="1",
        addr="203.0.113.9",
        title='深夜食堂直播,"引号"',
    )
    actions.mark_patrolled(stream, actor=patroller, note="正常")
    actions.warn_publisher(stream, actor=patroller, reason=ReasonCode.INSULT_DEFAMATION, note="注意言辞")
    return stream


def request(client, **fields):
    form = {"period_start": local(timedelta(days=-2)), "period_end": local(timedelta(hours=1)), "kinds": ALL_KINDS}
    return client.post("/records/exports/", {**form, **fields})


def test_an_inspector_downloads_an_export_whose_manifest_verifies(client, inspector, world, tmp_path):
    client.force_login(inspector)
    assert request(client).status_code == 302
    export = InspectionExport.objects.get()
    assert export.status == InspectionExport.Status.QUEUED and export.kinds == ALL_KINDS
    assert build_inspection_export.apply(args=[export.pk]).get() == "ready"
    export.refresh_from_db()
    assert export.status == InspectionExport.Status.READY and export.expires_at > timezone.now()
    assert export.rows["streams"] == 1 and export.rows["actions"] == 2

    page = client.get("/records/exports/").content.decode()
    assert f"/records/exports/{export.pk}/download" in page
    download = client.get(f"/records/exports/{export.pk}/download")
    body = b"".join(download.streaming_content)
    assert hashlib.sha256(body).hexdigest() == export.sha256
    archive = zipfile.ZipFile(io.BytesIO(body))
    manifest = json.loads(archive.read("manifest.json"))
    for name, entry in manifest["files"].items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == entry["sha256"], name
    assert set(manifest["files"]) == {f"{kind}.{ext}" for kind in ALL_KINDS for ext in ("csv", "jsonl")}
    # The verification command the README names, run as an inspector would.
    (tmp_path / "export").mkdir()
    archive.extractall(tmp_path / "export")
    checked = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path / "export", capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "manifest.json: OK" in checked.stdout
    actions_rows = [json.loads(line) for line in archive.read("actions.jsonl").decode().splitlines()]
    assert [row["kind"] for row in actions_rows] == ["mark_patrolled", "warn"]
    # Times are in the console's zone (Asia/Shanghai), each with its offset; the README says the zone.
    assert all(row["at"].endswith("+08:00") for row in actions_rows), actions_rows
    assert manifest["period_start"].endswith("+08:00") and manifest["generated_at"].endswith("+08:00")
    assert "Asia/Shanghai UTC+0800" in archive.read("README.txt").decode()
    assert "深夜食堂直播" in archive.read("streams.csv").decode("utf-8-sig")
    verbs = set(StaffActionLog.objects.filter(target_type="moderation.inspectionexport").values_list("verb", flat=True))
    assert verbs == {"export.request", "export.ready", "export.download"}


@pytest.mark.parametrize(
    "fields",
    [
        {"period_start": local(timedelta(hours=1)), "period_end": local(timedelta(days=-1))},  # reversed
        {"period_start": ""},  # unbounded
        {"period_end": ""},  # unbounded
        {"period_start": local(timedelta(days=-100))},  # beyond 60 days of gate decisions
        {"period_start": local(timedelta(days=-500)), "kinds": ["blacklist"]},  # longer than a year
        {"kinds": []},
        {"kinds": ["everything"]},
        {"period_start": local(timedelta(days=2)), "period_end": local(timedelta(days=3))},  # the future
    ],
)
def test_a_bad_request_is_a_form_error_and_nothing_starts(client, admin, fields):
    client.force_login(admin)
    response = request(client, **fields)
    assert response.status_code == 400
    assert not InspectionExport.objects.exists()
    assert not StaffActionLog.objects.filter(verb="export.request").exists()


def test_only_inspectors_and_compliance_admins_export(client, patroller):
    client.force_login(patroller)
    assert request(client).status_code == 403
    assert not InspectionExport.objects.exists()


def test_an_export_built_twice_is_the_same_and_expires_with_its_file(
    client, admin, world, django_capture_on_commit_callbacks
):
    export = actions.request_inspection_export(
        actor=admin, period_start=timezone.now() - timedelta(days=1), period_end=timezone.now(), kinds=["streams"]
    )
    assert build_inspection_export.apply(args=[export.pk]).get() == "ready"
    assert build_inspection_export.apply(args=[export.pk]).get() == "skipped"
    export.refresh_from_db()
    path = export.file.path
    InspectionExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert expire_inspection_exports.apply().get() == 1
    export.refresh_from_db()
    assert export.status == InspectionExport.Status.EXPIRED
    assert not os.path.exists(path)
    client.force_login(admin)
    assert client.get(f"/records/exports/{export.pk}/download").status_code == 404
    assert Stream.objects.count() == 1
