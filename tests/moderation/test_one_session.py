"""A stream key has at most one live session platform-wide (docs/patrol.md, "One key, one session").

A second publish of a live key replaces the first, whose session is cut at its node through the cut
pipeline (LIVEWARD_SECOND_PUBLISH=replace, the default), or is refused (refuse). Until a replaced
session's cut is confirmed, every measure on its key or publisher cuts it too. Here through the gate's
HTTP callbacks, and with the SRS stand-in as the node (the nginx-rtmp side: test_one_session_nginx.py).
"""

from __future__ import annotations

import threading
from datetime import timedelta
from urllib.parse import urlencode

from django import db
from django.utils import timezone

import pytest

from moderation import actions
from moderation.actions import cuts
from moderation.gate import rules
from moderation.models import CreditEvent, GateDecision, ModerationAction, ReasonCode, Stream
from moderation.tasks.cuts import retry_cut
from tests.conftest import NODE_SECRET, make_publisher
from tests.media import wait_until
from tests.moderation.test_measure_once import at_once
from tests.srs_standin import (
    srs_live_fixture,  # noqa: F401 (the srs_live fixture)
    srs_live_pair_fixture,  # noqa: F401 (the srs_live_pair fixture)
)

Kind = ModerationAction.Kind
MediaStatus = ModerationAction.MediaStatus
FORM = "application/x-www-form-urlencoded"


def on_publish(client, key: str, client_id: str, call: str = "publish", hook: str = "on_publish"):
    form = {"app": "live", "name": key, "addr": "203.0.113.1", "clientid": client_id, "call": call}
    return client.post(f"/gate/nginx-rtmp/edge-1/{NODE_SECRET}/{hook}", urlencode(form), content_type=FORM)


def publish_request(node, key: str, client_id: str) -> rules.PublishRequest:
    return rules.PublishRequest(node=node, key_name=key, app="live", client_id=client_id)


def live_of(key) -> Stream:
    return Stream.objects.live().get(key=key)


def kicks(standin) -> list[str]:
    return [request.removeprefix("DELETE /api/v1/clients/") for request in standin.api_requests if "DELETE" in request]


# --- the gate's policy ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_second_publish_replaces_the_first_and_records_its_cut(client, nginx_node, stream_key):
    assert on_publish(client, stream_key.issued_key, "1").status_code == 200
    first = live_of(stream_key)

    assert on_publish(client, stream_key.issued_key, "2").status_code == 200

    assert live_of(stream_key).client_id == "2"
    first.refresh_from_db()
    assert first.end_reason == Stream.EndReason.REPLACED
    replace = ModerationAction.objects.get(kind=Kind.REPLACE)
    assert (replace.stream, replace.publisher_id, replace.actor) == (first, first.publisher_id, None)
    assert replace.media_status == MediaStatus.PENDING  # cut after the commit, at the first one's node
    assert not CreditEvent.objects.exists()


@pytest.mark.django_db
def test_under_refuse_a_second_publish_is_denied_while_the_first_is_live(client, nginx_node, stream_key, settings):
    settings.LIVEWARD_SECOND_PUBLISH = "refuse"
    assert on_publish(client, stream_key.issued_key, "1").status_code == 200
    first = live_of(stream_key)

    response = on_publish(client, stream_key.issued_key, "2")

    assert response.status_code == 403 and b"key_in_use" in response.content
    assert live_of(stream_key) == first
    denied = GateDecision.objects.get(client_id="2")
    assert (denied.allowed, denied.reason) == (False, GateDecision.Reason.KEY_IN_USE)
    assert not ModerationAction.objects.exists()
    # The first session's own updates go on, and once it ends the key may publish again.
    assert on_publish(client, stream_key.issued_key, "1", call="update_publish", hook="on_update").status_code == 200
    assert (
        on_publish(client, stream_key.issued_key, "1", call="publish_done", hook="on_publish_done").status_code == 200
    )
    assert on_publish(client, stream_key.issued_key, "3").status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("policy", ["replace", "refuse"])
