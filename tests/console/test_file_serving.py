"""Stored files go to staff as images or downloads, never as a page (issue 12)."""

from __future__ import annotations

from django.test import Client

import pytest

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def snapshots(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    folder = settings.MEDIA_ROOT / "snapshots" / "1"
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def staff(patroller) -> Client:
    client = Client()
    client.force_login(patroller)
    return client


def test_an_image_is_shown_inline_as_its_type_and_runs_nothing(snapshots, staff):
    (snapshots / "frame.png").write_bytes(PNG)
    served = staff.get("/media/snapshots/1/frame.png")
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert served["Content-Disposition"] == 'inline; filename="frame.png"'
    assert served["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in served["Content-Security-Policy"] and "sandbox" in served["Content-Security-Policy"]
    assert b"".join(served.streaming_content) == PNG


@pytest.mark.parametrize("name", ["page.html", "page.svg", "script.js", "no-extension", "page.xhtml"])
def test_anything_else_is_a_download_of_no_type(snapshots, staff, name):
    (snapshots / name).write_bytes(b"<html><script>alert(1)</script></html>")
    served = staff.get(f"/media/snapshots/1/{name}")
    assert served.status_code == 200 and served["Content-Type"] == "application/octet-stream"
    assert served["Content-Disposition"] == f'attachment; filename="{name}"'
    assert served["X-Content-Type-Options"] == "nosniff" and "sandbox" in served["Content-Security-Policy"]
