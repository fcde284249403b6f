"""A measure on a stream is taken once: one action, one drop, one charge, whoever asks and however often."""

from __future__ import annotations

import threading
from collections.abc import Callable
from urllib.parse import urlencode

from django import db

import pytest

from moderation import actions
from moderation.models import CreditEvent, ModerationAction, Publisher, ReasonCode, Stream, hash_stream_key
from tests.conftest import NODE_SECRET

FORM = "application/x-www-form-urlencoded"
Kind = ModerationAction.Kind


def go_live(client, key: str, client_id: str = "5") -> Stream:
    form = {"app": "live", "name": key, "addr": "203.0.113.1", "clientid": client_id, "call": "publish"}
    response = client.post(f"/gate/nginx-rtmp/edge-1/{NODE_SECRET}/on_publish", urlencode(form), content_type=FORM)
    assert response.status_code == 200
    return Stream.objects.live().get(key__key_hash=hash_stream_key(key))


def charges(publisher_id: int) -> list[CreditEvent]:
    return list(CreditEvent.objects.filter(publisher_id=publisher_id, kind=CreditEvent.Kind.ACTION))


def at_once(count: int, function: Callable[[int], object]) -> list[object]:
    """Run ``function(index)`` on ``count`` threads released together; return results or exceptions."""
    start = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(index: int) -> None:
        try:
            start.wait(timeout=10)
            results[index] = function(index)
        except Exception as exc:  # the test looks at what each caller got
            results[index] = exc
        finally:
            db.connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


# --- one after the other ------------------------------------------------------------------------


@pytest.mark.django_db
def test_blocking_a_blocked_stream_returns_the_block_and_charges_once(
    client, nginx_node, stream_key, patroller, admin, django_capture_on_commit_callbacks
):
    stream = go_live(client, stream_key.issued_key)
    # The test node's control port is closed: the first block's cut stays pending.
    with django_capture_on_commit_callbacks(execute=True):
        first = actions.block_stream(stream, actor=patroller, reason=ReasonCode.FRAUD, request_id="p-1")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = actions.block_stream(stream, actor=admin, reason=ReasonCode.VIOLENCE_TERROR, request_id="a-1")

    assert second.pk == first.pk and second.replayed and not getattr(first, "replayed", False)
    assert callbacks == []  # no second broadcast, drop or charge
    assert ModerationAction.objects.filter(kind=Kind.BLOCK).count() == 1
    assert ModerationAction.objects.get(pk=first.pk).media_attempts == 1
    assert len(charges(stream.publisher_id)) == 1
    assert Publisher.objects.get(pk=stream.publisher_id).credit_score == 85


@pytest.mark.django_db
def test_a_block_whose_cut_is_pending_covers_the_keys_next_session(
    client, nginx_node, stream_key, patroller, admin, settings
):
    stream = go_live(client, stream_key.issued_key)
    settings.LIVEWARD_BLOCK_COOLING_OFF_MINUTES = 0  # the key may come back at once
    first = actions.block_stream(stream, actor=patroller, reason=ReasonCode.FRAUD, request_id="p-1")
    Stream.objects.filter(pk=stream.pk).update(ended_at=stream.started_at, end_reason=Stream.EndReason.UNPUBLISHED)
    later = go_live(client, stream_key.issued_key, client_id="6")

    again = actions.block_stream(later, actor=admin, reason=ReasonCode.FRAUD, request_id="a-1")

    assert again.pk == first.pk and again.replayed


@pytest.mark.django_db
def test_a_confirmed_block_does_not_cover_a_later_session_of_the_key(
    client, nginx_node, stream_key, patroller, settings
):
    stream = go_live(client, stream_key.issued_key)
    settings.LIVEWARD_BLOCK_COOLING_OFF_MINUTES = 0
    first = actions.block_stream(stream, actor=patroller, reason=ReasonCode.FRAUD, request_id="p-1")
    ModerationAction.objects.filter(pk=first.pk).update(media_status=ModerationAction.MediaStatus.CONFIRMED)
    Stream.objects.filter(pk=stream.pk).update(ended_at=stream.started_at, end_reason=Stream.EndReason.CUT)
    later = go_live(client, stream_key.issued_key, client_id="6")

    second = actions.block_stream(later, actor=patroller, reason=ReasonCode.FRAUD, request_id="p-2")

    assert second.pk != first.pk and not getattr(second, "replayed", False)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["suspend", "close"])
