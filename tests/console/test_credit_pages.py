"""The credit pages: publisher page (masked identity, chart, events), policy view/edit, adjustments, appeals."""

from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import pytest

from accounts.roles import Role
from moderation import actions, credit_policy
from moderation.models import Appeal, CreditEvent, CreditPolicy, Publisher
from tests.conftest import _staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_admin(db):
    return _staff("admin2", Role.COMPLIANCE_ADMIN, "合规管理员小钱")


def page_as(client, user, url, **kwargs):
    client.force_login(user)
    return client.get(url, **kwargs)


def test_publisher_page_masks_identity_and_shows_credit_chart_and_events(client, publisher, admin, patroller):
    for points in (-12, -20, 7):
        actions.adjust_credit(publisher, actor=admin, points=points, reason=f"核实理由{points}")
    response = page_as(client, patroller, reverse("console:publisher", args=[publisher.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "110105********1234" in html and "110105199001011234" not in html
    assert "+86138****8000" in html and "13800138000" not in html
    assert "王**" in html and "王小明" not in html
    assert re.search(r'id="credit-score">75<', html)
    polyline = re.search(r'<polyline points="([^"]+)"', html).group(1)
    assert len(polyline.split()) == 2 + 2 * 3  # start, a step per event, now
    assert html.count('class="chart-dot down"') == 2 and html.count('class="chart-dot"') == 1
    assert html.count("核实理由") == 3
    assert 'id="credit-adjust"' not in html  # a patroller sees the credit, cannot adjust it


def test_publisher_page_queries_do_not_grow_with_events(client, publisher, admin, inspector):
    client.force_login(inspector)
    url = reverse("console:publisher", args=[publisher.pk])
    actions.adjust_credit(publisher, actor=admin, points=-1, reason="a")
    credit_policy.current_policy()
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for number in range(15):
        actions.adjust_credit(publisher, actor=admin, points=-1, reason=f"b{number}")
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_unknown_publisher_is_404(client, patroller):
    assert page_as(client, patroller, reverse("console:publisher", args=[999])).status_code == 404


def test_an_admin_adjusts_credit_with_a_reason_on_the_page(client, publisher, admin):
    client.force_login(admin)
    url = reverse("console:publisher-adjust", args=[publisher.pk])
    response = client.post(url, {"points": "-30", "reason": ""})
    assert response.status_code == 400 and not CreditEvent.objects.exists()
    response = client.post(url, {"points": "0", "reason": "x"})
    assert response.status_code == 400 and not CreditEvent.objects.exists()
    response = client.post(url, {"points": "-30", "reason": "多次违规"})
    assert response.status_code == 302
    assert Publisher.objects.get(pk=publisher.pk).credit_level == "C"


def test_only_an_admin_posts_an_adjustment(client, publisher, patroller, inspector):
    for user in (patroller, inspector):
        client.force_login(user)
        response = client.post(
            reverse("console:publisher-adjust", args=[publisher.pk]), {"points": "-5", "reason": "x"}
        )
        assert response.status_code == 403
    assert not CreditEvent.objects.exists()


def test_policy_page_roles(client, admin, inspector, patroller, entertainment):
    url = reverse("console:credit-policy")
    assert page_as(client, patroller, url).status_code == 403
    inspector_page = page_as(client, inspector, url)
    assert (
        inspector_page.status_code == 200
        and reverse("console:credit-policy-edit") not in inspector_page.content.decode()
    )
    assert page_as(client, inspector, reverse("console:credit-policy-edit")).status_code == 403
    admin_page = page_as(client, admin, url).content.decode()
    assert reverse("console:credit-policy-edit") in admin_page
    assert admin_page.count('<th scope="row">') == 5  # the default levels A–E


def test_the_policy_names_categories_not_slugs(client, inspector, entertainment):
    actions.create_category("games", name="游戏")
    page = page_as(client, inspector, reverse("console:credit-policy")).content.decode()
    table = page.split('id="policy-level-table"', 1)[1].split("</table>", 1)[0]
    assert "娱乐" in table and "游戏" in table and "entertainment" not in table and "games" not in table
    assert "outdoors" in table  # a slug with no category yet shows as stored


def edit_form(current=credit_policy.DEFAULT_POLICY, **changes) -> dict:
    data = {
        "score_min": current.score_min,
        "score_max": current.score_max,
        "earn_back_points_per_hour": 1,
        "earn_back_nightly_cap": 5,
        "note": "",
        "levels-TOTAL_FORMS": str(len(current.levels) + 1),
        "levels-INITIAL_FORMS": str(len(current.levels)),
        "levels-MIN_NUM_FORMS": "0",
        "levels-MAX_NUM_FORMS": "12",
    }
    for kind in ("warn", "block", "suspend", "close", "escalate"):
        data[f"cost_{kind}"] = current.cost_of(kind)
    for index, level in enumerate(current.levels):
        prefix = f"levels-{index}-"
        data[prefix + "code"] = level.code
        data[prefix + "name"] = level.name
        data[prefix + "min_score"] = level.min_score
        if level.may_broadcast:
            data[prefix + "may_broadcast"] = "on"
        data[prefix + "allowed_categories"] = sorted(level.allowed_categories)
        if level.requires_pre_review:
            data[prefix + "requires_pre_review"] = "on"
        data[prefix + "patrol_weight"] = level.patrol_weight
        data[prefix + "snapshot_interval_seconds"] = level.snapshot_interval_seconds or ""
        data[prefix + "audience_cap"] = "" if level.audience_cap is None else level.audience_cap
    data.update(changes)
    return data


def test_an_admin_publishes_a_new_version_from_the_form(
    client, admin, publisher, agreement, django_capture_on_commit_callbacks
):
    for slug in ("entertainment", "games", "education", "outdoors"):
        actions.create_category(slug, name=slug)
    actions.adjust_credit(publisher, actor=admin, points=-8, reason="违规")  # 92: A
    client.force_login(admin)
    url = reverse("console:credit-policy-edit")
    page = client.get(url).content.decode()
    assert page.index('name="note"') < page.index('name="score_min"')  # the required reason comes first
    form = edit_form(**{"cost_warn": "8", "levels-0-min_score": "95", "note": "收紧"})

    check = client.post(url, form)  # first the check: how many publishers change level; nothing stored

    assert check.status_code == 200 and not CreditPolicy.objects.exists()
    assert "等级将发生变化的主播：1 名" in check.content.decode() and "A → B: 1" in check.content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # the publishing process forgets its copy on commit
        response = client.post(url, {**form, "publish": "1"})
    assert response.status_code == 302, response.content.decode()[:3000]
    policy = CreditPolicy.objects.get()
    assert policy.version == 1 and policy.action_costs["warn"] == 8 and policy.note == "收紧"
    assert sorted(policy.levels.values_list("code", flat=True)) == ["A", "B", "C", "D", "E"]
    assert credit_policy.current_policy().version == 1
    assert Publisher.objects.get(pk=publisher.pk).credit_level == "A"  # the request did not recompute
    actions.recompute_credit_levels(version=policy.version)  # what the queued task runs in the worker
    assert Publisher.objects.get(pk=publisher.pk).credit_level == "B"  # 92 is below A's new threshold


@pytest.mark.parametrize(
    "changes",
    [
        {"levels-1-code": "A"},  # duplicate code
        {"levels-1-min_score": "90"},  # duplicate threshold
        {"levels-0-code": "a!"},
        {"score_min": "100", "score_max": "0"},
        {"cost_block": "-1"},
        {"levels-4-min_score": "10"},  # nothing covers the lowest scores
        {"levels-0-DELETE": "on", "levels-1-DELETE": "on", "levels-2-DELETE": "on", "levels-3-DELETE": "on",
         "levels-4-DELETE": "on"},
    ],
)  # fmt: skip
def test_a_bad_policy_form_is_400_and_writes_nothing(client, admin, changes):
    for slug in ("entertainment", "games", "education", "outdoors"):
        actions.create_category(slug, name=slug)
    client.force_login(admin)
    for step in ({}, {"publish": "1"}):
        response = client.post(reverse("console:credit-policy-edit"), {**edit_form(note="x", **changes), **step})
        assert response.status_code == 400
    assert not CreditPolicy.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"levels-1-min_score": "90"}, "levels-1-min_score", "每个等级的起始分不能相同。"),
        ({"levels-1-code": "A"}, "levels-1-code", "等级代码不能重复。"),
        ({"score_min": "100", "score_max": "0"}, "score_max", "最低分必须低于最高分。"),
        ({"note": ""}, "note", "请说明修改内容及原因"),
        ({"cost_block": "-1"}, "cost_block", "确保该值大于或等于0。"),
        ({"levels-4-min_score": "10"}, "levels-4-min_score", "最低等级必须从最低分开始。"),
    ],
)
def test_policy_errors_stand_next_to_their_field_in_chinese(client, admin, changes, field, text):
    for slug in ("entertainment", "games", "education", "outdoors"):
        actions.create_category(slug, name=slug)
    client.force_login(admin)
    body = client.post(reverse("console:credit-policy-edit"), edit_form(**{"note": "x", **changes})).content.decode()
    field_at = body.index(f'name="{field}"')
    error_at = body.index(text)
    next_field = body.find("<label", field_at)
    assert field_at < error_at and (next_field == -1 or error_at < next_field), "the error is not beside its field"
    assert "must" not in body and "Ensure this value" not in body


