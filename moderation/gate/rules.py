"""The ingest gate: may this key publish now on this node? (docs/regulation.md, "The ingest gate")

The decision is an ordered list of rules, each a function of the context that returns a Denial or
None. Later capabilities (blacklist, credit, news) add one function each to ``PUBLISH_RULES``.
Any error inside the gate denies: it fails closed, and the error is logged. So does a database
that is down or slower than the answer budget, with one exception: a running session's on_update
is allowed through an outage younger than LIVEWARD_GATE_UPDATE_GRACE_SECONDS (moderation/gate/faults.py).

One decision costs two statements, each one round trip to the database: the key with its publisher,
category, current agreement (with the version before it and its grace), live session, blacklist match
and the measures held on the publisher and key (one SELECT, compiled once per process and prepared
once per connection in key_lookup.py); then, on an allow, the new stream and its decision written by
one statement (``actions.open_allowed_stream``, a data-modifying CTE on PostgreSQL), on a deny the
decision alone. Neither runs inside a transaction, so no BEGIN or COMMIT travels either: the write
commits by itself, stream and decision together or neither. The rules decide, in Python, on the row
the first statement returns. A news key costs
two more (the publisher's licences, the approved application covering now); the platform's licence
comes from a per-process cache (moderation/licences.py). The credit rule reads the level on the publisher's
row and the credit policy from the process's cache (moderation/credit_policy.py), which costs one more small
query at most every LIVEWARD_CREDIT_POLICY_CACHE_SECONDS; the emergencies in force likewise, at most every
2 s (moderation/emergency_scope.py). A connection's first decision also sends the PREPAREs.
An on_update that allows costs two statements as well (the key, touching the session), and
on_publish_done one (``actions.end_stream_session``, an UPDATE … RETURNING), neither in a transaction.

A key has at most one live session platform-wide. A publish of a key that is live elsewhere is
refused (``LIVEWARD_SECOND_PUBLISH=refuse``) or replaces that session (``replace``, the default),
which costs a transaction and three more queries: ending the old session, recording its cut (a
``replace`` action, dropped at its node after the commit) and reading the key again, so that a
block committed meanwhile denies this publish instead of being replaced by it. Two publishes of one
key at once resolve the same way: the one whose insert loses the unique index decides again.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from moderation import actions, credit_policy, emergency_scope, licences, queries
from moderation.gate import faults
from moderation.gate.key_lookup import load_key
from moderation.gate.nodes import (  # noqa: F401 - rules.* API
    ADDRESS_REFUSED,
    authenticate_node,
    forget_cached_nodes,
    with_fresh_node,
)
from moderation.models import (
    GateDecision,
    MediaServer,
    Publisher,
    PublisherLicence,
    Stream,
    StreamKey,
)

logger = logging.getLogger(__name__)
Reason = GateDecision.Reason


@dataclass(frozen=True)
class PublishRequest:
    """What a media server tells the gate about a publish, normalised across server kinds."""

    node: MediaServer
    key_name: str
    app: str
    client_id: str
    addr: str = ""
    title: str = ""
    args: dict[str, str] = field(default_factory=dict)


@dataclass
class GateContext:
    """What the rules see: the request, the key row (annotated) or None, and the time of asking."""

    request: PublishRequest
    key: StreamKey | None
    now: datetime
    hook: str = GateDecision.Hook.PUBLISH
    # What one rule loaded for a later one (the news rules share the publisher's licences).
    loaded: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Denial:
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class GateOutcome:
    allowed: bool
    reason: str
    detail: str = ""
    stream_id: int | None = None


Rule = Callable[[GateContext], Denial | None]


# --- rules, in the order they are asked -----------------------------------------------------


def key_is_known(ctx: GateContext) -> Denial | None:
    if ctx.key is None:
        return Denial(Reason.UNKNOWN_KEY)
    return None


def key_is_not_revoked(ctx: GateContext) -> Denial | None:
    if ctx.key.status != StreamKey.Status.ACTIVE:
        return Denial(Reason.KEY_REVOKED)
    return None


def publisher_is_not_closed(ctx: GateContext) -> Denial | None:
    if ctx.key.publisher.status == Publisher.Status.CLOSED:
        return Denial(Reason.PUBLISHER_CLOSED)
    return None


def publisher_is_not_blacklisted(ctx: GateContext) -> Denial | None:
    # Annotated by key_queryset with moderation.blacklist_matching's matching code, the one the
    # registration check uses: any identity of the publisher (ID, phone, device, account).
    reference = ctx.key.blacklist_reference
    if reference:
        return Denial(Reason.BLACKLISTED, reference)
    return None


def publisher_is_not_suspended(ctx: GateContext) -> Denial | None:
    publisher = ctx.key.publisher
    if publisher.is_suspended(ctx.now):
        until = publisher.suspended_until.isoformat() if publisher.suspended_until else "further notice"
        return Denial(Reason.PUBLISHER_SUSPENDED, f"until {until}")
    return None


def publisher_is_verified(ctx: GateContext) -> Denial | None:
    if ctx.key.publisher.verification != Publisher.Verification.VERIFIED:
        return Denial(Reason.PUBLISHER_UNVERIFIED)
    return None


def publisher_accepted_current_agreement(ctx: GateContext) -> Denial | None:
    """The version in force, or the one before it while the current version's grace period runs."""
    current = ctx.key.current_agreement_version
    accepted = ctx.key.publisher.agreement_version
    if current is not None and accepted == current:
        return None
    grace_ends = ctx.key.current_agreement_grace_ends
    if accepted and accepted == ctx.key.previous_agreement_version and grace_ends is not None:
        if ctx.now < grace_ends:
            return None
        return Denial(Reason.NO_CURRENT_AGREEMENT, f"current {current}, grace for {accepted} ended")
    return Denial(Reason.NO_CURRENT_AGREEMENT, f"current {current or 'none'}")