def test_concurrent_publishes_of_one_key_resolve_by_the_policy(nginx_node, stream_key, settings, policy):
    settings.LIVEWARD_SECOND_PUBLISH = policy

    outcomes = at_once(
        8, lambda index: rules.decide_publish(publish_request(nginx_node, stream_key.issued_key, f"c{index}"))
    )

    reasons = sorted(outcome.reason for outcome in outcomes)
    assert GateDecision.Reason.GATE_ERROR not in reasons, outcomes
    assert Stream.objects.live().filter(key=stream_key).count() == 1
    if policy == "replace":
        assert reasons == [GateDecision.Reason.ALLOWED] * 8  # the last one in stays, the others are cut
        assert Stream.objects.filter(end_reason=Stream.EndReason.REPLACED).count() == 7
        assert ModerationAction.objects.filter(kind=Kind.REPLACE).count() == 7
        # Their cuts run in the background (the test node's control port is closed: they stay pending).
        wait_until(lambda: not ModerationAction.objects.filter(kind=Kind.REPLACE, media_attempts=0).exists())
    else:
        assert reasons == [GateDecision.Reason.ALLOWED] + [GateDecision.Reason.KEY_IN_USE] * 7


@pytest.mark.django_db(transaction=True)
def test_a_publish_racing_a_block_of_its_key_is_denied_not_replacing(client, nginx_node, stream_key, patroller):
    assert on_publish(client, stream_key.issued_key, "1").status_code == 200
    stream = live_of(stream_key)
    blocked, release = threading.Event(), threading.Event()

    def block_and_hold() -> None:
        try:
            with db.transaction.atomic():  # the block is done, not yet committed
                actions.block_stream(stream, actor=patroller, reason=ReasonCode.FRAUD, request_id="b-1")
                blocked.set()
                release.wait(10)
        finally:
            db.connections.close_all()

    blocker = threading.Thread(target=block_and_hold)
    blocker.start()
    assert blocked.wait(10)
    outcomes = []
    publisher = threading.Thread(
        target=lambda: (
            outcomes.append(rules.decide_publish(publish_request(nginx_node, stream_key.issued_key, "2"))),
            db.connections.close_all(),
        )
    )
    publisher.start()
    publisher.join(0.5)  # the publish waits for the block (its stream row, or on SQLite the write lock)
    release.set()
    blocker.join(10)
    publisher.join(10)

    [outcome] = outcomes
    assert (outcome.allowed, outcome.reason) == (False, GateDecision.Reason.KEY_COOLING_OFF)
    assert not Stream.objects.filter(client_id="2").exists()
    assert not ModerationAction.objects.filter(kind=Kind.REPLACE).exists()


# --- what a measure cuts --------------------------------------------------------------------------


@pytest.mark.django_db
def test_measures_cut_every_session_of_their_key_or_publisher(client, nginx_node, stream_key, entertainment):
    assert on_publish(client, stream_key.issued_key, "1").status_code == 200
    replaced = live_of(stream_key)
    assert on_publish(client, stream_key.issued_key, "2").status_code == 200  # replaced's cut still pending
    live = live_of(stream_key)
    other_key = actions.issue_stream_key(live.publisher, category=entertainment)
    assert on_publish(client, other_key.issued_key, "3").status_code == 200
    other_session = live_of(other_key)
    stranger_key = actions.issue_stream_key(make_publisher("acct-9", "路人"), category=entertainment)
    assert on_publish(client, stranger_key.issued_key, "4").status_code == 200

    def covered(kind: str, stream: Stream) -> set[int]:
        measure = ModerationAction(kind=kind, stream=stream, publisher_id=stream.publisher_id)
        return {session.pk for session in cuts.sessions_on_air(measure)}

    assert covered(Kind.BLOCK, live) == covered(Kind.NEWS_CUT, live) == {replaced.pk, live.pk}
    assert covered(Kind.SUSPEND, live) == covered(Kind.CLOSE, other_session) == {replaced.pk, live.pk, other_session.pk}
    assert covered(Kind.REPLACE, replaced) == {replaced.pk}
    ModerationAction.objects.filter(kind=Kind.REPLACE).update(media_status=MediaStatus.CONFIRMED)
    assert covered(Kind.BLOCK, live) == {live.pk}  # confirmed off air: no longer anyone's to cut


