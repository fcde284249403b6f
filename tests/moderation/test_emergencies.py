"""Emergencies (应急处置, Art. 7): scope and reason checked, a second admin for everything, the bulk cut per node."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts.models import StaffActionLog
from accounts.roles import Role
from moderation import actions, emergency_scope, queries
from moderation.errors import ModerationError
from moderation.models import CreditEvent, Emergency, EmergencyCut, MediaServer, ModerationAction, Stream, StreamKey
from tests.conftest import NODE_SECRET, _staff, make_publisher
from tests.moderation.test_reports import open_live


class _Drops(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"1" if self.path.startswith("/control/drop/publisher") else b"0"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def answering_node(db):
    """A node whose control port confirms every drop (the nginx-rtmp control module's answer)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Drops)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    node, _secret = actions.register_media_server(
        "edge-ok",
        kind=MediaServer.Kind.NGINX_RTMP,
        control_url=f"http://127.0.0.1:{server.server_port}/",
        secret=NODE_SECRET,
    )
    yield node
    server.shutdown()


@pytest.fixture
def second_admin(db):
    return _staff("admin2", Role.COMPLIANCE_ADMIN, "合规管理员小钱")


@pytest.fixture(autouse=True)
def _fresh_scope_cache():
    emergency_scope.forget_cached()
    yield
    emergency_scope.forget_cached()


def live_world(entertainment, node, count: int, *, prefix: str = "acct", title: str = "直播") -> list[Stream]:
    streams = []
    for number in range(count):
        publisher = make_publisher(f"{prefix}-{number}", f"主播{number}")
        key = actions.issue_stream_key(publisher, category=entertainment)
        streams.append(open_live(key, node, client_id=str(number + 1), title=f"{title}{number}"))
    return streams


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("scope", "measures", "reason", "code"),
    [
        ({}, ["cut"], "台风", "empty_scope"),
        ({"categories": [], "words": []}, ["cut"], "台风", "empty_scope"),
        ({"categories": ["entertainment"]}, ["cut"], "", "missing_reason"),
        ({"categories": ["entertainment"]}, ["cut"], "   ", "missing_reason"),
        ({"categories": ["no-such"]}, ["cut"], "台风", "bad_scope"),
        ({"publishers": ["nobody"]}, ["cut"], "台风", "bad_scope"),
        ({"tiers": [0]}, ["cut"], "台风", "bad_scope"),
        ({"words": ["a\x00"]}, ["cut"], "台风", "bad_scope"),
        ({"planets": ["mars"]}, ["cut"], "台风", "bad_scope"),
        ({"categories": ["entertainment"]}, [], "台风", "bad_field"),
        ({"categories": ["entertainment"]}, ["nuke"], "台风", "bad_field"),
    ],
)
def test_a_bad_declaration_is_refused_and_changes_nothing(admin, entertainment, scope, measures, reason, code):
    with pytest.raises(ModerationError) as refused:
        actions.declare_emergency(actor=admin, scope=scope, measures=measures, reason=reason)
    assert refused.value.code == code
    assert not Emergency.objects.exists()


@pytest.mark.django_db
def test_only_compliance_admins_declare(patroller, entertainment):
    with pytest.raises(ModerationError) as refused:
        actions.declare_emergency(actor=patroller, scope={"everything": True}, measures=["cut"], reason="x")
    assert refused.value.code == "forbidden"