def publisher_credit_level_allows(ctx: GateContext) -> Denial | None:
    # The level is on the publisher's row (already loaded); the policy is the process's cached copy.
    level = credit_policy.level_rules(ctx.key.publisher)
    if not level.may_broadcast:
        return Denial(Reason.CREDIT_LEVEL_MAY_NOT_BROADCAST, f"level {level.code}")
    if not level.allows_category(ctx.key.category.slug):
        return Denial(Reason.CREDIT_LEVEL_CATEGORY, f"level {level.code}, category {ctx.key.category.slug}")
    return None


def key_is_not_cooling_off(ctx: GateContext) -> Denial | None:
    """A block's cooling-off denies the blocked key and every other key of its publisher (issued later too)."""
    ends = ctx.key.publisher.cooling_off_ends(ctx.key, ctx.now)
    if ends is not None:
        return Denial(Reason.KEY_COOLING_OFF, f"until {ends.isoformat()}")
    return None


def key_is_not_live_elsewhere(ctx: GateContext) -> Denial | None:
    """Under ``LIVEWARD_SECOND_PUBLISH=refuse``, a key live in another session may not publish again."""
    if ctx.hook != GateDecision.Hook.PUBLISH or ctx.key.live_stream_id is None:
        return None
    if settings.LIVEWARD_SECOND_PUBLISH != "refuse":
        return None  # "replace": decide_publish ends and cuts the other session
    return Denial(Reason.KEY_IN_USE, f"stream {ctx.key.live_stream_id}")


def _stream_properties(ctx: GateContext) -> dict:
    """What an emergency's scope is matched against (moderation/emergency_scope.py)."""
    category, title = ctx.key.category, ctx.request.title or ctx.key.default_title
    account = ctx.key.publisher.platform_account_id
    return {"category_slug": category.slug, "tier": category.risk_tier, "title": title, "account_id": account}


def no_emergency_refuses(ctx: GateContext) -> Denial | None:
    """An emergency in force that refuses new streams in its scope (cached: no query per decision)."""
    if ctx.hook != GateDecision.Hook.PUBLISH:
        return None
    emergency = emergency_scope.refusing(_stream_properties(ctx))
    return Denial(Reason.EMERGENCY, emergency.reference) if emergency is not None else None


