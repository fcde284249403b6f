"""News live streams (Art. 5, 7, 10): licences, applications and the editor-in-chief's decisions.

Every status change of an application happens here, with the row locked (select_for_update) and
its status checked against the transition's starting states: of two editors deciding at once, the
first commits and the second is refused with code ``conflict``. Each decision is kept as a
NewsDecision (actor, note), logged, sent to news consoles and to the platform (signed webhook).
Revoking or withdrawing an approval, or its lapse, cuts the key's live stream the way a block does
(a ``news_cut`` moderation action, cut pending until the node confirms).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import credit_policy, events, licences, permissions, queries
from moderation.actions.patrol import after_commit_cut, keep_evidence
from moderation.actions.webhooks import notify_platform
from moderation.errors import ModerationError
from moderation.models import (
    ModerationAction,
    NewsApplication,
    NewsDecision,
    NewsSource,
    PlatformLicence,
    Publisher,
    PublisherLicence,
    ReasonCode,
    Stream,
    StreamKey,
)

Status = NewsApplication.Status
Decision = NewsDecision.Kind

TITLE_MAX = 200
OUTLINE_MAX = 5000
NOTE_MAX = 1000
SOURCES_MAX = 20
# A window may start a little before it is submitted (clocks differ), and lasts at most this long.
WINDOW_START_SLACK = timedelta(minutes=5)
WINDOW_MAX = timedelta(days=7)


@dataclass(frozen=True)
class Transition:
    from_statuses: tuple[str, ...]
    to_status: str
    note_required: bool = False


# The decisions staff take (permissions.py says who); the platform withdraws, and time lapses.
STAFF_DECISIONS = (Decision.RECOMMEND, Decision.RETURN, Decision.APPROVE, Decision.REJECT, Decision.REVOKE)

TRANSITIONS: dict[str, Transition] = {
    Decision.RECOMMEND: Transition((Status.SUBMITTED,), Status.RECOMMENDED),
    Decision.RETURN: Transition((Status.SUBMITTED,), Status.RETURNED, note_required=True),
    Decision.APPROVE: Transition((Status.SUBMITTED, Status.RECOMMENDED, Status.RETURNED), Status.APPROVED),
    Decision.REJECT: Transition((Status.SUBMITTED, Status.RECOMMENDED, Status.RETURNED), Status.REJECTED, True),
    Decision.REVOKE: Transition((Status.APPROVED,), Status.REVOKED, note_required=True),
    Decision.WITHDRAW: Transition(
        (Status.SUBMITTED, Status.RECOMMENDED, Status.RETURNED, Status.APPROVED), Status.WITHDRAWN
    ),
    Decision.LAPSE: Transition((Status.APPROVED,), Status.LAPSED),
}

# The platform hears of every change it did not make itself (webhook event names, docs/webhooks.md).
WEBHOOK_EVENTS = {
    Decision.RECOMMEND: "news_application.recommended",
    Decision.RETURN: "news_application.returned",
    Decision.APPROVE: "news_application.approved",
    Decision.REJECT: "news_application.rejected",
    Decision.REVOKE: "news_application.revoked",
    Decision.LAPSE: "news_application.lapsed",
}


# --- applications -------------------------------------------------------------------------------


def _clean_sources(origin: str, sources) -> list[tuple[str, str]]:
    sources = list(sources or [])
    if origin == NewsApplication.Origin.REPOSTED and not sources:
        raise ModerationError("reposted news needs each source's name and URL", code="missing_sources")
    if len(sources) > SOURCES_MAX:
        raise ModerationError(f"at most {SOURCES_MAX} sources", code="bad_field")
    validate_url = URLValidator(schemes=["http", "https"])
    cleaned = []
    for name, url in sources:
        name, url = (name or "").strip(), (url or "").strip()
        if not name or len(name) > 200:
            raise ModerationError("each source needs a name of 1–200 characters", code="bad_field")
        try:
            if len(url) > 500:
                raise ValidationError("too long")
            validate_url(url)
        except ValidationError:
            raise ModerationError(f"not an http(s) URL: {url[:100]!r}", code="bad_url") from None
        cleaned.append((name, url))
    return cleaned


def submit_news_application(
    publisher: Publisher,
    *,
    stream_key: StreamKey,
    title: str,
    outline: str,
    window_start: datetime,
    window_end: datetime,
    origin: str,
    sources: list[tuple[str, str]] | None = None,
    actor: User | None,
) -> NewsApplication:
    """Submit a news live-stream application on the publisher's behalf (the platform's backend)."""
    now = timezone.now()
    title, outline = (title or "").strip(), (outline or "").strip()
    if not title or len(title) > TITLE_MAX:
        raise ModerationError(f"a title of 1–{TITLE_MAX} characters is required", code="missing_field")
    if not outline or len(outline) > OUTLINE_MAX:
        raise ModerationError(f"an outline of 1–{OUTLINE_MAX} characters is required", code="missing_field")
    if origin not in NewsApplication.Origin.values:
        raise ModerationError("origin must be original or reposted", code="bad_field")
    if window_end <= window_start:
        raise ModerationError("the window must end after it starts", code="bad_window")
    if window_end <= now or window_start < now - WINDOW_START_SLACK:
        raise ModerationError("the window lies in the past", code="bad_window")
    if window_end - window_start > WINDOW_MAX:
        raise ModerationError(f"a window lasts at most {WINDOW_MAX.days} days", code="bad_window")
    cleaned_sources = _clean_sources(origin, sources)
    with transaction.atomic():
        stream_key = StreamKey.objects.select_related("category", "publisher").get(pk=stream_key.pk)
        if stream_key.publisher_id != publisher.pk:
            raise ModerationError("the stream key belongs to another publisher", code="bad_field")
        if stream_key.status != StreamKey.Status.ACTIVE:
            raise ModerationError("the stream key is revoked", code="bad_field")
        # The level as stored now (the caller's publisher object may predate a credit event).
        if not stream_key.category.is_news and not credit_policy.level_requires_pre_review(stream_key.publisher):
            raise ModerationError(
                "the stream key is not in a news category (and the publisher's level needs no pre-review)",
                code="bad_field",
            )
        application = NewsApplication.objects.create(
            publisher=publisher,
            stream_key=stream_key,
            title=title,
            outline=outline,
            window_start=window_start,
            window_end=window_end,
            origin=origin,
            submitted_at=now,
            updated_at=now,
            submitted_by=actor if actor is not None and actor.pk else None,
        )
        NewsSource.objects.bulk_create(
            NewsSource(application=application, name=name, url=url, position=position)
            for position, (name, url) in enumerate(cleaned_sources)
        )
        NewsDecision.objects.create(
            application=application, kind=Decision.SUBMIT, actor=actor, to_status=Status.SUBMITTED, at=now
        )
        log_staff_action(actor, "news_application.submit", target=application, data={"publisher": publisher.pk})
        transaction.on_commit(lambda: events.news_application_changed(application.pk))
    return application


def _transition(
    application: NewsApplication, *, kind: str, actor: User | None, note: str, check=None
) -> NewsApplication:
    """Lock, check the starting status, move, record the decision; the caller is inside atomic()."""
    transition = TRANSITIONS[kind]
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ModerationError(f"the note is longer than {NOTE_MAX} characters", code="bad_field")
    if transition.note_required and not note:
        raise ModerationError("this decision needs a note", code="missing_field")
    locked = NewsApplication.objects.select_for_update().get(pk=application.pk)
    if locked.status not in transition.from_statuses:
        raise ModerationError(
            f"the application is {locked.status} now; it cannot be {transition.to_status}", code="conflict"
        )
    if check is not None:
        check(locked)
    now = timezone.now()
    previous = locked.status
    locked.status = transition.to_status
    locked.updated_at = now
    locked.save(update_fields=["status", "updated_at", "platform_licence", "publisher_licence"])
    decision = NewsDecision.objects.create(
        application=locked, kind=kind, actor=actor, from_status=previous, to_status=locked.status, note=note, at=now
    )
    log_staff_action(
        actor,
        f"news_application.{kind}",
        target=locked,
        data={"from": previous, "to": locked.status, "note": note[:200]},
    )
    if kind in WEBHOOK_EVENTS:
        notify_platform(
            WEBHOOK_EVENTS[kind],
            {
                "application": locked.pk,
                "publisher": locked.publisher.platform_account_id,
                "stream_key": locked.stream_key_id,
                "status": locked.status,
                "note": note,
                "decided_at": now,
                "window_start": locked.window_start,
                "window_end": locked.window_end,
            },
        )
    transaction.on_commit(lambda: events.news_application_changed(locked.pk))
    locked.last_decision = decision
    return locked


def decide_news_application(application: NewsApplication, *, kind: str, actor: User, note: str = "") -> NewsApplication:
    """Take a reviewer's or the editor-in-chief's decision: recommend, return, approve, reject, revoke."""
    if kind not in STAFF_DECISIONS:
        raise ModerationError("unknown decision", code="bad_field")
    permissions.check(actor, permissions.news_decision_capability(kind))
    check = _check_approval if kind == Decision.APPROVE else None
    with transaction.atomic():
        decided = _transition(application, kind=kind, actor=actor, note=note, check=check)
        if kind == Decision.REVOKE:
            cut_uncovered_news_stream(decided.stream_key_id, actor=actor, note=f"approval {decided.pk} revoked")
    return decided


def _check_approval(application: NewsApplication) -> None:
    """Approve only a window not yet over, with both licences in force now and in scope."""
    now = timezone.now()
    if application.window_end <= now:
        raise ModerationError("the window is over", code="bad_window")
    if not application.stream_key.category.is_news:
        return  # pre-review for the publisher's credit level: no news licence is involved
    platform = licences.valid_platform_licence(now)
    if platform is None:
        raise ModerationError(licences.platform_licence_problem(now), code="licence_invalid")
    held_licences = list(
        PublisherLicence.objects.filter(publisher_id=application.publisher_id).order_by("-valid_until")
    )
    scope = application.needed_scope
    licence = licences.valid_publisher_licence(held_licences, now, (scope,))
    if licence is None:
        raise ModerationError(licences.publisher_licence_problem(held_licences, now, (scope,)), code="licence_invalid")
    application.platform_licence = platform
    application.publisher_licence = licence


def withdraw_news_application(application: NewsApplication, *, actor: User | None, note: str = "") -> NewsApplication:
    """Withdraw an application on the publisher's behalf (the platform's backend); a live approved stream ends."""
    if actor is not None and not permissions.may(actor, "api.platform"):
        raise ModerationError("only the platform withdraws on the publisher's behalf", code="forbidden")
    if actor is not None and not permissions.owns(actor, application.submitted_by_id):
        raise ModerationError("no such application", code="not_found")  # another client's: not even its existence
    with transaction.atomic():
        withdrawn = _transition(application, kind=Decision.WITHDRAW, actor=actor, note=note)
        cut_uncovered_news_stream(withdrawn.stream_key_id, actor=None, note=f"application {withdrawn.pk} withdrawn")
    return withdrawn


def lapse_application(application: NewsApplication, *, note: str) -> NewsApplication:
    """Let an approval lapse because a licence it relied on no longer counts; a live stream ends."""
    with transaction.atomic():
        lapsed = _transition(application, kind=Decision.LAPSE, actor=None, note=note)
        cut_uncovered_news_stream(lapsed.stream_key_id, actor=None, note=note)
    return lapsed


def cut_uncovered_news_stream(stream_key_id: int, *, actor: User | None, note: str) -> ModerationAction | None:
    """Cut the key's live stream unless another approval covers now; the same stored-then-dropped path as a block."""
    now = timezone.now()
    stream = Stream.objects.live().filter(key_id=stream_key_id).first()
    if stream is None or queries.approved_application_covering(stream_key_id, now) is not None:
        return None
    return cut_news_stream(stream, actor=actor, note=note)