@pytest.mark.django_db(transaction=True)
def test_the_bulk_cut_cuts_every_matching_stream_on_its_node_and_records_each_outcome(
    admin, agreement, entertainment, answering_node
):
    games = actions.create_category("games", name="游戏", risk_tier=2)
    in_scope = live_world(entertainment, answering_node, 6)
    other_publisher = make_publisher("acct-games", "游戏主播")
    spared = open_live(actions.issue_stream_key(other_publisher, category=games), answering_node, client_id="99")
    emergency = actions.declare_emergency(
        actor=admin,
        scope={"categories": ["entertainment"]},
        measures=["cut"],
        reason="突发事件：娱乐频道集中违规",
        reason_code="pornography",
    )
    assert emergency.status == Emergency.Status.ACTIVE and emergency.started_at is not None
    assert EmergencyCut.objects.filter(emergency=emergency).count() == 6
    counts = actions.run_emergency_cuts(emergency.pk)
    assert counts["confirmed"] == 6 and counts["queued"] == 0
    for stream in in_scope:
        stream.refresh_from_db()
        assert stream.ended_at is not None and stream.end_reason == Stream.EndReason.CUT
        block = ModerationAction.objects.get(stream=stream, kind=ModerationAction.Kind.BLOCK)
        assert block.reason == "pornography" and emergency.reference in block.note
        assert StreamKey.objects.get(pk=stream.key_id).denied_until is not None
    spared.refresh_from_db()
    assert spared.ended_at is None
    assert actions.run_emergency_cuts(emergency.pk)["confirmed"] == 6  # twice: nothing more happens
    assert ModerationAction.objects.filter(kind=ModerationAction.Kind.BLOCK).count() == 6


@pytest.mark.django_db
def test_the_bulk_cut_keeps_each_blocks_evidence_and_answers_a_stream_blocked_already_with_its_block(
    admin, patroller, agreement, entertainment, answering_node, settings, django_capture_on_commit_callbacks
):
    settings.LIVEWARD_COMMENTS_REQUIRE_VERIFIED_PHONE = False
    first, second, third = live_world(entertainment, answering_node, 3)
    for number in range(25):
        actions.receive_comment(first, external_id=f"c-{number}", viewer_id="v", text=f"第{number}条", actor=None)
    earlier = actions.block_stream(second, actor=patroller, reason="pornography")
    emergency = actions.declare_emergency(
        actor=admin, scope={"categories": ["entertainment"]}, measures=["cut"], reason="突发", reason_code="pornography"
    )
    with django_capture_on_commit_callbacks(execute=True):
        counts = actions.run_emergency_cuts(emergency.pk)
    assert counts["confirmed"] + counts["gone"] == 2 and counts["queued"] == 0
    assert EmergencyCut.objects.get(stream=second).action_id == earlier.pk
    assert ModerationAction.objects.filter(kind=ModerationAction.Kind.BLOCK, stream=second).count() == 1
    block = ModerationAction.objects.get(kind=ModerationAction.Kind.BLOCK, stream=first)
    assert block.request_id == f"emergency-{emergency.pk}-{first.pk}" and block.media_attempts == 1
    kept = {evidence.kind: evidence.content for evidence in block.evidence.all()}
    assert kept["metadata"]["stream"] == first.pk
    assert [comment["id"] for comment in kept["comments"]["comments"]] == [f"c-{n}" for n in range(5, 25)]
    third.refresh_from_db()
    assert third.end_reason == Stream.EndReason.CUT
    assert StaffActionLog.objects.filter(verb="stream.block", target_id=str(third.pk)).count() == 1
    assert CreditEvent.objects.filter(action__stream=third).count() == 1  # charged after the cut


@pytest.mark.django_db(transaction=True)
def test_a_node_that_does_not_answer_leaves_its_cuts_pending_and_the_keys_denied(
    admin, agreement, entertainment, nginx_node
):
    streams = live_world(entertainment, nginx_node, 2, title="台风")
    emergency = actions.declare_emergency(actor=admin, scope={"words": ["台风"]}, measures=["cut"], reason="谣言")
    counts = actions.run_emergency_cuts(emergency.pk)
    assert counts["pending"] == 2
    for stream in streams:
        assert StreamKey.objects.get(pk=stream.key_id).denied_until is not None
        cut = EmergencyCut.objects.get(stream=stream)
        assert cut.action.media_status == ModerationAction.MediaStatus.PENDING and cut.error


@pytest.mark.django_db
def test_everything_needs_a_second_admin(admin, second_admin, agreement, entertainment, nginx_node):
    live_world(entertainment, nginx_node, 2)
    emergency = actions.declare_emergency(
        actor=admin, scope={"everything": True}, measures=["cut"], reason="重大突发事件"
    )
    assert emergency.status == Emergency.Status.AWAITING_CONFIRMATION
    assert not EmergencyCut.objects.exists()
    with pytest.raises(ModerationError) as refused:
        actions.confirm_emergency(emergency, actor=admin)
    assert refused.value.code == "same_admin"
    confirmed = actions.confirm_emergency(emergency, actor=second_admin)
    assert confirmed.status == Emergency.Status.ACTIVE and confirmed.confirmed_by == second_admin
    assert EmergencyCut.objects.filter(emergency=emergency).count() == 2


