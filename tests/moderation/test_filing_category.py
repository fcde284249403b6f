"""分类备案: the category a publisher is filed under, set by the platform's API or a compliance admin, then filed."""

from __future__ import annotations

import csv
import io

from django.urls import reverse
from django.utils import timezone

import pytest

from accounts.models import StaffActionLog
from moderation import actions
from moderation.models import Publisher
from tests.conftest import make_publisher
from tests.moderation.test_api import error_of, platform, staff_client  # noqa: F401
from tests.moderation.test_filing import verify

pytestmark = pytest.mark.django_db


def filed_rows(admin) -> list[list[str]]:
    today = timezone.localdate()
    export = actions.export_filing(actor=admin, period_start=today, period_end=today)
    return list(csv.reader(io.StringIO(export.csv_file.read().decode("utf-8-sig"))))[1:]


def set_category(client, account: str, category: str):
    return client.post(reverse("api-publisher-filing-category", args=[account]), {"category": category}, format="json")


def test_the_platform_files_a_publisher_under_a_new_category_and_the_next_export_carries_it(
    agreement,
    admin,
    platform,  # noqa: F811
):
    publisher = make_publisher("acct-6001", "主播甲", verified=False)
    verify(publisher, "k-6001")
    assert [row[2] for row in filed_rows(admin)] == ["个人主播"]
    assert Publisher.objects.get(pk=publisher.pk).filing == Publisher.Filing.FILED

    answer = set_category(platform, "acct-6001", "performance")
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert (body["filing_category"], body["filing"]) == ("performance", "not_filed")  # to be filed again
    assert [row[:3] for row in filed_rows(admin)] == [["acct-6001", "主播甲", "演出及视听节目类"]]
    publisher = Publisher.objects.get(pk=publisher.pk)
    assert (publisher.filing_category, publisher.filing) == ("performance", Publisher.Filing.FILED)
    log = StaffActionLog.objects.get(verb="publisher.filing_category")
    assert log.data == {"category": "performance", "previous": "person"}
    # The same category again changes nothing.
    assert set_category(platform, "acct-6001", "performance").json()["filing"] == "filed"
    assert StaffActionLog.objects.filter(verb="publisher.filing_category").count() == 1
    assert staff_client(admin).get(reverse("api-publisher", args=[publisher.pk])).json()["filing_category"] == (
        "performance"
    )


def test_bad_categories_and_unknown_publishers_are_4xx_and_change_nothing(agreement, platform):  # noqa: F811
    make_publisher("acct-6002", "主播乙")
    for category in ("music", "", "NEWS"):
        answer = set_category(platform, "acct-6002", category)
        assert answer.status_code == 400 and error_of(answer)["code"] == "invalid"
    assert set_category(platform, "acct-9999", "news").status_code == 404
    assert Publisher.objects.get(platform_account_id="acct-6002").filing_category == "person"
    assert not StaffActionLog.objects.filter(verb="publisher.filing_category").exists()


def test_only_the_platform_and_compliance_admins_set_it(agreement, patroller, inspector):
    make_publisher("acct-6003", "主播丙")
    for user in (patroller, inspector):
        assert set_category(staff_client(user), "acct-6003", "news").status_code == 403
        with pytest.raises(actions.ModerationError):
            actions.set_filing_category(
                Publisher.objects.get(platform_account_id="acct-6003"), category="news", actor=user
            )
    assert Publisher.objects.get(platform_account_id="acct-6003").filing_category == "person"


def test_a_compliance_admin_corrects_it_on_the_publisher_page(agreement, admin, patroller, client):
    publisher = make_publisher("acct-6004", "主播丁")
    client.force_login(admin)
    page = client.get(reverse("console:publisher", args=[publisher.pk])).content.decode()
    assert 'id="filing-category-form"' in page and "个人主播" in page
    url = reverse("console:publisher-filing-category", args=[publisher.pk])
    assert client.post(url, {"category": "news"}).status_code == 302
    assert Publisher.objects.get(pk=publisher.pk).filing_category == "news"
    answer = client.post(url, {"category": "galaxy"}, follow=True)
    assert "请选择一个备案类别" in answer.content.decode()
    assert Publisher.objects.get(pk=publisher.pk).filing_category == "news"

    client.force_login(patroller)
    assert (
        'id="filing-category-form"'
        not in client.get(reverse("console:publisher", args=[publisher.pk])).content.decode()
    )
    assert client.post(url, {"category": "person"}).status_code == 403
    assert Publisher.objects.get(pk=publisher.pk).filing_category == "news"