def needs_pre_review(ctx: GateContext) -> bool:
    """Tell whether this publish needs an approved application covering now (先审后发).

    News always does; so does every stream of a publisher whose credit level requires pre-review, and
    every new stream in the scope of an emergency in force that requires it.
    """
    return (
        ctx.key.category.is_news
        or credit_policy.level_requires_pre_review(ctx.key.publisher)
        or (ctx.hook == GateDecision.Hook.PUBLISH and emergency_scope.requiring_pre_review(_stream_properties(ctx)))
    )


def news_licences_are_valid(ctx: GateContext) -> Denial | None:
    """For news, both the platform and the publisher hold a news licence in force (Art. 5)."""
    if not ctx.key.category.is_news:
        return None
    if licences.valid_platform_licence(ctx.now) is None:
        return Denial(Reason.PLATFORM_LICENCE_INVALID, licences.platform_licence_problem(ctx.now))
    held_licences = list(PublisherLicence.objects.filter(publisher_id=ctx.key.publisher_id).order_by("-valid_until"))
    ctx.loaded["publisher_licences"] = held_licences
    if licences.valid_publisher_licence(held_licences, ctx.now, licences.PUBLISHER_NEWS_SCOPES) is None:
        return Denial(
            Reason.PUBLISHER_LICENCE_INVALID,
            licences.publisher_licence_problem(held_licences, ctx.now, licences.PUBLISHER_NEWS_SCOPES),
        )
    return None


def approved_application_covers_now(ctx: GateContext) -> Denial | None:
    """An approved application covers now for this key; for news, the publisher's licence has its scope."""
    if not needs_pre_review(ctx):
        return None
    application = queries.approved_application_covering(ctx.key, ctx.now)
    if application is None:
        return Denial(Reason.NEWS_NOT_APPROVED, queries.approval_windows_note(ctx.key, ctx.now))
    if ctx.key.category.is_news:
        held_licences = ctx.loaded.get("publisher_licences")
        if held_licences is None:
            held_licences = list(PublisherLicence.objects.filter(publisher_id=ctx.key.publisher_id))
        scope = application.needed_scope
        if licences.valid_publisher_licence(held_licences, ctx.now, (scope,)) is None:
            return Denial(
                Reason.PUBLISHER_LICENCE_INVALID,
                f"application {application.pk}: "
                + licences.publisher_licence_problem(held_licences, ctx.now, (scope,)),
            )
    return None


PUBLISH_RULES: list[Rule] = [
    key_is_known,
    key_is_not_revoked,
    publisher_is_not_closed,
    publisher_is_not_blacklisted,
    publisher_is_not_suspended,
    publisher_is_verified,
    publisher_accepted_current_agreement,
    publisher_credit_level_allows,
    key_is_not_cooling_off,
    key_is_not_live_elsewhere,
    no_emergency_refuses,
    news_licences_are_valid,
    approved_application_covers_now,
]


def evaluate(ctx: GateContext, rules: list[Rule] | None = None) -> Denial | None:
    """Return the first rule's denial, or None when every rule allows."""
    for rule in PUBLISH_RULES if rules is None else rules:
        denial = rule(ctx)
        if denial is not None:
            return denial
    return None


# --- decisions ------------------------------------------------------------------------------


# Attempts at a publish whose insert lost the key's one live slot to a concurrent publish of the key,
# and sessions one attempt replaces in turn when concurrent publishes of the key keep replacing theirs.
PUBLISH_ATTEMPTS = 3
REPLACE_TURNS = 5


