"""The live streams' stored patrol priority (``Stream.queue_priority``), which the wall's order reads.

The priority is computed from a stream's tier, audience, publisher's credit level, machine-review
flags and open public reports (moderation/queries/streams.py). Each action that changes one of
those calls ``refresh_queue_priority`` for the streams it touched, in its own transaction, so the
stored value and the computed one agree when the change commits; ``open_stream`` writes the first
value with the row. Nothing in the priority depends on the clock: the order's time part is
``last_patrolled_at``, a column of the stream itself.
"""

from __future__ import annotations

from django.db.models import OuterRef, Q, Subquery

from moderation import queries
from moderation.credit_policy import PolicyRules
from moderation.models import Stream


def refresh_queue_priority(
    *,
    stream_ids=None,
    publisher_ids=None,
    category_ids=None,
    everything: bool = False,
    policy: PolicyRules | None = None,
) -> int:
    """Recompute the stored priority of the live streams named (by id, publisher or category); return how many.

    ``everything`` recomputes every live stream (a new credit policy's weights). ``policy`` gives the
    credit levels' weights when they are not yet the process's cached ones. One UPDATE.
    """
    which = Q()
    for field, ids in (("pk__in", stream_ids), ("publisher_id__in", publisher_ids), ("category_id__in", category_ids)):
        if ids is not None:
            which |= Q(**{field: list(ids)})
    if not everything and not which:
        return 0
    computed = queries.with_computed_priority(Stream.objects.filter(pk=OuterRef("pk")), policy=policy)
    return Stream.objects.live().filter(which).update(queue_priority=Subquery(computed.values("priority")[:1]))


def initial_queue_priority(stream_key) -> int:
    """The priority of a stream about to be opened on this key: its tier and its publisher's level alone."""
    return queries.priority_value(
        tier=stream_key.category.risk_tier,
        viewers=0,
        credit_level=stream_key.publisher.credit_level,
        review_score=None,
        review_flag="",
        open_reports=0,
    )
