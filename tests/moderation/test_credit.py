"""Credit: versioned policy, points per action, level recompute, gate/queue/snapshots following, earn-back."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode

from django.db import transaction
from django.utils import timezone, translation

import pytest

from accounts.models import StaffActionLog
from moderation import actions, credit_policy, frame_grabber, queries
from moderation.actions.credit import LevelSpec
from moderation.models import CreditEvent, CreditPolicy, GateDecision, ModerationAction, Publisher, ReasonCode, Stream
from tests.conftest import NODE_SECRET, make_publisher

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"

LEVELS = [
    LevelSpec("A", "优秀", 90),
    LevelSpec("B", "良好", 70, patrol_weight=30),
    LevelSpec("C", "受限", 40, allowed_categories=("entertainment",), patrol_weight=60, snapshot_interval_seconds=7),
    LevelSpec("E", "禁播", 0, may_broadcast=False, patrol_weight=90, audience_cap=0),
]
COSTS = {"warn": 5, "block": 20, "suspend": 40, "close": 80}


def publish_policy(actor, *, levels=LEVELS, costs=COSTS, **extra) -> CreditPolicy:
    """Publish a version, then run what the worker runs for it (the recomputation task's body)."""
    policy = actions.publish_credit_policy(actor=actor, levels=levels, action_costs=costs, **extra)
    actions.recompute_credit_levels(version=policy.version)
    return policy


def on_publish(client, key: str, client_id: str = "5", hook: str = "on_publish"):
    call = "update_publish" if hook == "on_update" else "publish"
    form = {"app": "live", "name": key, "addr": "203.0.113.1", "clientid": client_id, "call": call, "type": "live"}
    return client.post(f"/gate/nginx-rtmp/edge-1/{NODE_SECRET}/{hook}", urlencode(form), content_type=FORM)


def live_stream(client, key, client_id: str = "5") -> Stream:
    assert on_publish(client, key.issued_key, client_id).status_code == 200
    return Stream.objects.live().get(key=key)


def refreshed(publisher: Publisher) -> Publisher:
    return Publisher.objects.get(pk=publisher.pk)


@pytest.fixture
def policy(admin, entertainment, news, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return publish_policy(admin)


# --- policy versions --------------------------------------------------------------------------


def test_every_edit_is_a_new_version_and_the_old_ones_stay(admin, entertainment, django_capture_on_commit_callbacks):
    assert credit_policy.current_policy() is credit_policy.DEFAULT_POLICY
    with django_capture_on_commit_callbacks(execute=True):
        first = publish_policy(admin)
        second = publish_policy(admin, costs={**COSTS, "warn": 9}, note="警示加重")
    assert (first.version, second.version) == (1, 2)
    assert CreditPolicy.objects.count() == 2 and first.levels.count() == 4
    assert CreditPolicy.objects.get(version=1).action_costs["warn"] == 5
    current = credit_policy.current_policy()
    assert current.version == 2 and current.cost_of("warn") == 9
    assert StaffActionLog.objects.filter(verb="credit.publish_policy", actor=admin).count() == 2


def test_only_a_compliance_admin_publishes_a_policy(patroller, inspector, entertainment):
    for user in (patroller, inspector, None):
        with pytest.raises(actions.ModerationError) as error:
            publish_policy(user)
        assert error.value.code == "forbidden"
    assert not CreditPolicy.objects.exists()


@pytest.mark.parametrize(
    "levels, costs, extra",
    [
        ([], COSTS, {}),
        ([LevelSpec("A", "", 50), LevelSpec("A", "", 0)], COSTS, {}),  # duplicate code
        ([LevelSpec("A", "", 50), LevelSpec("B", "", 50)], COSTS, {}),  # duplicate threshold
        ([LevelSpec("A", "", 50)], COSTS, {}),  # nothing from the lowest score
        ([LevelSpec("a", "", 0)], COSTS, {}),  # bad code
        ([LevelSpec("A", "", 0, allowed_categories=("nope",))], COSTS, {}),
        ([LevelSpec("A", "", 0)], {"lift": 5}, {}),
        ([LevelSpec("A", "", 0)], {"block": -5}, {}),
        ([LevelSpec("A", "", 0)], COSTS, {"score_min": 100, "score_max": 0}),
        ([LevelSpec("A", "", 0, snapshot_interval_seconds=0)], COSTS, {}),
    ],
)
def test_a_bad_policy_is_refused_and_nothing_is_written(admin, entertainment, levels, costs, extra):
    with pytest.raises(actions.ModerationError) as error:
        publish_policy(admin, levels=levels, costs=costs, **extra)
    assert error.value.code == "bad_field"
    assert not CreditPolicy.objects.exists() and not CreditEvent.objects.exists()


def test_a_new_version_recomputes_every_level_at_once(
    admin, publisher, entertainment, django_capture_on_commit_callbacks
):
    Publisher.objects.filter(pk=publisher.pk).update(credit_score=75)
    with django_capture_on_commit_callbacks(execute=True):
        publish_policy(admin)
    assert refreshed(publisher).credit_level == "B"
    stricter = [LevelSpec("S", "", 60), LevelSpec("E", "", 0, may_broadcast=False)]
    with django_capture_on_commit_callbacks(execute=True):
        publish_policy(admin, levels=stricter, score_max=69, costs={"block": 30})
    publisher = refreshed(publisher)
    assert (publisher.credit_score, publisher.credit_level) == (69, "S")  # clamped to the new scale
    event = CreditEvent.objects.filter(publisher=publisher).latest("id")
    assert (event.kind, event.points, event.level_after, event.policy_version) == ("policy", -6, "S", 2)


def queued_recomputations() -> list[tuple]:
    """Take the recomputation messages out of the test broker (the embedded or CI Redis): what a worker would get."""
    from celery import current_app

    found = []
    with current_app.connection_for_read() as connection:
        queue = connection.SimpleQueue(current_app.conf.task_default_queue)
        try:
            while True:
                message = queue.get(timeout=1)
                message.ack()
                if message.headers.get("task") == "moderation.tasks.credit.recompute_credit_levels":
                    found.append(tuple(message.payload[0]))
        except queue.Empty:
            pass
        finally:
            queue.close()
    return found


def test_publishing_recomputes_in_the_worker_on_commit_not_in_the_request(
    admin, publisher, entertainment, django_capture_on_commit_callbacks
):
    queued_recomputations()  # an empty queue to start from
    Publisher.objects.filter(pk=publisher.pk).update(credit_score=75, credit_level="A")
    with django_capture_on_commit_callbacks(execute=True):
        policy = actions.publish_credit_policy(actor=admin, levels=LEVELS, action_costs=COSTS)
    assert queued_recomputations() == [(policy.version,)]
    assert refreshed(publisher).credit_level == "A"  # the request did not recompute

    assert actions.recompute_credit_levels(version=policy.version) == 1  # the worker's turn
    assert refreshed(publisher).credit_level == "B"
    assert actions.recompute_credit_levels(version=policy.version) == 0  # safe to run twice
    assert StaffActionLog.objects.filter(verb="credit.recompute_levels").count() == 2


def test_a_rolled_back_publication_queues_nothing(admin, entertainment, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        actions.publish_credit_policy(actor=admin, levels=LEVELS, action_costs=COSTS)
        raise RuntimeError("rolled back")
    assert callbacks == [] and not CreditPolicy.objects.exists()


def test_the_preview_counts_the_publishers_whose_level_would_change(admin, publisher, entertainment):
    Publisher.objects.filter(pk=publisher.pk).update(credit_score=75, credit_level="A")
    changes = actions.preview_level_changes(LEVELS, score_min=0, score_max=100)
    assert changes == {("A", "B"): 1}
    assert not CreditPolicy.objects.exists()  # nothing written
    assert actions.preview_level_changes([LevelSpec("A", "", 0)], score_min=0, score_max=100) == {}


def test_the_policy_cache_is_bounded_by_its_ttl_across_processes(admin, entertainment, settings):
    settings.LIVEWARD_CREDIT_POLICY_CACHE_SECONDS = 300
    assert credit_policy.current_policy().version == 0
    publish_policy(admin)  # committed by "another process": no on_commit here forgets this one's copy
    assert credit_policy.current_policy().version == 0, "within the TTL the process keeps its copy"
    credit_policy._cache.entry = (0.0, credit_policy._cache.entry[1])  # the TTL runs out
    assert credit_policy.current_policy().version == 1


# --- points per action ------------------------------------------------------------------------


def test_each_moderation_action_costs_its_points_linked_to_the_action(
    client, nginx_node, stream_key, patroller, admin, policy, django_capture_on_commit_callbacks
):
    stream = live_stream(client, stream_key)
    warning = actions.warn_publisher(stream, actor=patroller, reason=ReasonCode.RUMOUR, request_id="w1")
    with django_capture_on_commit_callbacks(execute=True) as after_commit:
        block = actions.block_stream(stream, actor=patroller, reason=ReasonCode.FRAUD, request_id="b1")
        assert not CreditEvent.objects.filter(action=block).exists()  # the charge follows the cut
    # the cut's callbacks, the platform's stream.blocked and, for the level falling to B, its level change
    assert len(after_commit) == 7
    events = list(CreditEvent.objects.filter(publisher=stream.publisher).order_by("id"))
    assert [(e.kind, e.points, e.action_id, e.score_after, e.level_after) for e in events] == [
        ("action", -5, warning.pk, 95, "A"),
        ("action", -20, block.pk, 75, "B"),
    ]
    assert events[1].actor == patroller and events[1].policy_version == 1
    # Reasons are stored as codes and read in the reader's language.
    assert [e.reason for e in events] == ["warn:rumour", "block:fraud"]
    with translation.override("en"):
        english = events[1].reason_text
    with translation.override("zh-hans"):
        chinese = events[1].reason_text
    assert not re.search(r"[\u4e00-\u9fff]", english) and re.search(r"[\u4e00-\u9fff]", chinese), (english, chinese)
    publisher = refreshed(stream.publisher)
    assert (publisher.credit_score, publisher.credit_level) == (75, "B")
    # A replayed request changes nothing, and costs nothing again; nor does charging twice.
    with django_capture_on_commit_callbacks(execute=True):
        actions.block_stream(stream, actor=patroller, reason=ReasonCode.FRAUD, request_id="b1")
    assert actions.charge_for_action(block) == events[1]
    assert CreditEvent.objects.count() == 2


def test_suspend_and_close_cost_their_points(
    client, nginx_node, stream_key, patroller, admin, policy, django_capture_on_commit_callbacks
):
    stream = live_stream(client, stream_key)
    with django_capture_on_commit_callbacks(execute=True):
        suspension = actions.suspend_publisher(stream, actor=patroller, reason=ReasonCode.FRAUD, minutes=60)
    Publisher.objects.filter(pk=stream.publisher_id).update(status="active", suspended_until=None)
    Stream.objects.filter(pk=stream.pk).update(ended_at=timezone.now())
    stream = live_stream(client, actions.issue_stream_key(stream.publisher, category=stream.category), "6")
    with django_capture_on_commit_callbacks(execute=True):
        closing = actions.close_publisher(stream, actor=admin, reason=ReasonCode.FRAUD)
    costs = dict(CreditEvent.objects.filter(action__isnull=False).values_list("action_id", "points"))
    assert costs == {suspension.pk: -40, closing.pk: -60}  # clamped at the bottom of the scale
    assert refreshed(stream.publisher).credit_score == 0


def test_a_rolled_back_action_costs_nothing(client, nginx_node, stream_key, patroller, policy):
    stream = live_stream(client, stream_key)
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.block_stream(stream, actor=patroller, reason=ReasonCode.FRAUD)
        raise RuntimeError("the caller failed")
    assert not CreditEvent.objects.exists() and refreshed(stream.publisher).credit_score == 100


def test_the_default_policy_applies_before_any_version_is_stored(
    client, nginx_node, stream_key, patroller, django_capture_on_commit_callbacks
):
    stream = live_stream(client, stream_key)
    with django_capture_on_commit_callbacks(execute=True):
        actions.block_stream(stream, actor=patroller, reason=ReasonCode.FRAUD)
    event = CreditEvent.objects.get()
    assert (event.points, event.score_after, event.level_after, event.policy_version) == (-15, 85, "B", 0)


# --- the gate, the queue and the snapshots follow the level at once ------------------------------


def test_a_violation_lowers_the_level_and_the_gate_denies_at_once(
    client, nginx_node, stream_key, patroller, policy, django_capture_on_commit_callbacks
):
    stream = live_stream(client, stream_key)
    with django_capture_on_commit_callbacks(execute=True):
        actions.suspend_publisher(stream, actor=patroller, reason=ReasonCode.FRAUD, minutes=1)
    actions.adjust_credit(stream.publisher, actor=policy.created_by, points=-50, reason="严重违规")
    Publisher.objects.filter(pk=stream.publisher_id).update(status="active", suspended_until=None)
    Stream.objects.filter(pk=stream.pk).update(ended_at=timezone.now())
    assert refreshed(stream.publisher).credit_level == "E"

    response = on_publish(client, stream_key.issued_key, "9")
    assert response.status_code == 403
    decision = GateDecision.objects.latest("id")
    assert (decision.allowed, decision.reason, decision.detail) == (False, "credit_no_broadcast", "level E")


def test_a_level_limits_the_categories(client, nginx_node, publisher, entertainment, news, admin, policy):
    actions.adjust_credit(publisher, actor=admin, points=-50, reason="多次违规")  # 50: level C
    news_key = actions.issue_stream_key(publisher, category=news)
    fun_key = actions.issue_stream_key(publisher, category=entertainment)
    assert on_publish(client, news_key.issued_key, "1").status_code == 403
    decision = GateDecision.objects.latest("id")
    assert (decision.reason, decision.detail) == ("credit_category", "level C, category news")
    assert on_publish(client, fun_key.issued_key, "2").status_code == 200
    # Points back: the credit rule lets the same key through at once (the news rules, which ask for
    # licences and an approved application, are what refuse it now).
    actions.adjust_credit(publisher, actor=admin, points=50, reason="申诉核实")
    assert on_publish(client, news_key.issued_key, "3").status_code == 403
    assert GateDecision.objects.latest("id").reason == GateDecision.Reason.PLATFORM_LICENCE_INVALID


def test_the_update_hook_ends_a_running_stream_once_the_level_may_not_broadcast(
    client, nginx_node, stream_key, admin, policy
):
    stream = live_stream(client, stream_key)
    actions.adjust_credit(stream.publisher, actor=admin, points=-100, reason="严重违规")
    assert on_publish(client, stream_key.issued_key, "5", hook="on_update").status_code == 403
    stream.refresh_from_db()
    assert stream.end_reason == Stream.EndReason.GATE_DENIED


def test_the_queue_priority_follows_the_level_weight(client, nginx_node, agreement, entertainment, admin, policy):
    keys = []
    for index in range(2):
        publisher = make_publisher(f"q-{index}", f"主播{index}")
        keys.append(actions.issue_stream_key(publisher, category=entertainment))
        live_stream(client, keys[-1], f"c{index}")
    _total, cards = queries.queue_window()
    assert [card["priority"] for card in cards] == [100, 100]
    actions.adjust_credit(keys[1].publisher, actor=admin, points=-25, reason="违规")  # 75: level B, weight 30
    _total, cards = queries.queue_window()
    assert [(card["publisher"]["credit_level"], card["priority"]) for card in cards] == [("B", 130), ("A", 100)]


def test_only_a_level_change_registers_a_console_delta(
    client, nginx_node, stream_key, admin, policy, django_capture_on_commit_callbacks
):
    stream = live_stream(client, stream_key)
    with django_capture_on_commit_callbacks() as callbacks:
        actions.adjust_credit(stream.publisher, actor=admin, points=-2, reason="轻微")  # still A
    assert callbacks == []
    with django_capture_on_commit_callbacks() as callbacks:
        actions.adjust_credit(stream.publisher, actor=admin, points=-20, reason="违规")  # B
    assert len(callbacks) == 2  # the delta (tests/console/test_credit_ws.py) and the webhook of the level change


def test_the_snapshot_interval_follows_the_level(client, nginx_node, stream_key, admin, policy, entertainment):
    from moderation.models import MediaServer

    MediaServer.objects.filter(pk=nginx_node.pk).update(play_url="rtmp://127.0.0.1:1/")
    entertainment.snapshot_interval_seconds = 60
    entertainment.save()
    stream = live_stream(client, stream_key)
    assert frame_grabber.streams_due_for_snapshot() == [(stream.pk, 60)]
    actions.adjust_credit(stream.publisher, actor=admin, points=-50, reason="违规")  # C: 7 s
    assert frame_grabber.streams_due_for_snapshot() == [(stream.pk, 7)]
    from moderation.models import Snapshot

    shot = Snapshot.objects.create(stream=stream, taken_at=timezone.now() - timedelta(seconds=20), source="capture")
    Stream.objects.filter(pk=stream.pk).update(latest_snapshot=shot)
    assert frame_grabber.streams_due_for_snapshot() == [(stream.pk, 7)], "20 s old is due at level C"
    actions.adjust_credit(stream.publisher, actor=admin, points=50, reason="恢复")  # A: the category's 60 s
    assert frame_grabber.streams_due_for_snapshot() == []


def test_pre_review_and_audience_cap_come_from_the_level(
    publisher, admin, entertainment, django_capture_on_commit_callbacks
):
    levels = [LevelSpec("A", "", 50, audience_cap=5000), LevelSpec("D", "", 0, requires_pre_review=True)]
    with django_capture_on_commit_callbacks(execute=True):
        publish_policy(admin, levels=levels)
    publisher = refreshed(publisher)
    assert not credit_policy.level_requires_pre_review(publisher) and credit_policy.audience_cap_for(publisher) == 5000
    actions.adjust_credit(publisher, actor=admin, points=-60, reason="违规")
    publisher = refreshed(publisher)
    assert credit_policy.level_requires_pre_review(publisher) and credit_policy.audience_cap_for(publisher) is None


# --- manual adjustments -----------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_manual_adjustment_needs_a_reason(publisher, admin, reason):
    with pytest.raises(actions.ModerationError) as error:
        actions.adjust_credit(publisher, actor=admin, points=-10, reason=reason)
    assert error.value.code == "missing_field" and not CreditEvent.objects.exists()


@pytest.mark.parametrize("points", [0, 5000, True, "5"])
def test_a_manual_adjustment_needs_sane_points(publisher, admin, points):
    with pytest.raises(actions.ModerationError):
        actions.adjust_credit(publisher, actor=admin, points=points, reason="x")
    assert not CreditEvent.objects.exists()


def test_only_a_compliance_admin_adjusts_credit(publisher, patroller, inspector, editor_in_chief):
    for user in (patroller, inspector, editor_in_chief):
        with pytest.raises(actions.ModerationError) as error:
            actions.adjust_credit(publisher, actor=user, points=-10, reason="x")
        assert error.value.code == "forbidden"
    assert not CreditEvent.objects.exists() and refreshed(publisher).credit_score == 100


def test_a_manual_adjustment_is_kept_and_logged(publisher, admin):
    event = actions.adjust_credit(publisher, actor=admin, points=-12, reason="直播中辱骂观众，多次警告无效")
    assert (event.kind, event.points, event.actor, event.reason) == (
        "manual",
        -12,
        admin,
        "直播中辱骂观众，多次警告无效",
    )
    assert StaffActionLog.objects.filter(verb="credit.adjust", actor=admin, target_id=str(publisher.pk)).exists()


# --- nightly earn-back ------------------------------------------------------------------------


def broadcast(publisher, key, node, *, start, hours: float) -> Stream:
    return Stream.objects.create(
        key=key,
        publisher=publisher,
        category=key.category,
        node=node,
        app="live",
        client_id=f"h{Stream.objects.count()}",
        started_at=start,
        ended_at=start + timedelta(hours=hours),
    )


@pytest.fixture
def yesterday():
    return timezone.localdate() - timedelta(days=1)


def noon(day):
    from moderation.actions.credit import night_window

    return night_window(day)[0] + timedelta(hours=12)


def test_clean_hours_earn_points_back_capped_and_once_per_night(stream_key, nginx_node, admin, policy, yesterday):
    publisher = stream_key.publisher
    actions.adjust_credit(publisher, actor=admin, points=-30, reason="违规")
    broadcast(publisher, stream_key, nginx_node, start=noon(yesterday), hours=3.5)
    assert actions.nightly_earn_back(yesterday) == 1
    event = CreditEvent.objects.get(kind="earn_back")
    assert (event.points, event.earned_for, event.score_after) == (3, yesterday, 73)
    assert event.reason == "hours:3"
    with translation.override("en"):
        assert event.reason_text == "3 clean broadcasting hours"
    with translation.override("zh-hans"):
        assert event.reason_text == "无违规直播 3 小时"
    assert actions.nightly_earn_back(yesterday) == 0, "a second run the same night earns nothing"
    assert CreditEvent.objects.filter(kind="earn_back").count() == 1

    long_day = yesterday - timedelta(days=1)
    broadcast(publisher, stream_key, nginx_node, start=noon(long_day) - timedelta(hours=11), hours=20)
    assert actions.nightly_earn_back(long_day) == 1
    assert CreditEvent.objects.get(earned_for=long_day).points == 5  # capped per night
    assert refreshed(publisher).credit_score == 78


def test_a_day_with_a_violation_earns_nothing(client, stream_key, nginx_node, patroller, policy, yesterday):
    publisher = stream_key.publisher
    stream = broadcast(publisher, stream_key, nginx_node, start=noon(yesterday), hours=5)
    Publisher.objects.filter(pk=publisher.pk).update(credit_score=60, credit_level="C")
    ModerationAction.objects.create(
        kind="warn", publisher=publisher, stream=stream, reason=ReasonCode.RUMOUR, at=noon(yesterday)
    )
    assert actions.nightly_earn_back(yesterday) == 0 and not CreditEvent.objects.exists()


def test_earn_back_stops_at_the_top_of_the_scale(stream_key, nginx_node, admin, policy, yesterday):
    publisher = stream_key.publisher
    actions.adjust_credit(publisher, actor=admin, points=-2, reason="轻微")
    broadcast(publisher, stream_key, nginx_node, start=noon(yesterday), hours=6)
    actions.nightly_earn_back(yesterday)
    assert refreshed(publisher).credit_score == 100
    assert CreditEvent.objects.get(kind="earn_back").points == 2


def test_the_nightly_task_runs_the_earn_back(stream_key, nginx_node, admin, policy, yesterday):
    from moderation.tasks.credit import nightly_earn_back

    actions.adjust_credit(stream_key.publisher, actor=admin, points=-30, reason="违规")
    broadcast(stream_key.publisher, stream_key, nginx_node, start=noon(yesterday), hours=2)
    assert nightly_earn_back.apply().get() == 1
    assert nightly_earn_back.apply(args=[yesterday.isoformat()]).get() == 0


def test_the_nightly_earn_back_is_on_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["liveward-credit-earn-back"]
    assert entry["task"] == "moderation.tasks.credit.nightly_earn_back"
    assert settings.CELERY_TIMEZONE == settings.TIME_ZONE


# --- the demo ---------------------------------------------------------------------------------


def test_the_demo_has_a_policy_credit_history_and_a_pending_appeal(settings, tmp_path, client, nginx_node):
    from io import StringIO

    from django.core.management import call_command

    from moderation.models import Appeal

    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # idempotent
    policy = CreditPolicy.objects.get()
    assert sorted(policy.levels.values_list("code", flat=True)) == ["A", "B", "C", "D", "E"]
    assert CreditEvent.objects.count() == 8
    banned = Publisher.objects.get(platform_account_id="demo-1019")
    assert (banned.credit_score, banned.credit_level) == (30, "E")
    appeal = Appeal.objects.get()
    assert appeal.status == "pending" and appeal.publisher.platform_account_id == "demo-1004"
    # The demo's level-E publisher is refused at the gate.
    assert on_publish(client, f"demo-{banned.platform_account_id}", "d1").status_code == 403


def test_the_credit_rule_keeps_the_gates_query_budget(nginx_node, stream_key, policy):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from moderation import emergency_scope
    from moderation.gate import rules
    from tests.moderation.test_gate import statements

    rules.authenticate_node("edge-1", NODE_SECRET, nginx_node.kind)
    credit_policy.current_policy()  # warm, as in a running gate worker
    emergency_scope.in_force()  # the emergencies in force: cached too
    request = rules.PublishRequest(node=nginx_node, key_name=stream_key.issued_key, app="live", client_id="budget")
    with CaptureQueriesContext(connection) as allowed:
        assert rules.decide_publish(request).allowed
    assert len(statements(allowed)) <= 3, statements(allowed)


def test_the_sweep_charges_a_cut_whose_charge_never_happened(client, nginx_node, stream_key, patroller, policy):
    stream = live_stream(client, stream_key)
    # No on_commit here: as if the process died between the cut's commit and the charge.
    block = actions.block_stream(stream, actor=patroller, reason=ReasonCode.FRAUD, request_id="lost")
    assert not CreditEvent.objects.filter(action=block).exists()
    assert actions.settle_credit_charges() == 0  # too recent: its own process may still be charging
    # A minute later (the record is append-only: the sweep is asked for what is older than nothing).
    assert actions.settle_credit_charges(older_than=timedelta(0)) == 1
    assert actions.settle_credit_charges(older_than=timedelta(0)) == 0  # charged once
    assert CreditEvent.objects.get(action=block).points == -20
