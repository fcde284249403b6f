"""Credit (信用等级, Art. 15): points for actions, manual adjustments, reversals, earn-back, policy versions.

Every change of a score is a CreditEvent written in the same transaction as its cause, and the
publisher's row carries the resulting score and level (denormalised), so the gate, the patrol queue
and the snapshot scheduler follow a level change as soon as it commits. A level change tells the
consoles (a queue delta per live stream of the publisher). Policy reads in actions go to the
database (a version check, one query), not the per-process cache alone: a write never uses a stale version.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import credit_policy, events, permissions, task_queue
from moderation.actions import platform_events
from moderation.actions.queue_priority import refresh_queue_priority
from moderation.actions.restore import lift_block, lift_suspension, reopen_publisher
from moderation.credit_policy import PolicyRules
from moderation.errors import ModerationError
from moderation.models import Category, CreditEvent, CreditLevel, CreditPolicy, ModerationAction, Publisher, Stream

logger = logging.getLogger(__name__)
EventKind = CreditEvent.Kind

# Action kinds that may carry a cost. Lifting and routine patrol never do, nor does the cut that
# ends a news stream whose approval ended or was revoked: that is the review's decision, not a
# violation (a violation on a news stream is blocked, warned … like any other, and costs that);
# nor the gate's cut of a session that a new publish of its key replaced.
_FREE = (
    ModerationAction.Kind.LIFT,
    ModerationAction.Kind.MARK_PATROLLED,
    ModerationAction.Kind.NEWS_CUT,
    ModerationAction.Kind.REPLACE,
)
CHARGEABLE_KINDS = tuple(kind for kind in ModerationAction.Kind.values if kind not in _FREE)
LEVEL_CODE = re.compile(r"[A-Z][A-Z0-9]{0,7}")
MAX_ADJUSTMENT = 1000
RECOMPUTE_TASK = "moderation.tasks.credit.recompute_credit_levels"


def _require_compliance_admin(actor: User | None, what: str) -> None:
    if not permissions.may(actor, "credit.manage"):
        raise ModerationError(f"only a compliance admin may {what}", code="forbidden")


# --- points -----------------------------------------------------------------------------------


def _live_stream_ids(publisher_id: int) -> list[int]:
    return list(Stream.objects.live().filter(publisher_id=publisher_id).values_list("pk", flat=True))


def _announce_level_change(publisher_id: int, *, skip: Iterable[int] = ()) -> None:
    """After commit, send a queue delta for each live stream of the publisher (new level, new priority)."""
    stream_ids = [pk for pk in _live_stream_ids(publisher_id) if pk not in set(skip)]
    if stream_ids:
        transaction.on_commit(lambda: events.publisher_credit_changed(stream_ids))


def apply_points(
    publisher_id: int,
    *,
    points: int,
    kind: str,
    reason: str = "",
    actor: User | None = None,
    action: ModerationAction | None = None,
    earned_for: date | None = None,
    policy: PolicyRules | None = None,
    announced_stream_ids: Iterable[int] = (),
    at: datetime | None = None,
) -> CreditEvent:
    """Add (or take) points, clamped to the scale; recompute the level; keep the event. Call inside a transaction.

    ``at`` backdates the record (the demo's history only); the score changes now either way.
    """
    policy = policy or credit_policy.fresh_policy()
    publisher = Publisher.objects.select_for_update().get(pk=publisher_id)
    score = policy.clamp(publisher.credit_score + points)
    level = policy.level_for(score).code
    event = CreditEvent.objects.create(
        publisher=publisher,
        at=at or timezone.now(),
        kind=kind,
        points=score - publisher.credit_score,
        action=action,
        reason=reason[:300],
        actor=actor if actor is not None and actor.pk else None,
        score_after=score,
        level_after=level,
        policy_version=policy.version,
        earned_for=earned_for,
    )
    Publisher.objects.filter(pk=publisher_id).update(credit_score=score, credit_level=level)
    if level != publisher.credit_level:
        refresh_queue_priority(publisher_ids=[publisher_id], policy=policy)
        _announce_level_change(publisher_id, skip=announced_stream_ids)
        platform_events.credit_level_changed(
            publisher_id, previous=publisher.credit_level, level=level, score=score, event_id=event.pk
        )
    return event


def charge_for_action(action: ModerationAction, *, announced_stream_ids: Iterable[int] = ()) -> CreditEvent | None:
    """Take the points the current policy sets for this action from its publisher; once per action.

    Warnings and escalations are charged inside their own transaction; the cutting actions right
    after their cut, in a transaction of their own (moderation/actions/patrol.py). Safe to call twice.
    """
    if action.publisher_id is None or action.kind not in CHARGEABLE_KINDS:
        return None
    policy = credit_policy.fresh_policy()
    cost = policy.cost_of(action.kind)
    if cost <= 0:
        return None
    with transaction.atomic():
        # Serialised on the publisher's row (apply_points locks it): a second call sees the first's
        # event. The constraint one_charge_per_action holds it in the database as well.
        Publisher.objects.select_for_update().filter(pk=action.publisher_id).values_list("pk").first()
        earlier = CreditEvent.objects.filter(action=action, kind=EventKind.ACTION).first()
        if earlier is not None:
            return earlier
        return apply_points(
            action.publisher_id,
            points=-cost,
            kind=EventKind.ACTION,
            reason=f"{action.kind}:{action.reason}",  # a code; shown in the reader's language (reason_text)
            actor=action.actor,
            action=action,
            policy=policy,
            announced_stream_ids=announced_stream_ids,
        )


# The cutting actions, charged after their cut (and by the sweep if the process died before).
CHARGED_AFTER_CUT = (ModerationAction.Kind.BLOCK, ModerationAction.Kind.SUSPEND, ModerationAction.Kind.CLOSE)


def settle_credit_charges(
    *, older_than: timedelta = timedelta(minutes=1), within: timedelta = timedelta(days=1)
) -> int:
    """Charge the cutting actions of the last day whose charge after the cut never happened."""
    now = timezone.now()
    policy = credit_policy.fresh_policy()
    costly = [kind for kind in CHARGED_AFTER_CUT if policy.cost_of(kind) > 0]
    uncharged = (
        ModerationAction.objects.filter(
            kind__in=costly, at__lt=now - older_than, at__gte=now - within, publisher__isnull=False
        )
        .exclude(credit_events__kind=EventKind.ACTION)
        .order_by("at")
    )
    charged = 0
    for action in uncharged.select_related("actor")[:500]:
        if charge_for_action(action) is not None:
            charged += 1
    return charged


def adjust_credit(publisher: Publisher, *, actor: User, points: int, reason: str) -> CreditEvent:
    """Add or take points by hand (compliance admin only; the reason is kept with the event)."""
    _require_compliance_admin(actor, "adjust credit")
    reason = (reason or "").strip()
    if not reason:
        raise ModerationError("a manual adjustment needs a reason", code="missing_field")
    if not isinstance(points, int) or isinstance(points, bool) or points == 0 or abs(points) > MAX_ADJUSTMENT:
        raise ModerationError(f"points must be a non-zero whole number up to ±{MAX_ADJUSTMENT}", code="bad_field")
    with transaction.atomic():
        event = apply_points(publisher.pk, points=points, kind=EventKind.MANUAL, reason=reason, actor=actor)
        log_staff_action(
            actor,
            "credit.adjust",
            target=publisher,
            data={"event": event.pk, "points": points, "reason": reason[:200]},
        )
    return event


def reverse_credit_event(event: CreditEvent, *, actor: User, reason: str) -> CreditEvent:
    """Undo an event: give its points back, recompute the level, lift what its action still imposes."""

    with transaction.atomic():
        event = (
            CreditEvent.objects.select_for_update(of=("self",))
            .select_related("action", "action__stream")
            .get(pk=event.pk)
        )
        if event.reversed_by_id is not None:
            raise ModerationError("this credit event is reversed already", code="already_reversed")
        if event.kind in (EventKind.REVERSAL, EventKind.POLICY):
            raise ModerationError("this kind of credit event cannot be reversed", code="not_reversible")
        reversal = apply_points(
            event.publisher_id, points=-event.points, kind=EventKind.REVERSAL, reason=reason, actor=actor
        )
        CreditEvent.objects.filter(pk=event.pk).update(reversed_by=reversal)
        action = event.action
        note = f"{reason}"[:300] or "credit event reversed"
        if action is not None:
            now = timezone.now()
            publisher = Publisher.objects.get(pk=event.publisher_id)
            if action.kind == ModerationAction.Kind.BLOCK and action.stream is not None:
                key = action.stream.key
                if key.denied_until is not None and key.denied_until > now:
                    lift_block(key, actor=actor, note=note)
            elif action.kind == ModerationAction.Kind.SUSPEND and publisher.is_suspended(now):
                if publisher.suspended_until == action.until:  # a later suspension stands
                    lift_suspension(publisher, actor=actor, note=note)
            elif action.kind == ModerationAction.Kind.CLOSE and publisher.status == Publisher.Status.CLOSED:
                latest_close = (
                    ModerationAction.objects.filter(publisher_id=publisher.pk, kind=ModerationAction.Kind.CLOSE)
                    .order_by("-at", "-id")
                    .values_list("pk", flat=True)
                    .first()
                )
                if latest_close == action.pk:
                    reopen_publisher(publisher, actor=actor, note=note)
        log_staff_action(
            actor, "credit.reverse", target=event, data={"reversal": reversal.pk, "points": reversal.points}
        )
    event.reversed_by = reversal
    return reversal


# --- earn-back --------------------------------------------------------------------------------


def night_window(night: date) -> tuple[datetime, datetime]:
    """The local day ``night`` as an aware [start, end) interval."""
    start = timezone.make_aware(datetime.combine(night, time.min))
    return start, timezone.make_aware(datetime.combine(night + timedelta(days=1), time.min))


def clean_broadcast_hours(publisher_id: int, *, night: date, policy: PolicyRules) -> int:
    """Whole hours the publisher broadcast on that day, or 0 when an action with a cost hit them that day."""
    start, end = night_window(night)
    costly = [kind for kind in CHARGEABLE_KINDS if policy.cost_of(kind) > 0]
    if ModerationAction.objects.filter(publisher_id=publisher_id, kind__in=costly, at__gte=start, at__lt=end).exists():
        return 0
    now = timezone.now()
    seconds = 0.0
    streams = Stream.objects.filter(publisher_id=publisher_id, started_at__lt=end).exclude(ended_at__lte=start)
    for started_at, ended_at in streams.values_list("started_at", "ended_at"):
        seconds += max(0.0, (min(ended_at or now, end) - max(started_at, start)).total_seconds())
    return int(seconds // 3600)


def earn_back(publisher_id: int, *, night: date) -> CreditEvent | None:
    """Give a publisher the points its clean broadcasting hours earned that day, capped; once per night."""
    policy = credit_policy.fresh_policy()
    if policy.earn_back_points_per_hour <= 0 or policy.earn_back_nightly_cap <= 0:
        return None
    if CreditEvent.objects.filter(publisher_id=publisher_id, earned_for=night).exists():
        return None
    hours = clean_broadcast_hours(publisher_id, night=night, policy=policy)
    points = min(hours * policy.earn_back_points_per_hour, policy.earn_back_nightly_cap)
    if points <= 0:
        return None
    try:
        with transaction.atomic():
            publisher = Publisher.objects.select_for_update().get(pk=publisher_id)
            if publisher.credit_score >= policy.score_max:
                return None
            return apply_points(
                publisher_id,
                points=points,
                kind=EventKind.EARN_BACK,
                reason=f"hours:{hours}",  # a code; shown in the reader's language (reason_text)
                earned_for=night,
                policy=policy,
            )
    except IntegrityError:  # another run of the same night got there first
        return None


def nightly_earn_back(night: date | None = None) -> int:
    """Run earn-back for every publisher who broadcast on ``night`` (default: yesterday); return events made."""
    night = night or timezone.localdate() - timedelta(days=1)
    start, end = night_window(night)
    publisher_ids = (
        Stream.objects.filter(started_at__lt=end)
        .exclude(ended_at__lte=start)
        .values_list("publisher_id", flat=True)
        .distinct()
    )
    made = 0
    for publisher_id in sorted(set(publisher_ids)):
        try:
            if earn_back(publisher_id, night=night) is not None:
                made += 1
        except Exception:  # one publisher's failure must not stop the others; the next run retries it
            logger.exception("earn-back failed for publisher %s on %s", publisher_id, night)
    return made


# --- policy versions --------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelSpec:
    """A level as submitted for a new policy version."""

    code: str
    name: str
    min_score: int
    may_broadcast: bool = True
    allowed_categories: tuple[str, ...] = ()
    requires_pre_review: bool = False
    patrol_weight: int = 0
    snapshot_interval_seconds: int | None = None
    audience_cap: int | None = None


def check_credit_policy(
    *, levels: list[LevelSpec], score_min: int, score_max: int, action_costs: dict, per_hour: int, cap: int
) -> None:
    """Raise ModerationError (code bad_field) for a policy that cannot be published; what publishing checks first."""

    def bad(message: str) -> ModerationError:
        return ModerationError(message, code="bad_field")

    if not score_min < score_max:
        raise bad("the lowest score must be below the highest")
    if not levels:
        raise bad("a policy needs at least one level")
    codes = [level.code for level in levels]
    if len(set(codes)) != len(codes):
        raise bad("level codes must differ")
    scores = [level.min_score for level in levels]
    if len(set(scores)) != len(scores):
        raise bad("each level needs its own threshold")
    if min(scores) > score_min:
        raise bad("the lowest level must start at the lowest score")
    known = set(Category.objects.values_list("slug", flat=True))
    for level in levels:
        if not LEVEL_CODE.fullmatch(level.code):
            raise bad(f"bad level code {level.code[:10]!r}: a capital letter, then up to 7 capitals or digits")
        if not score_min <= level.min_score <= score_max:
            raise bad(f"level {level.code}: the threshold must lie on the scale")
        if unknown := set(level.allowed_categories) - known:
            raise bad(f"level {level.code}: unknown categories {', '.join(sorted(unknown))}")
        if level.snapshot_interval_seconds is not None and not 1 <= level.snapshot_interval_seconds <= 86400:
            raise bad(f"level {level.code}: snapshot interval must be 1 to 86400 seconds")
        if level.audience_cap is not None and level.audience_cap < 0:
            raise bad(f"level {level.code}: the audience cap cannot be negative")
        if not -1000 <= level.patrol_weight <= 1000:
            raise bad(f"level {level.code}: patrol weight must be between -1000 and 1000")
    for kind, points in action_costs.items():
        if kind not in CHARGEABLE_KINDS:
            raise bad(f"no cost can be set for {str(kind)[:20]!r}")
        if not isinstance(points, int) or isinstance(points, bool) or not 0 <= points <= score_max - score_min:
            raise bad(f"the cost of {kind} must be a whole number on the scale")
    if per_hour < 0 or cap < 0:
        raise bad("earn-back figures cannot be negative")


def publish_credit_policy(
    *,
    actor: User,
    levels: list[LevelSpec],
    action_costs: dict[str, int],
    score_min: int = 0,
    score_max: int = 100,
    earn_back_points_per_hour: int = 1,
    earn_back_nightly_cap: int = 5,
    note: str = "",
) -> CreditPolicy:
    """Store a new policy version (the old ones stay); the worker then recomputes every publisher's level.

    Until it has (seconds), publishers keep their stored level; ``recompute_credit_levels`` is the task's body.
    """
    _require_compliance_admin(actor, "change the credit policy")
    check_credit_policy(
        levels=levels,
        score_min=score_min,
        score_max=score_max,
        action_costs=action_costs,
        per_hour=earn_back_points_per_hour,
        cap=earn_back_nightly_cap,
    )
    try:
        with transaction.atomic():
            # Versions are numbered under a lock of the latest one (the unique version catches a first race).
            latest = CreditPolicy.objects.select_for_update().order_by("-version").first()
            policy = CreditPolicy.objects.create(
                version=(latest.version if latest else 0) + 1,
                score_min=score_min,
                score_max=score_max,
                action_costs=dict(action_costs),
                earn_back_points_per_hour=earn_back_points_per_hour,
                earn_back_nightly_cap=earn_back_nightly_cap,
                note=note[:300],
                created_by=actor,
            )
            CreditLevel.objects.bulk_create(
                CreditLevel(
                    policy=policy,
                    code=level.code,
                    name=level.name[:64],
                    min_score=level.min_score,
                    may_broadcast=level.may_broadcast,
                    allowed_categories=sorted(set(level.allowed_categories)),
                    requires_pre_review=level.requires_pre_review,
                    patrol_weight=level.patrol_weight,
                    snapshot_interval_seconds=level.snapshot_interval_seconds,
                    audience_cap=level.audience_cap,
                )
                for level in levels
            )
            log_staff_action(
                actor,
                "credit.publish_policy",
                target=policy,
                data={"version": policy.version, "levels": [level.code for level in levels]},
            )
            transaction.on_commit(credit_policy.forget_cached_policy)
            # Every publisher's level under the new version: in the worker, not in the admin's request.
            version = policy.version
            transaction.on_commit(lambda: task_queue.enqueue(RECOMPUTE_TASK, version))
    except IntegrityError:
        raise ModerationError("another policy version was published at the same time", code="conflict") from None
    return policy


def ensure_credit_policy(*, actor: User | None = None) -> CreditPolicy:
    """Store the built-in default policy as version 1 if no version is stored yet (demo, first run)."""
    existing = CreditPolicy.objects.order_by("-version").first()
    if existing is not None:
        return existing
    default = credit_policy.DEFAULT_POLICY
    with transaction.atomic():
        policy = CreditPolicy.objects.create(
            version=1,
            score_min=default.score_min,
            score_max=default.score_max,
            action_costs=dict(default.action_costs),
            earn_back_points_per_hour=default.earn_back_points_per_hour,
            earn_back_nightly_cap=default.earn_back_nightly_cap,
            note="default",
            created_by=actor,
        )
        CreditLevel.objects.bulk_create(
            CreditLevel(policy=policy, **{**level.as_dict(), "allowed_categories": sorted(level.allowed_categories)})
            for level in default.levels
        )
        log_staff_action(actor, "credit.publish_policy", target=policy, data={"version": 1, "default": True})
        transaction.on_commit(credit_policy.forget_cached_policy)
    return policy
