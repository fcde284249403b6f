"""Credit levels under a policy version: the preview before publishing, and the recomputation after.

Publishing a version (``publish_credit_policy``) stores it and, on commit, queues
``moderation.tasks.credit.recompute_credit_levels``, whose body is ``recompute_credit_levels``
here: it clamps every score to the new scale and gives every publisher the level it falls in,
with a CreditEvent each, in one transaction. It always recomputes under the latest stored
version, so running it twice, or late after a newer version, changes nothing more.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import credit_policy, events
from moderation.actions import platform_events
from moderation.actions.queue_priority import refresh_queue_priority
from moderation.credit_policy import LevelRules, PolicyRules
from moderation.models import CreditEvent, CreditPolicy, Publisher, Stream

EventKind = CreditEvent.Kind


def preview_level_changes(levels: Iterable, *, score_min: int, score_max: int) -> Counter:
    """Count the publishers whose level would change under these levels and scale: (from, to) → count.

    ``levels`` are LevelSpec-like objects (code, name, min_score); nothing is written.
    """
    rules = PolicyRules(
        version=0,
        score_min=score_min,
        score_max=score_max,
        levels=tuple(
            sorted(
                (LevelRules(level.code, level.name, level.min_score) for level in levels), key=lambda r: -r.min_score
            )
        ),
    )
    changes: Counter = Counter()
    groups = Publisher.objects.values_list("credit_score", "credit_level").annotate(count=Count("pk")).order_by()
    for score, level, count in groups:
        new_level = rules.level_for(rules.clamp(score)).code
        if new_level != level:
            changes[(level, new_level)] += count
    return changes


def recompute_credit_levels(*, version: int | None = None) -> int:
    """Give every publisher its level under the latest policy version; return how many changed (the task's body)."""
    with transaction.atomic():
        latest = CreditPolicy.objects.select_for_update().order_by("-version").first()
        if latest is None:
            return 0
        rules = credit_policy.load_policy()
        changed = _recompute_all(rules, actor=latest.created_by)
        # The levels' patrol weights may have changed too, not only who is at which level.
        refresh_queue_priority(everything=True, policy=rules)
        log_staff_action(
            None,
            "credit.recompute_levels",
            target=latest,
            data={"version": latest.version, "asked_for": version, "changed": changed},
        )
    return changed


def _recompute_all(policy: PolicyRules, *, actor: User) -> int:
    """Clamp every score to the new scale and give every publisher the level it falls in; return how many changed."""
    publishers = Publisher.objects.select_for_update().order_by("pk").values_list("pk", "credit_score", "credit_level")
    events_to_make = []
    by_level: dict[str, list[int]] = {}
    rescored: dict[int, list[int]] = {}
    previous_levels: dict[int, str] = {}
    for pk, score, level_code in publishers:
        previous_levels[pk] = level_code
        new_score = policy.clamp(score)
        new_level = policy.level_for(new_score).code
        if new_score == score and new_level == level_code:
            continue
        if new_level != level_code:
            by_level.setdefault(new_level, []).append(pk)
        if new_score != score:
            rescored.setdefault(new_score, []).append(pk)
        events_to_make.append(
            CreditEvent(
                publisher_id=pk,
                kind=EventKind.POLICY,
                points=new_score - score,
                reason=f"v{policy.version}",
                actor=actor,
                score_after=new_score,
                level_after=new_level,
                policy_version=policy.version,
            )
        )
    relevelled = [pk for pks in by_level.values() for pk in pks]
    if relevelled:
        stream_ids = list(Stream.objects.live().filter(publisher_id__in=relevelled).values_list("pk", flat=True))
        if stream_ids:
            transaction.on_commit(lambda: events.publisher_credit_changed(stream_ids))
    for code, pks in by_level.items():
        Publisher.objects.filter(pk__in=pks).update(credit_level=code)
    for new_score, pks in rescored.items():
        Publisher.objects.filter(pk__in=pks).update(credit_score=new_score)
    CreditEvent.objects.bulk_create(events_to_make)
    levels = dict(Publisher.objects.filter(pk__in=relevelled).values_list("pk", "credit_level")) if relevelled else {}
    for made in events_to_make:
        if made.publisher_id in levels and made.level_after != previous_levels[made.publisher_id]:
            platform_events.credit_level_changed(
                made.publisher_id,
                previous=previous_levels[made.publisher_id],
                level=made.level_after,
                score=made.score_after,
                event_id=made.pk,
            )
    return len(events_to_make)
