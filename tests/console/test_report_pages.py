"""The public report page, its status page, the platform app's report API and the staff's report queue."""

from __future__ import annotations

import base64

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

import pytest
from rest_framework.test import APIClient

from accounts.actions import create_machine_client
from accounts.roles import MACHINE_PLATFORM
from moderation.models import ModerationAction, PublicReport
from tests.moderation.test_reports import open_live, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(stream_key, nginx_node):
    return open_live(stream_key, nginx_node)


@pytest.fixture
def public(clear_cache):
    return Client(REMOTE_ADDR="203.0.113.7")


def form(stream, **overrides) -> dict:
    return {
        "target_kind": "stream",
        "target": str(stream.pk),
        "category": "pornography",
        "description": "主播有不雅行为",
        "contact": "13800138000",
    } | overrides


def test_the_public_page_is_chinese_by_default_and_needs_no_login(public):
    page = public.get("/report/")
    assert page.status_code == 200
    assert '<html lang="zh-hans">' in page.content.decode()
    assert 'enctype="multipart/form-data"' in page.content.decode()


def test_a_report_from_the_page_gets_a_receipt_and_a_status_page(public, live):
    image = SimpleUploadedFile("photo.png", png_bytes(), content_type="image/png")
    answer = public.post("/report/", form(live, description="<script>alert(1)</script>") | {"images": [image]})
    assert answer.status_code == 302
    report = PublicReport.objects.get()
    assert answer["Location"] == f"/report/{report.receipt}/"
    assert report.images.count() == 1 and report.source == "web"
    status = public.get(answer["Location"])
    assert status.status_code == 200
    assert report.receipt in status.content.decode()
    assert "<script>alert(1)" not in status.content.decode()


def test_script_in_every_field_is_never_rendered_back(public, live):
    script = "<script>alert(1)</script>"
    answer = public.post("/report/", form(live, target=script, description=script, contact=script))
    assert answer.status_code == 400
    assert script not in answer.content.decode()
    assert not PublicReport.objects.exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [("evil.png", b"<html><script>alert(1)</script></html>" * 4), ("x.jpg", bytes(range(256)) * 4)],
)
def test_files_that_are_not_images_are_refused(public, live, name, content):
    answer = public.post("/report/", form(live) | {"images": [SimpleUploadedFile(name, content)]})
    assert answer.status_code == 400
    assert not PublicReport.objects.exists()


def test_unknown_targets_get_a_clear_400(public, live):
    answer = public.post("/report/", form(live, target="99999999"))
    assert answer.status_code == 400
    assert not PublicReport.objects.exists()


def test_a_flood_from_one_address_is_cut_off(public, live, settings):
    settings.LIVEWARD_REPORT_LIMIT_PER_HOUR = 3
    codes = [public.post("/report/", form(live)).status_code for _ in range(6)]
    assert codes == [302, 302, 302, 429, 429, 429]
    assert PublicReport.objects.count() == 3
    assert Client(REMOTE_ADDR="203.0.113.8").post("/report/", form(live)).status_code == 302


def test_a_status_page_is_found_only_by_its_receipt(public):
    assert public.get("/report/JB-0000-0000-0000/").status_code == 404
    assert public.get("/report/<script>/").status_code == 404


@pytest.fixture
def platform(db):
    _user, token = create_machine_client("platform-backend", kind=MACHINE_PLATFORM, actor=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_the_platform_app_files_and_follows_a_report(platform, live, clear_cache):
    body = {
        "target_kind": "stream",
        "target": str(live.pk),
        "category": "minors",
        "description": "未成年人直播",
        "device_id": "device-42",
        "reporter_address": "198.51.100.4",
        "images": [base64.b64encode(png_bytes()).decode()],
    }
    answer = platform.post("/api/v1/reports/", body, format="json")
    assert answer.status_code == 201, answer.content
    receipt = answer.json()["receipt"]
    assert PublicReport.objects.get(receipt=receipt).images.count() == 1
    follow = platform.get(f"/api/v1/reports/{receipt}/")
    assert follow.status_code == 200 and follow.json()["status"] == "open"
    refused = platform.post("/api/v1/reports/", body | {"images": ["bm90IGFuIGltYWdl"]}, format="json")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "not_an_image"
    unknown = platform.post("/api/v1/reports/", body | {"target": "999999", "images": []}, format="json")
    assert unknown.status_code == 404
    assert PublicReport.objects.count() == 1
    assert APIClient().post("/api/v1/reports/", body, format="json").status_code in (401, 403)


def test_the_patroller_claims_and_resolves_with_a_block_and_the_status_page_follows(public, live, patroller):
    public.post("/report/", form(live))
    report = PublicReport.objects.get()
    staff = Client()
    staff.force_login(patroller)
    queue = staff.get("/reports/")
    assert queue.status_code == 200 and report.receipt in queue.content.decode()
    assert "138****8000" in staff.get(f"/reports/{report.pk}/").content.decode()
    assert "13800138000" not in staff.get(f"/reports/{report.pk}/").content.decode()
    assert staff.post(f"/reports/{report.pk}/claim").status_code == 302
    assert (
        "being handled" in public.get(f"/report/{report.receipt}/", HTTP_ACCEPT_LANGUAGE="en").content.decode().lower()
    )
    resolved = staff.post(
        f"/reports/{report.pk}/resolve", {"measure": "block", "reason": "pornography", "note": "属实"}
    )
    assert resolved.status_code == 302
    report.refresh_from_db()
    assert report.status == "resolved" and report.action.kind == ModerationAction.Kind.BLOCK
    status = public.get(f"/report/{report.receipt}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "measures taken" in status.lower()


def test_a_dismissal_without_a_reason_is_refused(public, live, patroller):
    public.post("/report/", form(live))
    report = PublicReport.objects.get()
    staff = Client()
    staff.force_login(patroller)
    assert staff.post(f"/reports/{report.pk}/dismiss", {"note": ""}).status_code == 400
    report.refresh_from_db()
    assert report.status == "open"


def test_the_inspector_reads_but_does_not_handle(public, live, inspector):
    public.post("/report/", form(live))
    report = PublicReport.objects.get()
    staff = Client()
    staff.force_login(inspector)
    assert staff.get("/reports/").status_code == 200
    assert staff.post(f"/reports/{report.pk}/claim").status_code == 403
    assert Client().get("/reports/").status_code == 302  # to the login page


def test_report_images_are_served_to_staff_as_images_only(public, live, patroller):
    public.post("/report/", form(live) | {"images": [SimpleUploadedFile("a.png", png_bytes())]})
    image = PublicReport.objects.get().images.get()
    assert public.get(f"/reports/images/{image.pk}").status_code == 302
    staff = Client()
    staff.force_login(patroller)
    served = staff.get(f"/reports/images/{image.pk}")
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff" and "sandbox" in served["Content-Security-Policy"]
    assert served["Content-Disposition"].startswith("inline;")


def test_the_stream_page_lists_its_reports(public, live, patroller):
    public.post("/report/", form(live))
    report = PublicReport.objects.get()
    staff = Client()
    staff.force_login(patroller)
    assert report.receipt in staff.get(f"/streams/{live.pk}/").content.decode()