def decide_publish(request: PublishRequest) -> GateOutcome:
    """Decide a publish, open the stream on allow, keep the decision; deny on any error.

    The stream is live only if the node gets this allow: a decision the front answered for first
    (the database held it past the budget) is rolled back, or withdrawn after its commit (faults).
    """
    attempt = 1
    while True:
        opened: list = []  # the stream this attempt opened (its id, or its session while the write is unanswered)
        try:
            return _decide_publish_once(request, opened)
        except IntegrityError as exc:
            # A concurrent publish of the key took its one live slot (the partial unique index)
            # after this decision read the key, or the cached node's row was replaced (removed and
            # registered again under its name): decide again, seeing it, by the same policy.
            fresh = with_fresh_node(request) if attempt < PUBLISH_ATTEMPTS else None
            if fresh is None:
                return _failed_closed(request, exc, opened)
            request, attempt = fresh, attempt + 1
        except Exception as exc:
            return _failed_closed(request, exc, opened)


def _decide_publish_once(request: PublishRequest, opened: list) -> GateOutcome:
    now = timezone.now()
    key = load_key(request.key_name, now)
    denial = evaluate(GateContext(request=request, key=key, now=now))
    if denial is None and key.live_stream_id is not None:
        # The rare path: the key's live session is ended and cut in the transaction that opens this one.
        with transaction.atomic():
            denial = _replace_live_session(request, key, now)
            stream_id = _keep_decision(request, key, denial, now, opened)
    else:
        # The common path, one statement: outside a transaction it commits on its own (no BEGIN/COMMIT).
        stream_id = _keep_decision(request, key, denial, now, opened)
    answered = faults.settle()
    faults.database_answered()
    if denial is None and not answered:
        faults.withdraw(stream_id)
        return GateOutcome(False, Reason.GATE_ERROR, "answered before the database")
    if denial is not None:
        return GateOutcome(False, denial.reason, denial.detail)
    return GateOutcome(True, Reason.ALLOWED, stream_id=stream_id)


def _keep_decision(
    request: PublishRequest, key: StreamKey | None, denial: Denial | None, now: datetime, opened: list
) -> int | None:
    """Write the decision (and on allow, the stream with it) in one statement; return the stream's id."""
    faults.ensure_awaited()  # a decision the front answered for already writes nothing
    if denial is None:
        # Until the statement answers, its outcome is unknown: a lost connection may have committed it.
        opened.append(faults.OpenedSession(request.node.pk, request.client_id, request.key_name, now))
        stream_id = actions.open_allowed_stream(
            key,
            node=request.node,
            app=request.app,
            client_id=request.client_id,
            addr=request.addr,
            title=request.title,
            published_name=request.key_name,
            at=now,
        )
        opened[-1] = stream_id
        return stream_id
    actions.record_gate_decision(
        hook=GateDecision.Hook.PUBLISH,
        allowed=False,
        reason=denial.reason,
        detail=denial.detail,
        node=request.node,
        key_name=request.key_name,
        stream_key_id=key.pk if key else None,
        publisher_id=key.publisher_id if key else None,
        client_id=request.client_id,
        addr=request.addr,
        at=now,
    )
    return None


def _replace_live_session(request: PublishRequest, key: StreamKey, now: datetime) -> Denial | None:
    """End and cut the key's live session for this publish; a denial (nothing ended) if the key turned denied.

    Ending a session waits for whoever holds its row: a block (it locks the stream it cuts) or a
    concurrent publish of the key replacing it first. The key is then read again: a measure committed
    meanwhile denies this publish, and a session another publish opened meanwhile is replaced in turn.
    """
    with transaction.atomic():  # a savepoint, undone on a denial
        live_stream_id = key.live_stream_id
        for _turn in range(REPLACE_TURNS):
            actions.replace_live_session(
                live_stream_id,
                publisher_id=key.publisher_id,
                note=f"replaced by a publish on {request.node.name} (client {request.client_id})",
                at=now,
            )
            fresh = load_key(request.key_name, now)
            denial = evaluate(GateContext(request=request, key=fresh, now=now))
            if denial is not None:
                transaction.set_rollback(True)
                return denial
            if fresh.live_stream_id is None:
                break
            live_stream_id = fresh.live_stream_id
    return None  # after REPLACE_TURNS the insert may still lose the slot: decide_publish decides again


