"""Claims: the patrol queue spreads live streams across the staff on duty, with expiry."""

from __future__ import annotations

import threading
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

import pytest

from accounts.actions import ShiftError, check_in, check_out, create_staff_user, ensure_role_groups
from accounts.models import StaffActionLog
from accounts.roles import Role
from moderation import actions, events
from moderation.models import Stream
from tests.conftest import PASSWORD, make_publisher

TTL = 120


def open_streams(node, publisher, category, count: int, *, start=None, step=timedelta(minutes=1)) -> list[Stream]:
    """Open ``count`` live streams, each on its own key, the first started earliest."""
    start = start or timezone.now() - timedelta(hours=1)
    streams = []
    for index in range(count):
        key = actions.issue_stream_key(publisher, category=category, default_title=f"{category.name}直播{index}")
        with transaction.atomic():
            streams.append(
                actions.open_stream(
                    key,
                    published_name=key.issued_key,
                    node=node,
                    app="live",
                    client_id=f"{category.slug}-{index}",
                    addr="203.0.113.9",
                    title="",
                    at=start + step * index,
                )
            )
    return streams


def staff_on_duty(username: str, role: str = Role.PATROLLER):
    ensure_role_groups()
    user = create_staff_user(username, role=role, password=PASSWORD, display_name=username)
    check_in(user)
    return user


@pytest.fixture
def ten_streams(nginx_node, publisher, entertainment):
    return open_streams(nginx_node, publisher, entertainment, 10)


@pytest.fixture
def on_duty_patroller(patroller):
    check_in(patroller)
    return patroller


def claimed_by(user) -> set[int]:
    return set(Stream.objects.filter(claimed_by=user).values_list("pk", flat=True))


# --- spreading the queue ----------------------------------------------------------------------


@pytest.mark.django_db
def test_two_patrollers_get_disjoint_sets_covering_all_ten_streams(on_duty_patroller, ten_streams):
    other = staff_on_duty("patroller2")
    first = actions.claim_streams(on_duty_patroller, limit=5, ttl_seconds=TTL)
    second = actions.claim_streams(other, limit=5, ttl_seconds=TTL)
    assert len(first) == len(second) == 5
    assert not set(first) & set(second)
    assert set(first) | set(second) == {stream.pk for stream in ten_streams}
    assert claimed_by(on_duty_patroller) == set(first) and claimed_by(other) == set(second)


@pytest.mark.django_db
def test_a_third_patroller_gets_nothing_until_a_claim_expires(on_duty_patroller, ten_streams):
    now = timezone.now()
    second, third = staff_on_duty("patroller2"), staff_on_duty("patroller3")
    first = actions.claim_streams(on_duty_patroller, limit=5, ttl_seconds=TTL, now=now)
    actions.claim_streams(second, limit=5, ttl_seconds=TTL, now=now)
    assert actions.claim_streams(third, limit=5, ttl_seconds=TTL, now=now + timedelta(seconds=TTL - 1)) == []

    # The first patroller stops renewing (closed the tab); the second keeps renewing.
    later = now + timedelta(seconds=TTL + 1)
    actions.claim_streams(second, limit=5, ttl_seconds=TTL, now=now + timedelta(seconds=60))
    taken = actions.claim_streams(third, limit=5, ttl_seconds=TTL, now=later)
    assert set(taken) == set(first)
    assert claimed_by(third) == set(first) and claimed_by(on_duty_patroller) == set()


@pytest.mark.django_db
def test_renewing_keeps_the_same_streams_and_moves_the_expiry(on_duty_patroller, ten_streams):
    now = timezone.now()
    first = actions.claim_streams(on_duty_patroller, limit=3, ttl_seconds=TTL, now=now)
    again = actions.claim_streams(on_duty_patroller, limit=3, ttl_seconds=TTL, now=now + timedelta(seconds=60))
    assert again == first
    expiries = set(Stream.objects.filter(pk__in=first).values_list("claim_expires_at", flat=True))
    assert expiries == {now + timedelta(seconds=60 + TTL)}
    # Renewals are a heartbeat: only the first claim wrote a log line.
    assert StaffActionLog.objects.filter(verb="stream.claim").count() == 1


@pytest.mark.django_db
def test_a_lower_limit_gives_back_the_surplus(on_duty_patroller, ten_streams):
    first = actions.claim_streams(on_duty_patroller, limit=5, ttl_seconds=TTL)
    kept = actions.claim_streams(on_duty_patroller, limit=2, ttl_seconds=TTL)
    assert kept == first[:2]
    assert claimed_by(on_duty_patroller) == set(kept)


@pytest.mark.django_db
def test_ttl_defaults_to_the_setting(settings, on_duty_patroller, ten_streams):
    settings.LIVEWARD_CLAIM_TTL_SECONDS = 45
    now = timezone.now()
    [stream_id] = actions.claim_streams(on_duty_patroller, limit=1, now=now)
    assert Stream.objects.get(pk=stream_id).claim_expires_at == now + timedelta(seconds=45)


