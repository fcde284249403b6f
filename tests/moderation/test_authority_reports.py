"""Reports to the authorities (Art. 14): filed with fixed content, states tracked, a signed package that verifies."""

from __future__ import annotations

import io
import json
import zipfile

from django.test import Client

import pytest

from moderation import actions, authority_package
from moderation.errors import ModerationError
from moderation.models import AuthorityReport
from tests.moderation.test_reports import open_live

pytestmark = pytest.mark.django_db


@pytest.fixture
def blocked(stream_key, nginx_node, patroller):
    stream = open_live(stream_key, nginx_node)
    actions.block_stream(stream, actor=patroller, reason="pornography", note="直播中裸露")
    return stream


def test_a_filed_report_packages_the_measures_evidence_and_masked_identity(admin, blocked):
    report = actions.file_authority_report(actor=admin, stream_id=blocked.pk, summary="主播直播淫秽内容，已断流")
    assert report.status == AuthorityReport.Status.DRAFTED and report.reference.startswith("BG-")
    package = authority_package.build_package(report.content)
    manifest = authority_package.verify_package(package)
    names = {entry["name"] for entry in manifest["files"]}
    assert "report.json" in names and any(name.startswith("evidence/") for name in names)
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        body = json.loads(archive.read("report.json"))
    assert body["publisher"]["document_number"] != "110105199001011234"
    assert "1234" in body["publisher"]["document_number"] and body["publisher"]["real_name"].startswith("王")
    block = body["measures"][0]
    assert block["kind"] == "block" and {item["kind"] for item in block["evidence"]} >= {"metadata"}
    assert all(len(item["sha256"]) == 64 for item in block["evidence"])
    assert authority_package.build_package(report.content) == package  # every download the same bytes


def test_a_tampered_package_does_not_verify(admin, blocked):
    report = actions.file_authority_report(actor=admin, stream_id=blocked.pk, summary="违规")
    package = authority_package.build_package(report.content)
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    files["report.json"] = files["report.json"].replace("违规".encode(), "合规".encode())
    tampered = io.BytesIO()
    with zipfile.ZipFile(tampered, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    with pytest.raises(authority_package.PackageInvalid):
        authority_package.verify_package(tampered.getvalue())
    with pytest.raises(authority_package.PackageInvalid):
        authority_package.verify_package(package, key=b"another key")
    with pytest.raises(authority_package.PackageInvalid):
        authority_package.verify_package(b"not a zip")


def test_states_move_forward_only_and_bad_input_is_refused(admin, patroller, blocked):
    with pytest.raises(ModerationError):
        actions.file_authority_report(actor=patroller, stream_id=blocked.pk, summary="x")
    with pytest.raises(ModerationError):
        actions.file_authority_report(actor=admin, stream_id=blocked.pk, summary="  ")
    with pytest.raises(ModerationError):
        actions.file_authority_report(actor=admin, stream_id=999999, summary="x")
    report = actions.file_authority_report(actor=admin, stream_id=blocked.pk, summary="违规")
    with pytest.raises(ModerationError):
        actions.mark_authority_report_acknowledged(report, actor=admin, acknowledgement="收到")
    actions.mark_authority_report_submitted(report, actor=admin)
    with pytest.raises(ModerationError):
        actions.mark_authority_report_submitted(report, actor=admin)
    done = actions.mark_authority_report_acknowledged(report, actor=admin, acknowledgement="网信办回执 2026-118")
    assert done.status == AuthorityReport.Status.ACKNOWLEDGED and done.acknowledgement == "网信办回执 2026-118"


def test_the_inspector_sees_the_list_and_downloads_a_package_that_verifies(admin, inspector, patroller, blocked):
    staff = Client()
    staff.force_login(admin)
    answer = staff.post("/authority-reports/file", {"stream": blocked.pk, "summary": "严重违规"})
    report = AuthorityReport.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/authority-reports/{report.pk}/"
    reader = Client()
    reader.force_login(inspector)
    assert report.reference in reader.get("/authority-reports/").content.decode()
    package = reader.get(f"/authority-reports/{report.pk}/package")
    assert package.status_code == 200 and package["Content-Type"] == "application/zip"
    assert authority_package.verify_package(package.content)["reference"] == report.reference
    assert reader.post("/authority-reports/file", {"stream": blocked.pk, "summary": "x"}).status_code == 403
    watcher = Client()
    watcher.force_login(patroller)
    assert watcher.get("/authority-reports/").status_code == 403