def cut_news_stream(stream: Stream, *, actor: User | None, note: str) -> ModerationAction | None:
    """Cut a live news stream that no approval covers (revocation, lapse, the audit); None if gone or pending."""
    with transaction.atomic():
        stream = Stream.objects.select_for_update().select_related("key", "publisher", "node").get(pk=stream.pk)
        if stream.ended_at is not None:
            return None
        if ModerationAction.objects.filter(stream=stream, media_status=ModerationAction.MediaStatus.PENDING).exists():
            return None  # a cut is on its way already
        action = ModerationAction.objects.create(
            actor=actor,
            kind=ModerationAction.Kind.NEWS_CUT,
            stream=stream,
            publisher_id=stream.publisher_id,
            reason=ReasonCode.UNLICENSED_NEWS,
            note=note[:1000],
            media_status=ModerationAction.MediaStatus.PENDING,
        )
        keep_evidence(action, stream)
        log_staff_action(actor, "stream.news_cut", target=stream, data={"action": action.pk, "note": note[:200]})
        action.stamps = {}
        after_commit_cut(action, action.stamps, events.STREAM_BLOCKED, [stream.pk])
    return action


# --- the audit (beat) ---------------------------------------------------------------------------

EXPIRY_ALERT_DAYS = 30


def audit_news_licences(now: datetime | None = None) -> dict[str, int]:
    """Run the news audit: alert on licences expiring soon, lapse approvals on expired ones, cut uncovered news.

    Safe to run twice: an alert is claimed by a conditional UPDATE, a lapse by the status check, a cut
    is skipped while one is pending.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    alerted = 0
    for model, label in ((PlatformLicence, "platform"), (PublisherLicence, "publisher")):
        soon = model.objects.filter(
            valid_until__gte=today, valid_until__lte=today + timedelta(days=EXPIRY_ALERT_DAYS), expiry_alerted_at=None
        )
        if model is PlatformLicence:
            soon = soon.filter(withdrawn_at=None)
        else:
            soon = soon.filter(verification=PublisherLicence.Verification.VERIFIED).select_related("publisher")
        for licence in soon:
            with transaction.atomic():
                if not model.objects.filter(pk=licence.pk, expiry_alerted_at=None).update(expiry_alerted_at=now):
                    continue
                payload = {
                    "kind": label,
                    "licence": licence.pk,
                    "number": licence.number,
                    "valid_until": licence.valid_until.isoformat(),
                    "days_left": (licence.valid_until - today).days,
                    "publisher": licence.publisher.display_name if label == "publisher" else None,
                }
                log_staff_action(None, "licence.expiring", target=licence, data=payload)
                transaction.on_commit(lambda payload=payload: events.licence_alert(events.LICENCE_EXPIRING, payload))
            alerted += 1
    lapsed = 0
    expired = NewsApplication.objects.filter(status=Status.APPROVED).filter(
        Q(platform_licence__valid_until__lt=today)
        | Q(publisher_licence__valid_until__lt=today)
        | Q(platform_licence__withdrawn_at__isnull=False)
    )
    for application in expired.select_related("platform_licence", "publisher_licence"):
        which = application.platform_licence
        if which is None or which.covers(now):
            which = application.publisher_licence
        number = which.number if which is not None else "?"
        try:
            lapse_application(application, note=f"licence {number} expired")
        except ModerationError:
            continue  # decided meanwhile
        transaction.on_commit(
            lambda number=number, application_id=application.pk: events.licence_alert(
                events.LICENCE_EXPIRED, {"number": number, "application": application_id}
            )
        )
        lapsed += 1
    cut = 0
    pre_review_levels = [level.code for level in credit_policy.current_policy().levels if level.requires_pre_review]
    needs_approval = Q(category__is_news=True) | Q(publisher__credit_level__in=pre_review_levels)
    for stream in Stream.objects.live().filter(needs_approval).select_related("key"):
        if cut_uncovered_news_stream(stream.key_id, actor=None, note="audit: no approved application covers now"):
            cut += 1
    return {"alerted": alerted, "lapsed": lapsed, "cut": cut}
