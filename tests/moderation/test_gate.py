"""The ingest gate's callbacks and rules, through HTTP, for nginx-rtmp and SRS."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlencode

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import pytest

from moderation import actions, credit_policy, emergency_scope
from moderation.gate import key_lookup, protocols, rules
from moderation.models import GateDecision, Publisher, Stream, StreamKey, hash_stream_key
from tests.conftest import NODE_SECRET, make_publisher

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"


def nginx_url(hook: str, node: str = "edge-1", secret: str = NODE_SECRET) -> str:
    return f"/gate/nginx-rtmp/{node}/{secret}/{hook}"


def publish_form(key: str, client_id: str = "17", **extra) -> dict:
    form = {
        "app": "live",
        "name": key,
        "addr": "203.0.113.9",
        "clientid": client_id,
        "tcurl": "rtmp://127.0.0.1/live",
        "call": "publish",
        "type": "live",
    }
    form.update(extra)
    return form


def post_form(client, hook: str, form: dict, **url_kwargs):
    """POST as nginx-rtmp does: application/x-www-form-urlencoded."""
    return client.post(nginx_url(hook, **url_kwargs), urlencode(form), content_type=FORM)


def on_publish(client, key: str, client_id: str = "17", **extra):
    return post_form(client, "on_publish", publish_form(key, client_id, **extra))


def latest_decision() -> GateDecision:
    return GateDecision.objects.order_by("-id").first()


# --- allow ---------------------------------------------------------------------------------


def test_allowed_key_opens_a_live_stream(client, nginx_node, stream_key):
    response = on_publish(client, stream_key.issued_key, title="今晚吃什么")
    assert response.status_code == 200
    stream = Stream.objects.live().get()
    assert (stream.key, stream.node, stream.client_id, stream.app) == (stream_key, nginx_node, "17", "live")
    assert stream.title == "今晚吃什么"
    assert stream.category == stream_key.category
    decision = latest_decision()
    assert decision.allowed and decision.reason == GateDecision.Reason.ALLOWED and decision.stream == stream


def test_title_defaults_to_the_keys_title(client, nginx_node, stream_key):
    on_publish(client, stream_key.issued_key)
    assert Stream.objects.live().get().title == "深夜食堂直播"


def test_publish_done_closes_the_stream(client, nginx_node, stream_key):
    on_publish(client, stream_key.issued_key, client_id="5")
    response = post_form(client, "on_publish_done", publish_form(stream_key.issued_key, "5", call="publish_done"))
    assert response.status_code == 200
    stream = Stream.objects.get()
    assert stream.ended_at is not None and stream.end_reason == Stream.EndReason.UNPUBLISHED


def test_a_second_publish_of_a_live_key_replaces_the_first(client, nginx_node, stream_key):
    on_publish(client, stream_key.issued_key, client_id="1")
    on_publish(client, stream_key.issued_key, client_id="2")
    live = Stream.objects.live().get()
    assert live.client_id == "2"
    old = Stream.objects.get(client_id="1")
    assert old.end_reason == Stream.EndReason.REPLACED


def test_publish_done_of_a_replaced_session_leaves_the_new_one_live(client, nginx_node, stream_key):
    on_publish(client, stream_key.issued_key, client_id="1")
    on_publish(client, stream_key.issued_key, client_id="2")
    post_form(client, "on_publish_done", publish_form(stream_key.issued_key, "1", call="publish_done"))
    assert Stream.objects.live().get().client_id == "2"


# --- deny rules ----------------------------------------------------------------------------


def assert_denied(response, reason: str):
    assert response.status_code == 403, response.content
    assert not Stream.objects.live().exists()
    decision = latest_decision()
    assert not decision.allowed and decision.reason == reason


def test_unknown_key_is_denied(client, nginx_node, stream_key):
    assert_denied(on_publish(client, "no-such-key"), GateDecision.Reason.UNKNOWN_KEY)


def test_revoked_key_is_denied(client, nginx_node, stream_key):
    actions.revoke_stream_key(stream_key, actor=None)
    assert_denied(on_publish(client, stream_key.issued_key), GateDecision.Reason.KEY_REVOKED)


def test_closed_publisher_is_denied(client, nginx_node, stream_key):
    Publisher.objects.filter(pk=stream_key.publisher_id).update(status=Publisher.Status.CLOSED)
    assert_denied(on_publish(client, stream_key.issued_key), GateDecision.Reason.PUBLISHER_CLOSED)


def test_suspended_publisher_is_denied_until_the_suspension_ends(client, nginx_node, stream_key):
    until = timezone.now() + timedelta(hours=1)
    Publisher.objects.filter(pk=stream_key.publisher_id).update(
        status=Publisher.Status.SUSPENDED, suspended_until=until
    )
    assert_denied(on_publish(client, stream_key.issued_key), GateDecision.Reason.PUBLISHER_SUSPENDED)
    Publisher.objects.filter(pk=stream_key.publisher_id).update(suspended_until=timezone.now() - timedelta(seconds=1))
    assert on_publish(client, stream_key.issued_key).status_code == 200


def test_unverified_publisher_is_denied(client, nginx_node, agreement, entertainment):
    publisher = make_publisher("acct-2", "未认证主播", verified=False)
    key = actions.issue_stream_key(publisher, category=entertainment)
    assert_denied(on_publish(client, key.issued_key), GateDecision.Reason.PUBLISHER_UNVERIFIED)


def test_publisher_without_the_current_agreement_is_denied(client, nginx_node, stream_key):
    actions.publish_agreement("2026-07", title="直播服务协议（2026年7月修订）")
    assert_denied(on_publish(client, stream_key.issued_key), GateDecision.Reason.NO_CURRENT_AGREEMENT)
    actions.accept_agreement(stream_key.publisher, version="2026-07")
    assert on_publish(client, stream_key.issued_key).status_code == 200


def test_no_agreement_published_at_all_denies(client, nginx_node, entertainment, db):
    publisher = make_publisher("acct-3", "无协议主播")
    key = actions.issue_stream_key(publisher, category=entertainment)
    assert_denied(on_publish(client, key.issued_key), GateDecision.Reason.NO_CURRENT_AGREEMENT)


def test_key_in_cooling_off_is_denied_until_it_ends(client, nginx_node, stream_key):
    StreamKey.objects.filter(pk=stream_key.pk).update(denied_until=timezone.now() + timedelta(minutes=10))
    assert_denied(on_publish(client, stream_key.issued_key), GateDecision.Reason.KEY_COOLING_OFF)
    StreamKey.objects.filter(pk=stream_key.pk).update(denied_until=timezone.now() - timedelta(seconds=1))
    assert on_publish(client, stream_key.issued_key).status_code == 200


def test_rules_are_an_ordered_list_that_takes_one_more_function(client, nginx_node, stream_key, monkeypatch):
    def no_streams_on_tuesdays(ctx):
        return rules.Denial("publisher_closed", "tuesday")

    monkeypatch.setattr(rules, "PUBLISH_RULES", [*rules.PUBLISH_RULES, no_streams_on_tuesdays])
    response = on_publish(client, stream_key.issued_key)
    assert response.status_code == 403
    assert latest_decision().detail == "tuesday"


# --- on_update ------------------------------------------------------------------------------


def test_update_allows_a_running_allowed_session(client, nginx_node, stream_key):
    on_publish(client, stream_key.issued_key, client_id="9")
    response = post_form(client, "on_update", publish_form(stream_key.issued_key, "9", call="update_publish"))
    assert response.status_code == 200
    assert Stream.objects.live().get().last_update_at is not None


def test_update_denies_a_session_the_gate_no_longer_allows(client, nginx_node, stream_key):
    on_publish(client, stream_key.issued_key, client_id="9")
    StreamKey.objects.filter(pk=stream_key.pk).update(denied_until=timezone.now() + timedelta(minutes=10))
    response = post_form(client, "on_update", publish_form(stream_key.issued_key, "9", call="update_publish"))
    assert response.status_code == 403
    assert latest_decision().hook == GateDecision.Hook.UPDATE
    stream = Stream.objects.get()
    assert stream.end_reason == Stream.EndReason.GATE_DENIED and stream.ended_at is not None
    # nginx then reports publish_done; the record keeps the reason it ended for.
    post_form(client, "on_publish_done", publish_form(stream_key.issued_key, "9", call="publish_done"))
    assert Stream.objects.get().end_reason == Stream.EndReason.GATE_DENIED


def test_update_denies_a_session_the_console_never_opened(client, nginx_node, stream_key):
    response = post_form(client, "on_update", publish_form(stream_key.issued_key, "77", call="update_publish"))
    assert response.status_code == 403
    assert latest_decision().reason == GateDecision.Reason.UNKNOWN_SESSION


# --- node authentication ----------------------------------------------------------------------


def test_unknown_node_is_denied(client, nginx_node, stream_key):
    response = post_form(client, "on_publish", publish_form(stream_key.issued_key), node="edge-9")
    assert_denied(response, GateDecision.Reason.UNKNOWN_NODE)


def test_bad_node_secret_is_denied(client, nginx_node, stream_key):
    response = post_form(client, "on_publish", publish_form(stream_key.issued_key), secret="guess")
    assert_denied(response, GateDecision.Reason.UNKNOWN_NODE)


def test_disabled_node_is_denied(client, nginx_node, stream_key):
    type(nginx_node).objects.filter(pk=nginx_node.pk).update(enabled=False)
    assert_denied(on_publish(client, stream_key.issued_key), GateDecision.Reason.UNKNOWN_NODE)


def test_an_srs_node_cannot_use_the_nginx_callbacks(client, srs_node, stream_key):
    response = post_form(client, "on_publish", publish_form(stream_key.issued_key), node="srs-1")
    assert_denied(response, GateDecision.Reason.UNKNOWN_NODE)


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"app": "live", "clientid": "1"},  # no name
        {"app": "live", "name": "", "clientid": "1"},
        {"app": "live", "name": "k" * 129, "clientid": "1"},
        {"app": "live", "name": "a b", "clientid": "1"},
        {"app": "live", "name": "../etc", "clientid": "1"},
        {"app": "li ve", "name": "key", "clientid": "1"},
        {"app": "live", "name": "key"},  # no clientid
        {"app": "live", "name": "key", "clientid": "1", "call": "play"},
    ],
)
def test_malformed_nginx_callbacks_get_400_and_change_nothing(client, nginx_node, stream_key, form):
    before = Stream.objects.count()
    response = post_form(client, "on_publish", form)
    assert response.status_code == 400
    assert Stream.objects.count() == before


def test_garbage_body_gets_400(client, nginx_node, stream_key):
    response = client.post(nginx_url("on_publish"), b"\xff\xfe\x00garbage", content_type=FORM)
    assert response.status_code == 400


def test_huge_body_gets_400(client, nginx_node, stream_key):
    form = publish_form(stream_key.issued_key, padding="x" * 100_000)
    response = post_form(client, "on_publish", form)
    assert response.status_code == 400
    assert not Stream.objects.exists()


def test_get_is_not_allowed(client, nginx_node):
    assert client.get(nginx_url("on_publish")).status_code == 405


def test_unknown_hook_is_404(client, nginx_node, stream_key):
    assert post_form(client, "on_play", publish_form(stream_key.issued_key)).status_code == 404


def test_an_unknown_hook_is_answered_before_any_query(nginx_node, stream_key):
    # bench/gate.py's lean floor (what the path around a decision costs) relies on this.
    body = urlencode(publish_form(stream_key.issued_key)).encode()
    with CaptureQueriesContext(connection) as captured:
        reply = protocols.nginx_callback("edge-1", NODE_SECRET, "on_bench_floor", body, "198.51.100.23")
    assert reply.status == 404
    assert len(captured) == 0
    assert not GateDecision.objects.exists()


def test_an_error_inside_the_gate_denies(client, nginx_node, stream_key, monkeypatch):
    def broken(ctx):
        raise RuntimeError("rule crashed")

    monkeypatch.setattr(rules, "PUBLISH_RULES", [broken])
    response = on_publish(client, stream_key.issued_key)
    assert response.status_code == 403
    assert not Stream.objects.exists()
    assert latest_decision().reason == GateDecision.Reason.GATE_ERROR


# --- query budget ---------------------------------------------------------------------------


@pytest.mark.parametrize("other_keys", [0, 200])
def test_one_decision_takes_at_most_three_queries(client, nginx_node, stream_key, entertainment, other_keys):
    for index in range(other_keys):
        other = make_publisher(f"bulk-{index}", f"主播{index}")
        key = actions.issue_stream_key(other, category=entertainment)
        on_publish(client, key.issued_key, client_id=f"b{index}")
    rules.forget_cached_nodes()
    rules.authenticate_node("edge-1", NODE_SECRET, nginx_node.kind)  # the node cache is warm in a running server
    credit_policy.current_policy()  # so is the credit policy's (checked again every few seconds, not per decision)
    emergency_scope.in_force()  # and the emergencies in force (likewise)
    request = rules.PublishRequest(node=nginx_node, key_name=stream_key.issued_key, app="live", client_id="q1")
    with CaptureQueriesContext(connection) as allowed:
        assert rules.decide_publish(request).allowed
    denied_request = rules.PublishRequest(node=nginx_node, key_name="nope", app="live", client_id="q2")
    with CaptureQueriesContext(connection) as denied:
        assert not rules.decide_publish(denied_request).allowed
    assert len(statements(allowed)) <= 3, statements(allowed)
    assert len(statements(denied)) <= 2, statements(denied)


def statements(captured) -> list[str]:
    # The test's own transaction turns the gate's BEGIN/COMMIT into savepoints; they are not queries.
    return [q["sql"] for q in captured if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


# --- SRS ------------------------------------------------------------------------------------


def srs_post(client, body, node="srs-1", secret=NODE_SECRET):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(f"/gate/srs/{node}/{secret}/", data, content_type="application/json")


def srs_body(key: str, action: str = "on_publish", client_id="3p9n2k06", **extra) -> dict:
    body = {
        "server_id": "vid-0xk989d",
        "action": action,
        "client_id": client_id,
        "ip": "198.51.100.7",
        "vhost": "__defaultVhost__",
        "app": "live",
        "tcUrl": "rtmp://127.0.0.1:1935/live",
        "stream": key,
        "param": "?title=%E5%A4%9C%E5%B8%82",
    }
    body.update(extra)
    return body


def test_srs_publish_allowed_answers_code_zero_and_opens_the_stream(client, srs_node, stream_key):
    response = srs_post(client, srs_body(stream_key.issued_key))
    assert response.status_code == 200 and response.json() == {"code": 0}
    stream = Stream.objects.live().get()
    assert (stream.node, stream.client_id, stream.title) == (srs_node, "3p9n2k06", "夜市")


def test_srs_unpublish_closes_the_stream(client, srs_node, stream_key):
    srs_post(client, srs_body(stream_key.issued_key))
    response = srs_post(client, srs_body(stream_key.issued_key, action="on_unpublish"))
    assert response.json() == {"code": 0}
    assert not Stream.objects.live().exists()


def test_srs_denied_key_does_not_answer_code_zero(client, srs_node, stream_key):
    response = srs_post(client, srs_body("unknown"))
    assert response.status_code == 403 and response.json()["code"] != 0
    assert not Stream.objects.exists()


def test_srs_bad_secret_is_denied(client, srs_node, stream_key):
    response = srs_post(client, srs_body(stream_key.issued_key), secret="wrong")
    assert response.status_code == 403 and response.json()["code"] != 0


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1,2,3]",
        {"action": "on_play", "stream": "k", "app": "live", "client_id": "1"},
        {"action": "on_publish", "app": "live", "client_id": "1"},
        {"action": "on_publish", "stream": 12, "app": "live", "client_id": "1"},
        {"action": "on_publish", "stream": "k", "app": "live", "client_id": None},
        {"action": "on_publish", "stream": "k", "app": ["live"], "client_id": "1"},
    ],
)
def test_srs_malformed_callbacks_get_400(client, srs_node, stream_key, body):
    response = srs_post(client, body)
    assert response.status_code == 400 and response.json()["code"] != 0
    assert not Stream.objects.exists()


# --- the compiled key lookup ----------------------------------------------------------------


def test_compiled_key_lookup_matches_the_queryset(client, nginx_node, stream_key, agreement):
    on_publish(client, stream_key.issued_key, client_id="c1")
    now = timezone.now()
    expected = key_lookup.key_queryset(hash_stream_key(stream_key.issued_key), now).get()
    got = key_lookup.load_key(stream_key.issued_key, now)
    assert got == expected
    for name in ("key_hash", "status", "denied_until", "publisher_id", "category_id"):
        assert getattr(got, name) == getattr(expected, name)
    assert got.publisher.__dict__.keys() >= {"status", "suspended_until", "verification", "agreement_version"}
    assert (got.publisher.display_name, got.category.slug) == (expected.publisher.display_name, "entertainment")
    assert got.current_agreement_version == expected.current_agreement_version == "2026-01"
    assert got.live_stream_id == expected.live_stream_id == Stream.objects.live().get().pk
    assert key_lookup.load_key("no-such-key", now) is None


def test_compiled_key_lookup_applies_the_time(client, nginx_node, stream_key, agreement):
    later = actions.publish_agreement("2027-01", title="下一版协议", effective_at=timezone.now() + timedelta(days=30))
    assert key_lookup.load_key(stream_key.issued_key, timezone.now()).current_agreement_version == "2026-01"
    in_a_month = later.effective_at + timedelta(seconds=1)
    assert key_lookup.load_key(stream_key.issued_key, in_a_month).current_agreement_version == "2027-01"
