"""Reports to the authorities (Art. 14): filed with fixed content, states tracked, a signed package that verifies."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import stat
import subprocess
import zipfile

from django.core.management import CommandError, call_command
from django.test import Client, override_settings

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

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
        authority_package.verify_package(package, public_key=Ed25519PrivateKey.generate().public_key())
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


def _files(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _regulator_checks(package: bytes, public_pem: bytes) -> None:
    """What the receiving side does with the public key alone: no Liveward code, no secret of ours."""
    files = _files(package)
    manifest_bytes, signature = files.pop("manifest.json"), files.pop("manifest.sig")
    serialization.load_pem_public_key(public_pem).verify(signature, manifest_bytes)  # raises if wrong
    listed = {entry["name"]: entry["sha256"] for entry in json.loads(manifest_bytes)["files"]}
    assert listed == {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


def test_a_package_verifies_with_the_downloaded_public_key_alone(admin, inspector, blocked, tmp_path):
    report = actions.file_authority_report(actor=admin, stream_id=blocked.pk, summary="严重违规")
    reader = Client()
    reader.force_login(inspector)
    public = reader.get("/authority-reports/public-key.pem")
    assert public.status_code == 200 and public.content.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert b"PRIVATE" not in public.content
    package = reader.get(f"/authority-reports/{report.pk}/package").content
    _regulator_checks(package, public.content)
    manifest = json.loads(_files(package)["manifest.json"])
    assert manifest["algorithm"] == "Ed25519" and _files(package)["public_key.pem"] == public.content
    assert authority_package.verify_package(package, public_key=public.content)["reference"] == report.reference

    # The command the docs give the regulator: openssl with the public key, the manifest and its signature.
    (tmp_path / "public.pem").write_bytes(public.content)
    for name, data in _files(package).items():
        if name.startswith("manifest"):
            (tmp_path / name).write_bytes(data)
    if shutil.which("openssl"):
        verify = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "public.pem", "-rawin"]
        good = subprocess.run([*verify, "-in", "manifest.json", "-sigfile", "manifest.sig"], cwd=tmp_path, check=False)
        assert good.returncode == 0
        (tmp_path / "manifest.json").write_bytes(_files(package)["manifest.json"].replace(b"BG-", b"BX-"))
        bad = subprocess.run(
            [*verify, "-in", "manifest.json", "-sigfile", "manifest.sig"],
            cwd=tmp_path,
            check=False,
            capture_output=True,
        )
        assert bad.returncode != 0

    # The management command, with the public key file and with this console's own key.
    (tmp_path / "package.zip").write_bytes(package)
    output = io.StringIO()
    call_command(
        "verify_authority_package",
        str(tmp_path / "package.zip"),
        "--public-key",
        str(tmp_path / "public.pem"),
        stdout=output,
    )
    assert "verified" in output.getvalue() and report.reference in output.getvalue()
    call_command("verify_authority_package", str(tmp_path / "package.zip"), stdout=io.StringIO())


def test_a_changed_file_or_manifest_or_another_key_fails(admin, blocked, tmp_path):
    report = actions.file_authority_report(actor=admin, stream_id=blocked.pk, summary="违规")
    package = authority_package.build_package(report.content)
    public_pem = authority_package.public_key_pem()
    changed_file = _files(package)
    changed_file["report.json"] = changed_file["report.json"].replace("违规".encode(), "合规".encode())
    changed_manifest = _files(package)
    changed_manifest["manifest.json"] = changed_manifest["manifest.json"].replace(b'"size": ', b'"size": 1', 1)
    extra_file = {**_files(package), "evidence/extra.json": b"{}"}
    resigned = _files(package)  # a forger signs with a key of their own and ships its public key inside
    forger = Ed25519PrivateKey.generate()
    resigned["report.json"] = changed_file["report.json"]
    resigned["public_key.pem"] = forger.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    entries = json.loads(resigned["manifest.json"])
    for entry in entries["files"]:
        entry["sha256"] = hashlib.sha256(resigned[entry["name"]]).hexdigest()
        entry["size"] = len(resigned[entry["name"]])
    resigned["manifest.json"] = json.dumps(entries).encode()
    resigned["manifest.sig"] = forger.sign(resigned["manifest.json"])
    for files in (changed_file, changed_manifest, extra_file, resigned):
        bad = _zip(files)
        with pytest.raises(authority_package.PackageInvalid):
            authority_package.verify_package(bad, public_key=public_pem)
        with pytest.raises((InvalidSignature, AssertionError)):
            _regulator_checks(bad, public_pem)
        (tmp_path / "bad.zip").write_bytes(bad)
        with pytest.raises(CommandError, match="does NOT verify"):
            call_command("verify_authority_package", str(tmp_path / "bad.zip"), stdout=io.StringIO())
    with pytest.raises(authority_package.PackageInvalid):
        authority_package.verify_package(package, public_key=b"not a key")
    with pytest.raises(CommandError):
        call_command("verify_authority_package", str(tmp_path / "missing.zip"), stdout=io.StringIO())


def test_the_signing_key_is_made_once_in_var_with_mode_0600_or_read_from_the_setting(admin, blocked, tmp_path):
    report = actions.file_authority_report(actor=admin, stream_id=blocked.pk, summary="违规")
    key_file = tmp_path / "var" / "authority_signing_key.pem"
    with override_settings(LIVEWARD_AUTHORITY_SIGNING_KEY="", LIVEWARD_AUTHORITY_SIGNING_KEY_PATH=key_file):
        first = authority_package.build_package(report.content)
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        made = key_file.read_bytes()
        assert made.startswith(b"-----BEGIN PRIVATE KEY-----")
        authority_package._signing_key.cache_clear()  # another process: reads the same file, same bytes
        assert authority_package.build_package(report.content) == first and key_file.read_bytes() == made
        file_public = authority_package.public_key_pem()
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with override_settings(LIVEWARD_AUTHORITY_SIGNING_KEY=pem.decode(), LIVEWARD_AUTHORITY_SIGNING_KEY_PATH=key_file):
        configured = authority_package.build_package(report.content)
        assert authority_package.public_key_pem() != file_public
        authority_package.verify_package(configured)
    with pytest.raises(authority_package.PackageInvalid):
        authority_package.verify_package(configured, public_key=file_public)
    authority_package.verify_package(first, public_key=file_public)


def test_only_the_compliance_admin_and_the_inspector_download_the_public_key(admin, patroller):
    staff = Client()
    staff.force_login(admin)
    assert staff.get("/authority-reports/public-key.pem").status_code == 200
    assert (
        authority_package.key_id(authority_package.signing_key().public_key())
        in staff.get("/authority-reports/").content.decode()
    )
    watcher = Client()
    watcher.force_login(patroller)
    assert watcher.get("/authority-reports/public-key.pem").status_code == 403
    assert Client().get("/authority-reports/public-key.pem").status_code in (302, 403)