def test_a_second_suspension_or_closure_from_the_stream_returns_the_first(
    client, nginx_node, stream_key, admin, kind, django_capture_on_commit_callbacks
):
    stream = go_live(client, stream_key.issued_key)
    measure = actions.suspend_publisher if kind == "suspend" else actions.close_publisher
    extra = {"minutes": 60} if kind == "suspend" else {}
    with django_capture_on_commit_callbacks(execute=True):
        first = measure(stream, actor=admin, reason=ReasonCode.FRAUD, request_id="m-1", **extra)
    second = measure(stream, actor=admin, reason=ReasonCode.FRAUD, request_id="m-2", **extra)

    assert second.pk == first.pk and second.replayed
    assert ModerationAction.objects.filter(kind=kind).count() == 1
    assert len(charges(stream.publisher_id)) == 1


@pytest.mark.django_db
def test_an_ended_stream_still_refuses_a_first_block(client, nginx_node, stream_key, patroller):
    stream = go_live(client, stream_key.issued_key)
    actions.end_stream_session(node=nginx_node, client_id=stream.client_id, key_name=stream_key.issued_key)

    with pytest.raises(actions.ModerationError) as refused:
        actions.block_stream(stream, actor=patroller, reason=ReasonCode.FRAUD, request_id="late")
    assert refused.value.code == "stream_ended"
    assert not ModerationAction.objects.exists()


# --- at the same time ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_blocks_take_one_action_and_one_charge(client, nginx_node, stream_key, patroller, admin):
    stream = go_live(client, stream_key.issued_key)
    users = [patroller, admin]

    def block(index: int) -> ModerationAction:
        actor = users[index % 2]
        return actions.block_stream(stream, actor=actor, reason=ReasonCode.FRAUD, request_id=f"r-{index}")

    results = at_once(10, block)

    assert all(isinstance(result, ModerationAction) for result in results), results
    assert len({result.pk for result in results}) == 1
    assert sum(not getattr(result, "replayed", False) for result in results) == 1
    assert ModerationAction.objects.filter(kind=Kind.BLOCK).count() == 1
    assert len(charges(stream.publisher_id)) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_of_one_request_get_its_action(client, nginx_node, stream_key, patroller):
    stream = go_live(client, stream_key.issued_key)

    results = at_once(8, lambda index: actions.mark_patrolled(stream, actor=patroller, request_id="same-click"))

    assert all(isinstance(result, ModerationAction) for result in results), results
    assert len({result.pk for result in results}) == 1
    assert ModerationAction.objects.filter(kind=Kind.MARK_PATROLLED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_another_users_request_id_stays_refused_in_a_race(client, nginx_node, stream_key, patroller, admin):
    stream = go_live(client, stream_key.issued_key)
    users = [patroller, admin]

    def block(index: int) -> ModerationAction:
        return actions.block_stream(stream, actor=users[index], reason=ReasonCode.FRAUD, request_id="shared-id")

    results = at_once(2, block)

    done = [result for result in results if isinstance(result, ModerationAction)]
    refused = [result for result in results if isinstance(result, actions.ModerationError)]
    assert len(done) == 1 and len(refused) == 1, results
    assert refused[0].code == "request_id_taken"
    assert ModerationAction.objects.get().actor_id == done[0].actor_id


@pytest.mark.django_db(transaction=True)
def test_charging_one_action_at_once_from_many_places_charges_it_once(client, nginx_node, stream_key, patroller):
    stream = go_live(client, stream_key.issued_key)
    action = actions.warn_publisher(stream, actor=patroller, reason=ReasonCode.FRAUD, request_id="w-1")
    CreditEvent.objects.filter(action=action).delete()  # as if the warning's own charge had not happened
    Publisher.objects.filter(pk=stream.publisher_id).update(credit_score=100, credit_level="A")

    results = at_once(8, lambda index: actions.charge_for_action(action))

    assert all(isinstance(result, CreditEvent) for result in results), results
    assert len({result.pk for result in results}) == 1
    assert len(charges(stream.publisher_id)) == 1
    assert Publisher.objects.get(pk=stream.publisher_id).credit_score == 95