@pytest.mark.django_db
def test_ended_streams_are_never_claimed(on_duty_patroller, nginx_node, publisher, entertainment):
    [stream] = open_streams(nginx_node, publisher, entertainment, 1)
    actions.end_stream_session(node=nginx_node, client_id=stream.client_id, key_name=stream.published_name)
    assert actions.claim_streams(on_duty_patroller, limit=5) == []


# --- who may claim ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_off_duty_patroller_cannot_claim(patroller, ten_streams):
    with pytest.raises(actions.NotOnDutyError) as refused:
        actions.claim_streams(patroller, limit=5)
    assert refused.value.code == "not_on_duty"
    assert isinstance(refused.value, actions.ModerationError) and isinstance(refused.value, ShiftError)
    assert claimed_by(patroller) == set()


@pytest.mark.django_db
def test_check_out_releases_the_claims_for_the_next_patroller(on_duty_patroller, ten_streams):
    mine = actions.claim_streams(on_duty_patroller, limit=5, ttl_seconds=TTL)
    check_out(on_duty_patroller, handover_note="")
    assert claimed_by(on_duty_patroller) == set()
    assert StaffActionLog.objects.get(verb="shift.check_out").data["released_streams"] == 5
    with pytest.raises(actions.NotOnDutyError):
        actions.claim_streams(on_duty_patroller, limit=5)
    other = staff_on_duty("patroller2")
    assert set(actions.claim_streams(other, limit=5, ttl_seconds=TTL)) == set(mine)


# --- order ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_high_risk_tier_first_then_the_longest_unpatrolled(
    on_duty_patroller, nginx_node, publisher, entertainment, news
):
    now = timezone.now()
    # Entertainment (tier 3) started long ago; news (tier 1) started just now: tier wins.
    old_fun = open_streams(nginx_node, publisher, entertainment, 3, start=now - timedelta(hours=3))
    fresh_news = open_streams(nginx_node, make_publisher("acct-2002", "新闻主播"), news, 2, start=now)
    # The oldest entertainment stream was patrolled a minute ago (no patrol action exists yet, so
    # the test arranges it directly): it has now waited the least and goes last.
    Stream.objects.filter(pk=old_fun[0].pk).update(last_patrolled_at=now - timedelta(minutes=1))

    order = actions.claim_streams(on_duty_patroller, limit=5, ttl_seconds=TTL, now=now)
    assert order == [fresh_news[0].pk, fresh_news[1].pk, old_fun[1].pk, old_fun[2].pk, old_fun[0].pk]

    other = staff_on_duty("patroller2")
    check_out(on_duty_patroller, handover_note="")
    assert actions.claim_streams(other, limit=2, ttl_seconds=TTL, now=now) == [fresh_news[0].pk, fresh_news[1].pk]


# --- events -----------------------------------------------------------------------------------


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, int]]:
    calls: list[tuple[str, int]] = []
    # Deltas carry the stream's card (built by the sender thread), whose claimed_by is the news.
    monkeypatch.setattr(events, "queue_delta", lambda event, stream_id: calls.append((event, stream_id)))
    return calls


@pytest.mark.django_db
def test_claims_and_releases_are_broadcast_on_commit(
    on_duty_patroller, ten_streams, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        mine = actions.claim_streams(on_duty_patroller, limit=2, ttl_seconds=TTL)
    assert sent == [(events.STREAM_UPDATED, stream_id) for stream_id in mine]
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.claim_streams(on_duty_patroller, limit=2, ttl_seconds=TTL)
    assert sent == []  # a renewal changes no card
    with django_capture_on_commit_callbacks(execute=True):
        check_out(on_duty_patroller, handover_note="")
    assert sent == [(events.STREAM_UPDATED, stream_id) for stream_id in sorted(mine)]


@pytest.mark.django_db
def test_a_rolled_back_claim_broadcasts_nothing(
    on_duty_patroller, ten_streams, sent, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        actions.claim_streams(on_duty_patroller, limit=2, ttl_seconds=TTL)
        raise RuntimeError("the caller failed")
    assert callbacks == [] and sent == []
    assert claimed_by(on_duty_patroller) == set()


# --- the race ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_patrollers_claiming_at_once_never_share_a_stream(nginx_node, publisher, entertainment):
    first, second = staff_on_duty("racer1"), staff_on_duty("racer2")
    streams = {stream.pk for stream in open_streams(nginx_node, publisher, entertainment, 10)}

    for _round in range(5):
        results, errors = _race(actions.claim_streams, [first, second], limit=10, ttl_seconds=TTL)
        assert not errors, errors
        got_first, got_second = results[first.pk], results[second.pk]
        assert not set(got_first) & set(got_second)
        assert set(got_first) | set(got_second) == streams
        assert claimed_by(first) == set(got_first) and claimed_by(second) == set(got_second)
        actions.release_claims(first)
        actions.release_claims(second)


def _race(function, users, **kwargs) -> tuple[dict[int, list[int]], list[BaseException]]:
    """Call ``function(user, **kwargs)`` for every user at once, each on its own thread and connection."""
    barrier = threading.Barrier(len(users))
    results: dict[int, list[int]] = {}
    errors: list[BaseException] = []

    def run(user) -> None:
        try:
            barrier.wait(timeout=10)
            results[user.pk] = function(user, **kwargs)
        except BaseException as exc:  # reported by the test, which runs on another thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, errors