@pytest.mark.django_db
def test_ending_restores_the_normal_rules_and_records_who_and_why(admin, entertainment):
    emergency = actions.declare_emergency(
        actor=admin, scope={"categories": ["entertainment"]}, measures=["refuse_new", "hold_comments"], reason="演练"
    )
    properties = {"category_slug": "entertainment", "tier": 3, "title": "x", "account_id": "a"}
    assert emergency_scope.refusing(properties).reference == emergency.reference
    assert emergency_scope.refusing(properties | {"category_slug": "games"}) is None
    assert [e.pk for e in queries.current_emergencies()] == [emergency.pk]
    with pytest.raises(ModerationError):
        actions.end_emergency(emergency, actor=admin, reason="")
    ended = actions.end_emergency(emergency, actor=admin, reason="事态平息")
    assert ended.status == Emergency.Status.ENDED and ended.ended_by == admin and ended.end_reason == "事态平息"
    assert emergency_scope.refusing(properties) is None
    assert queries.current_emergencies() == []
    with pytest.raises(ModerationError):
        actions.end_emergency(emergency, actor=admin, reason="again")


@pytest.mark.django_db
def test_new_streams_in_scope_are_refused_at_the_gate_until_the_emergency_ends(admin, stream_key, nginx_node):
    from moderation.gate import rules
    from moderation.models import GateDecision

    def publish(client_id: str):
        request = rules.PublishRequest(node=nginx_node, key_name=stream_key.issued_key, app="live", client_id=client_id)
        return rules.decide_publish(request)

    emergency = actions.declare_emergency(
        actor=admin, scope={"publishers": ["acct-1001"]}, measures=["refuse_new"], reason="涉嫌传播谣言"
    )
    refused = publish("e1")
    assert not refused.allowed and refused.reason == GateDecision.Reason.EMERGENCY
    assert not Stream.objects.exists()
    actions.end_emergency(emergency, actor=admin, reason="核实完毕")
    assert publish("e2").allowed


@pytest.mark.django_db
def test_comments_in_scope_are_held_while_the_emergency_is_in_force(admin, stream_key, nginx_node):
    from moderation.models import Comment

    stream = open_live(stream_key, nginx_node, title="普通直播")
    emergency = actions.declare_emergency(
        actor=admin, scope={"words": ["台风"]}, measures=["hold_comments"], reason="台风谣言"
    )
    held = actions.receive_comment(
        stream, external_id="c1", viewer_id="v", text="台风要来了快跑", viewer_phone_verified=True, actor=None
    )
    published = actions.receive_comment(
        stream, external_id="c2", viewer_id="v", text="主播好", viewer_phone_verified=True, actor=None
    )
    assert held.status == Comment.Status.HELD and held.hold_reason == Comment.HoldReason.EMERGENCY
    assert published.status == Comment.Status.PUBLISHED
    actions.end_emergency(emergency, actor=admin, reason="结束")
    after = actions.receive_comment(
        stream, external_id="c3", viewer_id="v", text="台风过去了", viewer_phone_verified=True, actor=None
    )
    assert after.status == Comment.Status.PUBLISHED


@pytest.mark.django_db
def test_new_streams_in_scope_need_pre_review_while_the_emergency_requires_it(admin, stream_key, nginx_node):
    from moderation.gate import rules
    from moderation.models import GateDecision

    def publish(client_id: str):
        request = rules.PublishRequest(node=nginx_node, key_name=stream_key.issued_key, app="live", client_id=client_id)
        return rules.decide_publish(request)

    emergency = actions.declare_emergency(
        actor=admin, scope={"categories": ["entertainment"]}, measures=["pre_review_new"], reason="先审后发"
    )
    refused = publish("p1")
    assert not refused.allowed and refused.reason == GateDecision.Reason.NEWS_NOT_APPROVED
    actions.end_emergency(emergency, actor=admin, reason="恢复")
    assert publish("p2").allowed
