"""The public report page, its status page, the platform app's report API and the staff's report queue."""

from __future__ import annotations

import base64
import hashlib
import re
import time

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

import pytest
from rest_framework.test import APIClient

from accounts.actions import create_machine_client
from accounts.roles import MACHINE_PLATFORM
from moderation import report_proof
from moderation.models import ModerationAction, PublicReport
from tests.moderation.test_reports import open_live, png_bytes, proof

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(stream_key, nginx_node):
    return open_live(stream_key, nginx_node)


@pytest.fixture
def public(clear_cache):
    return Client(REMOTE_ADDR="203.0.113.7")


def form(stream, **overrides) -> dict:
    return (
        {
            "target_kind": "stream",
            "target": str(stream.pk),
            "category": "pornography",
            "description": "主播有不雅行为",
            "contact": "13800138000",
        }
        | proof()
        | overrides
    )


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


def _solved_at(now: float, bits: int) -> dict:
    given = report_proof.new_challenge(now=now, bits=bits)
    return {"proof_challenge": given["challenge"], "proof_nonce": report_proof.solve(given["challenge"], bits)}


def test_the_page_gets_a_signed_challenge_and_nothing_is_stored_for_it(public):
    answer = public.get("/report/challenge")
    assert answer.status_code == 200 and answer["Cache-Control"].startswith("max-age=0")
    given = answer.json()
    assert given["bits"] == settings.LIVEWARD_REPORT_PROOF_BITS and given["challenge"].startswith("v1.")
    assert public.post("/report/challenge").status_code == 405
    assert public.get("/report/challenge").json()["challenge"] != given["challenge"]


def _not_a_solution(challenge: str, bits: int) -> str:
    n = 0
    while report_proof.leading_zero_bits(hashlib.sha256(f"{challenge}:{n}".encode()).digest()) >= bits:
        n += 1
    return str(n)


def _refusal(answer) -> str:
    """The form's error box (the page also says in a noscript element that it needs JavaScript)."""
    found = re.search(r'<div class="form-error" role="alert">(.*?)</div>', answer.content.decode(), re.S)
    return found.group(1) if found else ""


def test_a_missing_stale_replayed_or_wrong_proof_is_refused_and_nothing_is_stored(public, live, settings):
    settings.LIVEWARD_REPORT_PROOF_BITS = 8
    bare = {key: value for key, value in form(live).items() if not key.startswith("proof_")}
    missing = public.post("/report/", bare)
    assert missing.status_code == 400 and "JavaScript" in _refusal(missing)
    assert public.post("/report/", bare | {"proof_challenge": "", "proof_nonce": ""}).status_code == 400

    stale = public.post(
        "/report/", form(live) | _solved_at(time.time() - settings.LIVEWARD_REPORT_PROOF_SECONDS - 1, 8)
    )
    assert stale.status_code == 400 and "过期" in _refusal(stale)
    assert public.post("/report/", form(live) | _solved_at(time.time() + 60, 8)).status_code == 400  # from the future

    good = form(live)
    challenge = good["proof_challenge"]
    wrong = public.post("/report/", good | {"proof_nonce": _not_a_solution(challenge, 8)})
    assert wrong.status_code == 400 and "没有通过" in _refusal(wrong)
    forged = challenge[:-1] + ("0" if challenge[-1] != "0" else "1")  # the signature changed
    assert public.post("/report/", good | {"proof_challenge": forged}).status_code == 400
    unsigned = challenge.replace(".8.", ".9.", 1)  # a harder claim, but not what we signed
    assert public.post("/report/", good | {"proof_challenge": unsigned}).status_code == 400
    easier = _solved_at(time.time(), 4)  # signed by us and solved, but easier than the setting asks now
    assert public.post("/report/", form(live) | easier).status_code == 400
    for nonce in ("<script>", "-1", "1" * 21, "１２"):
        assert public.post("/report/", good | {"proof_nonce": nonce}).status_code == 400
    assert not PublicReport.objects.exists()

    assert public.post("/report/", good).status_code == 302
    replayed = public.post("/report/", good)
    assert replayed.status_code == 400 and "已被使用" in _refusal(replayed)
    assert PublicReport.objects.count() == 1
    assert public.post("/report/", form(live)).status_code == 302  # a new challenge goes through


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


def test_binary_bodies_and_control_characters_get_a_clear_400_and_nothing_is_stored(public, live, platform):
    noise = bytes(range(256)) * 64
    assert public.post("/report/", noise, content_type="application/octet-stream").status_code == 400
    assert public.post("/report/", noise, content_type="multipart/form-data; boundary=x").status_code == 400
    assert public.post("/report/", form(live, description="主播\x00\x07有不雅行为")).status_code == 400
    assert public.post("/report/", form(live, target="12\x003")).status_code == 400
    assert platform.post("/api/v1/reports/", noise, content_type="application/json").status_code == 400
    assert platform.post("/api/v1/reports/", noise, content_type="application/octet-stream").status_code in (400, 415)
    assert not PublicReport.objects.exists()