@pytest.mark.django_db
def test_a_replaced_card_can_still_be_blocked_and_the_block_cuts_the_keys_new_session(
    client, nginx_node, stream_key, patroller
):
    assert on_publish(client, stream_key.issued_key, "1").status_code == 200
    replaced = live_of(stream_key)
    assert on_publish(client, stream_key.issued_key, "2").status_code == 200
    live = live_of(stream_key)

    block = actions.block_stream(replaced, actor=patroller, reason=ReasonCode.FRAUD, request_id="stale-card")

    assert block.stream == replaced and block.kind == Kind.BLOCK
    assert {session.pk for session in cuts.sessions_on_air(block)} == {replaced.pk, live.pk}
    assert on_publish(client, stream_key.issued_key, "3").status_code == 403  # the key is denied for the cooling-off


# --- on the SRS stand-in ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_srs_a_second_publish_under_another_app_kicks_exactly_the_first_client(srs_live, stream_key, patroller):
    standin, _node = srs_live
    first_client = standin.publish(stream_key.issued_key, app="live")
    first = live_of(stream_key)

    second_client = standin.publish(stream_key.issued_key, app="live2")

    wait_until(lambda: first_client not in standin.streams, message="the first client to be kicked")
    assert kicks(standin) == [first_client] and second_client in standin.streams
    replace = wait_until(
        lambda: ModerationAction.objects.filter(kind=Kind.REPLACE, stream=first, media_status=MediaStatus.CONFIRMED)
    )
    assert replace.get().media_attempts == 1
    second = live_of(stream_key)
    assert second.client_id == second_client

    actions.block_stream(second, actor=patroller, reason=ReasonCode.GAMBLING, request_id="b-1")

    assert kicks(standin) == [first_client, second_client] and standin.streams == {}
    assert ModerationAction.objects.filter(kind=Kind.BLOCK).count() == 1
    assert CreditEvent.objects.filter(kind=CreditEvent.Kind.ACTION).count() == 1
    wait_until(lambda: not Stream.objects.live().filter(key=stream_key).exists(), message="no live session")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("measure", ["block", "suspend", "close"])
def test_srs_a_measure_cuts_a_replaced_session_still_on_air_on_another_node(srs_live_pair, stream_key, admin, measure):
    first_node, second_node = srs_live_pair
    first_client = first_node.publish(stream_key.issued_key)
    first = live_of(stream_key)
    first_node.mode = "http_500"  # the first node's API fails: the replacement cannot cut there
    second_client = second_node.publish(stream_key.issued_key)
    replace = wait_until(
        lambda: ModerationAction.objects.filter(kind=Kind.REPLACE, stream=first, media_attempts=1).first(),
        message="the replacement's first drop to fail",
    )
    assert replace.media_status == MediaStatus.PENDING and first_client in first_node.streams
    second = live_of(stream_key)
    function = {"block": actions.block_stream, "suspend": actions.suspend_publisher, "close": actions.close_publisher}
    extra = {"minutes": 60} if measure == "suspend" else {}

    action = function[measure](second, actor=admin, reason=ReasonCode.FRAUD, request_id="m-1", **extra)

    assert kicks(second_node) == [second_client]
    action.refresh_from_db()
    assert action.media_status == MediaStatus.PENDING and f"{first_node.node.name}:" in action.media_last_error
    first_node.mode = "ok"  # the node answers again: the measure's retry cuts the replaced session
    assert retry_cut.apply(args=[action.pk]).get() == MediaStatus.CONFIRMED
    assert kicks(first_node)[-1:] == [first_client] and first_node.streams == {} and second_node.streams == {}
    assert ModerationAction.objects.filter(kind=measure).count() == 1
    assert CreditEvent.objects.filter(kind=CreditEvent.Kind.ACTION).count() == 1
    # The replacement's own retry then finds its session gone.
    assert retry_cut.apply(args=[replace.pk]).get() == MediaStatus.GONE


@pytest.mark.django_db(transaction=True)
def test_the_sweep_retries_a_replacement_cut_left_pending(srs_live, stream_key):
    standin, _node = srs_live
    first_client = standin.publish(stream_key.issued_key, app="live")
    first = live_of(stream_key)
    standin.mode = "http_500"
    standin.publish(stream_key.issued_key, app="live2")
    replace = wait_until(
        lambda: ModerationAction.objects.filter(kind=Kind.REPLACE, stream=first, media_attempts=1).first()
    )
    standin.mode = "ok"

    assert cuts.pending_cuts(now=timezone.now() + timedelta(minutes=6)) == [replace.pk]
    assert cuts.perform_cut(replace.pk) == MediaStatus.CONFIRMED
    assert kicks(standin) == [first_client]
