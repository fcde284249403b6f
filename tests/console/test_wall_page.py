"""The patrol wall page and the stream page, through Django's test client."""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.contrib.staticfiles.views import serve
from django.db import connection
from django.test.utils import CaptureQueriesContext

import pytest

from moderation import actions
from moderation.models import Evidence, GateDecision, ModerationAction, ReasonCode, Snapshot, Stream
from tests.conftest import PASSWORD
from tests.console.test_pages import publish
from tests.second_factor import enrolled_authenticator, next_code

pytestmark = pytest.mark.django_db

STAFF = ["patroller", "news_reviewer", "editor_in_chief", "admin", "inspector"]


def wall_config(body: str) -> dict:
    match = re.search(r'<script id="wall-config" type="application/json">(.*?)</script>', body, re.S)
    assert match, "the wall's configuration block is missing"
    return json.loads(match.group(1))


@pytest.mark.parametrize("persona", STAFF)
def test_the_wall_renders_for_every_staff_role(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "巡查墙" in body and 'id="wall"' in body
    assert "/static/js/wall/main.js" in body and "/static/css/wall.css" in body
    assert "/static/js/socket.js" in body  # the one socket, with its heartbeat, shared by the wall's modules
    assert "/static/js/console.js" not in body  # the list refresher of other pages is not loaded here
    assert 'id="live-indicator"' in body


def test_an_outsider_gets_403_and_anonymous_goes_to_login(client, outsider):
    assert client.get("/").status_code == 302
    assert client.get("/").url.startswith("/accounts/login/")
    client.force_login(outsider)
    assert client.get("/").status_code == 403


def test_the_wall_offers_the_reason_codes_in_chinese_without_the_patrol_reason(client, patroller):
    client.force_login(patroller)
    body = client.get("/").content.decode()
    reasons = wall_config(body)["reasons"]
    assert [r["value"] for r in reasons] == [v for v in ReasonCode.values if v != ReasonCode.PATROLLED]
    for reason in reasons:
        assert re.search(r"[\u4e00-\u9fff]", reason["label"]), reason
        assert f'data-reason="{reason["value"]}"' in body  # the picker lists each one


def test_the_key_help_lists_the_keys(client, patroller):
    client.force_login(patroller)
    body = client.get("/").content.decode()
    assert 'id="key-help"' in body and "键盘" in body
    for key in ["j", "k", "b", "w", "s", "p", "e", "Enter", "/", "?", "Esc"]:
        assert f"<kbd>{key}</kbd>" in body, key


def test_close_is_offered_to_compliance_admins_only(client, patroller, admin, inspector):
    client.force_login(patroller)
    kinds = [a["kind"] for a in wall_config(client.get("/").content.decode())["actions"]]
    assert kinds == ["mark_patrolled", "warn", "block", "suspend", "escalate"]
    client.force_login(admin)
    kinds = [a["kind"] for a in wall_config(client.get("/").content.decode())["actions"]]
    assert "close" in kinds and "escalate" not in kinds
    client.force_login(inspector)
    assert wall_config(client.get("/").content.decode())["actions"] == []  # read-only


def test_the_scripts_texts_are_translated(client, patroller):
    client.force_login(patroller)
    strings = wall_config(client.get("/").content.decode())["strings"]
    assert strings["cut_pending"] == "断流中"
    assert strings["done_block"] == "已断流"
    assert strings["error_stream_ended"] and re.search(r"[\u4e00-\u9fff]", strings["error_stream_ended"])


def test_the_wall_filters_list_the_categories(client, patroller, entertainment, news):
    client.force_login(patroller)
    body = client.get("/").content.decode()
    assert '<option value="news">新闻</option>' in body and '<option value="entertainment">娱乐</option>' in body
    assert '<option value="1">1 级</option>' in body and '<option value="3">3 级</option>' in body


def test_the_wall_loads_as_a_module_after_the_shared_socket(client, patroller):
    client.force_login(patroller)
    body = client.get("/").content.decode()
    module = '<script type="module" src="/static/js/wall/main.js"></script>'
    assert module in body
    assert body.index("/static/js/socket.js") < body.index(module)  # LivewardSocket is defined first


def test_the_walls_modules_are_served_as_javascript_and_import_only_each_other(rf):
    """A module served as text/plain, or importing a file that is not there, leaves the wall empty."""
    directory = settings.BASE_DIR / "static" / "js" / "wall"
    modules = sorted(path.name for path in directory.glob("*.js"))
    assert "main.js" in modules
    for name in modules:
        response = serve(rf.get(f"/static/js/wall/{name}"), f"js/wall/{name}", insecure=True)
        assert response["Content-Type"].startswith("text/javascript"), (name, response["Content-Type"])
        source = (directory / name).read_text()
        for imported in re.findall(r'^import .* from "([^"]+)";$', source, re.M):
            assert imported.startswith("./") and imported[2:] in modules, (name, imported)


# --- the stream page ----------------------------------------------------------------------------


@pytest.fixture
def live_stream(client, nginx_node, stream_key):
    publish(client, stream_key.key, client_id="1", title="深夜食堂：今晚做红烧肉")
    return Stream.objects.get()


def add_history(stream: Stream, actor, *, snapshots: int, blocks: int) -> None:
    # Snapshots and actions have no write actions yet on this branch; these rows stand in for them.
    for number in range(snapshots):
        Snapshot.objects.create(stream=stream, sha256=f"{number:064x}", verdict_label="porn" if number == 0 else "")
    for number in range(blocks):
        action = ModerationAction.objects.create(
            actor=actor,
            kind=ModerationAction.Kind.WARN,
            stream=stream,
            publisher=stream.publisher,
            reason=ReasonCode.RUMOUR,
            note=f"第{number}次警告",
        )
        Evidence.objects.create(action=action, kind=Evidence.Kind.METADATA, content={}, sha256=f"{number:064x}")


def test_the_stream_page_shows_metadata_masked_identity_decisions_snapshots_and_evidence(
    client, patroller, live_stream
):
    add_history(live_stream, patroller, snapshots=2, blocks=1)
    client.force_login(patroller)
    response = client.get(f"/streams/{live_stream.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    for text in ["深夜食堂：今晚做红烧肉", "美食小当家", "娱乐", "edge-1", "3 级", "A"]:
        assert text in body, text
    assert "王**" in body and "110105********1234" in body and "+86138****8000" in body
    assert "王小明" not in body and "110105199001011234" not in body and "13800138000" not in body
    assert "第0次警告" in body and "0" * 64 in body  # the evidence digest
    assert body.count('<td><span class="allowed">') == 1  # the publish decision for its key
    assert body.count("<figure>") == 2 and "porn" in body


@pytest.mark.parametrize("persona", STAFF)
def test_the_stream_page_opens_for_every_staff_role(client, request, persona, live_stream):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(f"/streams/{live_stream.pk}/").status_code == 200


def test_the_stream_page_takes_the_same_queries_for_a_short_and_a_long_history(client, patroller, live_stream):
    client.force_login(patroller)
    add_history(live_stream, patroller, snapshots=1, blocks=1)
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"/streams/{live_stream.pk}/").status_code == 200
    add_history(live_stream, patroller, snapshots=30, blocks=12)
    for number in range(60):
        actions.record_gate_decision(
            hook=GateDecision.Hook.PUBLISH,
            node=live_stream.node,
            key_name=live_stream.key.key,
            stream_key_id=live_stream.key_id,
            publisher_id=live_stream.publisher_id,
            allowed=False,
            reason=GateDecision.Reason.KEY_COOLING_OFF,
            client_id=str(number),
        )
    with CaptureQueriesContext(connection) as many:
        body = client.get(f"/streams/{live_stream.pk}/").content.decode()
    assert body.count("<figure>") == 24  # the latest 24 snapshots
    assert body.count('<span class="denied">') == 50  # the latest 50 decisions, all denials since
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_an_unknown_stream_is_a_404_in_the_consoles_look(client, patroller):
    client.force_login(patroller)
    response = client.get("/streams/999999/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "页面不存在" in body and 'class="topbar"' in body


def test_the_stream_page_needs_a_staff_role(client, outsider, live_stream):
    assert client.get(f"/streams/{live_stream.pk}/").status_code == 302
    client.force_login(outsider)
    assert client.get(f"/streams/{live_stream.pk}/").status_code == 403


def test_logging_in_lands_on_the_wall(client, patroller):
    enrolled_authenticator(patroller)  # at an earlier login
    response = client.post("/accounts/login/", {"username": "patroller", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/two-factor/?next=%2F"  # the second step of the login
    response = client.post(response.redirect_chain[-1][0], {"code": next_code(patroller)}, follow=True)
    assert response.status_code == 200
    assert "巡查墙" in response.content.decode()


def test_the_stream_page_shows_its_comments_with_their_status(client, patroller, live_stream):
    actions.receive_comment(
        live_stream,
        external_id="page-1",
        viewer_id="viewer-7",
        text="主播好厉害",
        viewer_phone_verified=True,
        actor=None,
    )
    client.force_login(patroller)
    body = client.get(f"/streams/{live_stream.pk}/").content.decode()
    assert "主播好厉害" in body and "viewer-7" in body
    assert "No comments on this stream." not in body and "这条直播没有评论" not in body