def _failed_closed(request: PublishRequest, exc: Exception, opened: list) -> GateOutcome:
    if opened:
        faults.remember_unsettled(opened[-1])  # a failed commit may still have committed
    _log_failure(exc, "gate failed closed for key %.8s… on node %s", request)
    record_failure(request, GateDecision.Hook.PUBLISH, exc)
    return GateOutcome(False, Reason.GATE_ERROR)


def decide_update(request: PublishRequest) -> GateOutcome:
    """Re-ask the rules for a running session; a denial makes the node end it.

    Fails closed, except that a database outage younger than the grace keeps the session (faults).
    """
    now = timezone.now()
    try:
        # An allow is two statements on their own (the key, the session's touch): no BEGIN/COMMIT.
        key = load_key(request.key_name, now)
        denial = evaluate(GateContext(request=request, key=key, now=now, hook=GateDecision.Hook.UPDATE))
        if denial is None and not actions.touch_stream_session(
            node=request.node, client_id=request.client_id, key_name=request.key_name
        ):
            # A session the console never opened would run unpatrolled: end it.
            denial = Denial(Reason.UNKNOWN_SESSION)
        # A denial's record and the session's end commit together (the only transaction here).
        with transaction.atomic() if denial is not None else contextlib.nullcontext():
            if denial is not None:
                actions.record_gate_decision(
                    hook=GateDecision.Hook.UPDATE,
                    allowed=False,
                    reason=denial.reason,
                    detail=denial.detail,
                    node=request.node,
                    key_name=request.key_name,
                    stream_key_id=key.pk if key else None,
                    publisher_id=key.publisher_id if key else None,
                    stream_id=key.live_stream_id if key else None,
                    client_id=request.client_id,
                    addr=request.addr,
                    at=now,
                )
                # The node ends the session on this answer; the record says why, whatever
                # on_publish_done says later.
                actions.end_stream_session(
                    node=request.node,
                    client_id=request.client_id,
                    key_name=request.key_name,
                    reason=Stream.EndReason.GATE_DENIED,
                )
            faults.ensure_awaited()
    except Exception as exc:
        if faults.keeps_session_through(exc):
            logger.warning("gate update for key %.8s… kept on air: database unavailable", request.key_name)
            return GateOutcome(True, Reason.ALLOWED, "database unavailable")
        _log_failure(exc, "gate update failed closed for key %.8s… on node %s", request)
        record_failure(request, GateDecision.Hook.UPDATE, exc)
        return GateOutcome(False, Reason.GATE_ERROR)
    faults.database_answered()
    if denial is not None:
        return GateOutcome(False, denial.reason, denial.detail)
    return GateOutcome(True, Reason.ALLOWED)


def record_failure(request: PublishRequest, hook: str, exc: Exception) -> None:
    """Keep a gate_error decision if the database still takes writes."""
    try:
        actions.record_gate_decision(
            hook=hook,
            allowed=False,
            reason=Reason.GATE_ERROR,
            detail=type(exc).__name__,
            node=request.node,
            key_name=request.key_name,
            client_id=request.client_id,
            addr=request.addr,
        )
    except Exception:
        logger.exception("could not record the gate failure")


def record_rejected_callback(*, hook: str, node: MediaServer | None, reason: str, detail: str, addr: str) -> None:
    """Keep a decision for a callback refused before the rules ran (bad input, unknown node)."""
    try:
        actions.record_gate_decision(hook=hook, allowed=False, reason=reason, detail=detail, node=node, addr=addr)
    except Exception:
        logger.exception("could not record a rejected gate callback")


def _log_failure(exc: Exception, message: str, request: PublishRequest) -> None:
    if faults.is_database_unavailable(exc):
        faults.database_failed()  # an outage: one line per callback, and the node cache is kept
        logger.warning(message + ": database unavailable (%s)", request.key_name, request.node.name, exc)
    else:
        forget_cached_nodes()  # a node re-registered under the same name must not keep failing
        logger.exception(message, request.key_name, request.node.name)