# --- appeals ----------------------------------------------------------------------------------


@pytest.fixture
def appeal(publisher, admin):
    event = actions.adjust_credit(publisher, actor=admin, points=-20, reason="违规")
    return actions.submit_appeal(
        kind="credit_event",
        target_id=event.pk,
        publisher_account_id=publisher.platform_account_id,
        statement="请复核",
        submitted_by=None,
    )


def test_appeals_queue_and_page_roles(client, appeal, admin, inspector, patroller):
    assert page_as(client, patroller, reverse("console:appeals")).status_code == 403
    listing = page_as(client, inspector, reverse("console:appeals"))
    assert listing.status_code == 200 and reverse("console:appeal", args=[appeal.pk]) in listing.content.decode()
    detail = page_as(client, inspector, reverse("console:appeal", args=[appeal.pk]))
    assert detail.status_code == 200 and 'name="decision"' not in detail.content.decode()
    response = client.post(reverse("console:appeal", args=[appeal.pk]), {"decision": "uphold", "note": "x"})
    assert response.status_code == 403 and Appeal.objects.get().status == "pending"


def test_appeals_page_fifty_at_a_time_and_every_one_is_reachable(client, publisher, admin, inspector):
    submitted = []
    for number in range(53):
        event = actions.adjust_credit(publisher, actor=admin, points=-1, reason=f"扣分{number}")
        submitted.append(
            actions.submit_appeal(
                kind="credit_event", target_id=event.pk, publisher_account_id=publisher.platform_account_id,
                statement="请复核", submitted_by=None,
            ).pk
        )  # fmt: skip
    first = page_as(client, inspector, reverse("console:appeals")).content.decode()
    row = re.compile(r'href="/appeals/(\d+)/"')
    assert len(row.findall(first)) == 50 and "第 1 页，共 2 页" in first
    second = page_as(client, inspector, reverse("console:appeals"), data={"page": "2"}).content.decode()
    assert len(row.findall(second)) == 3
    listed = set(row.findall(first + second))
    assert listed == {str(pk) for pk in submitted}
    for page in ["x", "-1", "999"]:  # any page asked for is a page, never an error
        assert page_as(client, inspector, reverse("console:appeals"), data={"page": page}).status_code == 200


def test_the_admin_who_acted_is_refused_on_the_page(client, appeal, admin):
    client.force_login(admin)
    page = client.get(reverse("console:appeal", args=[appeal.pk])).content.decode()
    assert 'name="decision"' in page and 'role="alert"' in page
    response = client.post(reverse("console:appeal", args=[appeal.pk]), {"decision": "uphold", "note": "自己"})
    assert response.status_code == 400 and Appeal.objects.get().status == "pending"


def test_another_admin_upholds_on_the_page(client, appeal, second_admin, publisher):
    client.force_login(second_admin)
    url = reverse("console:appeal", args=[appeal.pk])
    assert client.post(url, {"decision": "uphold", "note": ""}).status_code == 400
    assert client.post(url, {"decision": "maybe", "note": "x"}).status_code == 400
    assert Appeal.objects.get().status == "pending"
    assert client.post(url, {"decision": "uphold", "note": "核实无误"}).status_code == 302
    assert Appeal.objects.get().status == "upheld"
    assert Publisher.objects.get(pk=publisher.pk).credit_score == 100
    again = client.post(url, {"decision": "dismiss", "note": "改判"})
    assert again.status_code == 400 and Appeal.objects.get().status == "upheld"
