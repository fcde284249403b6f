"""The compliance dashboard: charts of the last 24 hours from the records, the day's report, mailed by beat."""

from __future__ import annotations

import io
from datetime import timedelta

from django.core import mail
from django.utils import timezone, translation

import pytest
from pypdf import PdfReader

from moderation import actions
from moderation.audit_catalogue import audit_spec
from moderation.models import GateDecision, ModerationAction, ReasonCode
from moderation.tasks.audits import run_audit
from moderation.tasks.compliance import mail_compliance_report


@pytest.fixture
def day_of_records(stream_key, nginx_node, patroller):
    stream = actions.open_stream(
        stream_key, published_name=stream_key.issued_key,
        node=nginx_node, app="live", client_id="1", addr="", title="深夜食堂直播",
        at=timezone.now() - timedelta(minutes=30),
    )  # fmt: skip
    actions.record_gate_decision(
        hook=GateDecision.Hook.PUBLISH, allowed=False, reason=GateDecision.Reason.BLACKLISTED,
        node=nginx_node, key_name="k-x", client_id="9", addr="",
    )  # fmt: skip
    action = actions.block_stream(stream, actor=patroller, reason=ReasonCode.PORNOGRAPHY, request_id="b-dash")
    # The node confirmed the cut 180 ms after the click (port 9 of nginx_node answers nothing here).
    ModerationAction.objects.filter(pk=action.pk).update(
        media_status=ModerationAction.MediaStatus.CONFIRMED, media_confirmed_at=action.at + timedelta(milliseconds=180)
    )
    run_audit.apply(args=["staffing"]).get()  # nobody on duty while a stream was live: a finding
    return stream


@pytest.mark.django_db
def test_the_dashboard_charts_the_last_24_hours(client, inspector, day_of_records):
    client.force_login(inspector)
    page = client.get("/dashboard/")
    assert page.status_code == 200
    body = page.content.decode()
    assert body.count("<svg") == 4
    with translation.override("zh-hans"):
        block = str(ModerationAction.Kind.BLOCK.label)  # the console's one name for the cut
    for expected in ("娱乐 · T3", f">{block}<", "黑名单", "180 / 180 ms", "1 条已确认的断流"):
        assert expected in body, expected


@pytest.mark.django_db
def test_the_days_report_is_a_page_and_a_file(client, admin, day_of_records):
    client.force_login(admin)
    today = timezone.localdate().isoformat()
    page = client.get(f"/dashboard/report/?day={today}")
    assert page.status_code == 200 and "180 ms" in page.content.decode()
    download = client.get(f"/dashboard/report/?day={today}&download=1")
    assert download["Content-Disposition"] == f'attachment; filename="liveward-compliance-{today}.html"'
    assert b"<!doctype html>" in download.content
    for bad in ("yesterday", "2026-13-01", (timezone.localdate() + timedelta(days=2)).isoformat()):
        assert client.get(f"/dashboard/report/?day={bad}").status_code == 400


def pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.mark.django_db
def test_the_days_report_is_a_pdf_in_chinese(client, admin, day_of_records):
    client.force_login(admin)
    today = timezone.localdate().isoformat()
    page = client.get(f"/dashboard/report/?day={today}")
    assert f"?day={today}&amp;format=pdf" in page.content.decode()
    response = client.get(f"/dashboard/report/?day={today}&format=pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="liveward-compliance-{today}.pdf"'
    text = pdf_text(response.content)
    with translation.override("zh-hans"):
        block = str(ModerationAction.Kind.BLOCK.label)
        blacklisted = str(GateDecision.Reason.BLACKLISTED.label)
        staffing = str(audit_spec("staffing").label)
    for expected in (f"{today} 合规日报", "180 ms / 180 ms", "1 条已确认的断流", block, blacklisted, staffing, "严重"):
        assert expected in text, expected
    assert client.get("/dashboard/report/?day=2026-13-01&format=pdf").status_code == 400


@pytest.mark.django_db
def test_without_its_font_the_pdf_is_refused_and_the_mail_goes_without_it(client, admin, day_of_records, settings):
    settings.LIVEWARD_REPORT_FONT = "/nonexistent/font.ttc"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client.force_login(admin)
    response = client.get("/dashboard/report/?format=pdf")
    assert response.status_code == 503 and "无法生成 PDF" in response.content.decode()
    admin.email = "zhao@example.cn"
    admin.save(update_fields=["email"])
    assert mail_compliance_report.apply().get() == 1
    (message,) = mail.outbox
    assert not message.attachments and "<!doctype html>" in message.alternatives[0][0]


@pytest.mark.django_db
def test_beat_mails_the_report_to_compliance_admins(admin, patroller, day_of_records, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    admin.email, patroller.email = "zhao@example.cn", "wang@example.cn"
    admin.save(update_fields=["email"])
    patroller.save(update_fields=["email"])
    assert mail_compliance_report.apply().get() == 1
    (message,) = mail.outbox
    assert message.to == ["zhao@example.cn"] and "合规" in message.subject
    html = message.alternatives[0][0]
    assert "<!doctype html>" in html
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    ((name, content, mimetype),) = message.attachments
    assert name == f"liveward-compliance-{yesterday}.pdf" and mimetype == "application/pdf"
    assert f"{yesterday} 合规日报" in pdf_text(content)


@pytest.mark.django_db
def test_no_compliance_admin_with_an_address_means_no_mail(admin, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert mail_compliance_report.apply().get() == 0 and not mail.outbox
