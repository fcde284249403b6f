"""The news pages: the review queue, an application with licences and history, decisions, licences."""

from __future__ import annotations

import pytest

from moderation.models import NewsApplication, PlatformLicence, PublisherLicence
from tests.news_world import apply_for, approve, days

pytestmark = pytest.mark.django_db


def test_the_queue_is_for_news_reviewers_and_the_editor(client, news_key, editor_in_chief, news_reviewer, patroller):
    application = apply_for(news_key)
    client.force_login(editor_in_chief)
    page = client.get("/news/")
    assert page.status_code == 200
    body = page.content.decode()
    assert application.title in body and "财经观察" in body and 'data-key="a"' not in body  # keys come from config
    assert '"kind": "approve"' in body
    client.force_login(news_reviewer)
    reviewer_body = client.get("/news/").content.decode()
    assert '"kind": "recommend"' in reviewer_body and '"kind": "approve"' not in reviewer_body
    client.force_login(patroller)
    assert client.get("/news/").status_code == 403


def test_the_application_page_shows_licences_credit_and_history(client, news_key, platform_licence, editor_in_chief):
    earlier = apply_for(news_key, title="上周的早报")
    application = apply_for(news_key, origin="reposted", sources=[("新华社", "https://www.news.cn/1.html")])
    client.force_login(editor_in_chief)
    body = client.get(f"/news/applications/{application.pk}/").content.decode()
    for expected in ("京新许-A-0099", "京网新许字-0001", "https://www.news.cn/1.html", "上周的早报", 'value="approve"'):
        assert expected in body, expected
    assert earlier.pk != application.pk


def test_the_editor_approves_from_the_page(client, news_key, platform_licence, editor_in_chief):
    application = apply_for(news_key)
    client.force_login(editor_in_chief)
    response = client.post(f"/news/applications/{application.pk}/", {"decision": "approve", "note": "同意"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == NewsApplication.Status.APPROVED


def test_a_second_decision_gets_a_form_error_and_changes_nothing(client, news_key, platform_licence, editor_in_chief):
    application = apply_for(news_key)
    approve(application, editor_in_chief)
    client.force_login(editor_in_chief)
    response = client.post(f"/news/applications/{application.pk}/", {"decision": "reject", "note": "晚了"})
    assert response.status_code == 400
    assert "form-error" in response.content.decode()
    application.refresh_from_db()
    assert application.status == NewsApplication.Status.APPROVED and application.decisions.count() == 2


def test_a_reviewer_cannot_approve_from_the_page(client, news_key, platform_licence, news_reviewer):
    application = apply_for(news_key)
    client.force_login(news_reviewer)
    response = client.post(f"/news/applications/{application.pk}/", {"decision": "approve"})
    assert response.status_code == 400 and "form-error" in response.content.decode()
    application.refresh_from_db()
    assert application.status == NewsApplication.Status.SUBMITTED


def test_the_compliance_admin_records_the_platform_licence(client, admin):
    client.force_login(admin)
    bad = client.post(
        "/news/licences/",
        {
            "form": "platform",
            "number": "京网新许字-9",
            "scopes": ["platform"],
            "valid_from": "2026-05-01",
            "valid_until": "2026-04-01",
        },
    )
    assert bad.status_code == 400 and not PlatformLicence.objects.exists()
    good = client.post(
        "/news/licences/",
        {
            "form": "platform",
            "number": "京网新许字-9",
            "scopes": ["platform", "reposting"],
            "valid_from": "2026-01-01",
            "valid_until": "2029-01-01",
        },
    )
    assert good.status_code == 302
    assert PlatformLicence.objects.get().scopes == ["platform", "reposting"]


def test_the_compliance_admin_verifies_a_publisher_licence(client, admin, news_publisher, editor_in_chief):
    from moderation import actions

    licence = actions.submit_publisher_licence(
        news_publisher, number="NEW-2", scopes=["reposting"], valid_from=days(0), valid_until=days(9), actor=None
    )
    client.force_login(editor_in_chief)
    assert client.post("/news/licences/", {"form": "verify", "licence": licence.pk, "verified": "1"}).status_code == 403
    client.force_login(admin)
    assert client.post("/news/licences/", {"form": "verify", "licence": licence.pk, "verified": "1"}).status_code == 302
    licence.refresh_from_db()
    assert (licence.verification, licence.verified_by) == (PublisherLicence.Verification.VERIFIED, admin)


def test_the_compliance_admin_withdraws_the_platform_licence_with_a_note(client, admin, platform_licence):
    client.force_login(admin)
    page = client.get("/news/licences/")
    assert "京网新许字-0001" in page.content.decode()
    no_note = client.post("/news/licences/", {"form": "withdraw", "licence": platform_licence.pk, "note": ""})
    assert no_note.status_code == 400
    assert client.post("/news/licences/", {"form": "withdraw", "licence": "x1", "note": "n"}).status_code == 404
    platform_licence.refresh_from_db()
    assert platform_licence.withdrawn_at is None
    done = client.post("/news/licences/", {"form": "withdraw", "licence": platform_licence.pk, "note": "许可证注销"})
    assert done.status_code == 302
    platform_licence.refresh_from_db()
    assert platform_licence.withdrawn_at is not None


def test_compliance_admins_see_a_badge_for_licences_expiring_soon(client, admin, news_publisher):
    from moderation import actions

    client.force_login(admin)
    assert "alert-count" not in client.get("/news/licences/").content.decode()
    actions.record_platform_licence(
        "P-SOON", scopes=["platform"], valid_from=days(-9), valid_until=days(10), actor=admin
    )
    body = client.get("/news/licences/").content.decode()
    assert 'class="count alert-count"' in body and 'class="expiring"' in body


def test_approvals_not_yet_over_stay_in_the_queue_for_revocation(client, news_key, platform_licence, editor_in_chief):
    from datetime import timedelta

    from django.utils import timezone

    current = approve(apply_for(news_key, title="直播中的早报"), editor_in_chief)
    over = approve(apply_for(news_key, title="已结束的早报"), editor_in_chief)
    NewsApplication.objects.filter(pk=over.pk).update(window_end=timezone.now() - timedelta(minutes=1))
    client.force_login(editor_in_chief)
    body = client.get("/news/").content.decode()
    assert f'id="application-{current.pk}"' in body and f'id="application-{over.pk}"' not in body
    assert 'id="news-count">0<' in body
