"""Public reports (投诉举报, Art. 19): file, claim, resolve with a measure, dismiss with a reason, find overdue.

A report about a stream (or its publisher, or one of its comments) raises the stream's priority on
the wall and shows in its card's count at once: the action queues the card's delta on commit. The
first response (a claim or a decision) is due by ``respond_by``; the beat check
``find_overdue_reports`` records those that passed it. Resolving links the measure taken (a block or
a warning taken here, or one already taken on the stream) and resolves every other open report
about the same stream with it.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlparse

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import events, permissions, queries, report_intake, text_input
from moderation.actions.patrol import block_stream
from moderation.actions.queue_priority import refresh_queue_priority
from moderation.actions.warnings import warn_publisher
from moderation.errors import ModerationError
from moderation.models import (
    OPEN_REPORT_STATUSES,
    Comment,
    ModerationAction,
    PublicReport,
    Publisher,
    ReportCategory,
    ReportImage,
    Stream,
)

Status = PublicReport.Status
Target = PublicReport.Target
# How far back the "many reports on one stream" alert counts.
SURGE_WINDOW = timedelta(minutes=2)
# Measures a report may be resolved with here (the wall's other measures link afterwards).
RESOLVE_MEASURES = ("block", "warn", "link")
NOTE_MAX = 1000


def _text(value, name: str, *, limit: int, multiline: bool, required: bool) -> str:
    if not isinstance(value, str):
        raise ModerationError(f"{name} must be text", code="bad_field")
    value = value.strip()
    if required and not value:
        raise ModerationError(f"{name} is required", code="bad_field")
    if len(value) > limit:
        raise ModerationError(f"{name} is longer than {limit} characters", code="bad_field")
    try:
        return text_input.check_text(value, name, multiline=multiline)
    except text_input.TextRefused as exc:
        raise ModerationError(str(exc), code="bad_text") from None


def _resolve_target(kind: str, target) -> tuple[int | None, int | None, int | None, str]:
    """Find what the report names (stream, publisher and comment ids, or a URL); an unknown one refuses it.

    Ids only, each in one small query: the report stores references, and the console reads the rest.
    """
    if kind == Target.STREAM:
        if not isinstance(target, int) or isinstance(target, bool) or target < 1:
            raise ModerationError("a stream is named by its id", code="unknown_target")
        found = Stream.objects.filter(pk=target).values_list("pk", "publisher_id").first()
        if found is None:
            raise ModerationError("no such stream", code="unknown_target")
        return found[0], found[1], None, ""
    target = _text(target, "target", limit=300, multiline=False, required=True)
    if kind == Target.PUBLISHER:
        publisher_id = Publisher.objects.filter(platform_account_id=target).values_list("pk", flat=True).first()
        if publisher_id is None:
            raise ModerationError("no such publisher", code="unknown_target")
        live = Stream.objects.live().filter(publisher_id=publisher_id).values_list("pk", flat=True).first()
        return live, publisher_id, None, ""
    if kind == Target.COMMENT:
        comments = Comment.objects.filter(external_id=target)
        found = comments.values_list("pk", "stream_id", "stream__publisher_id").first()
        if found is None:
            raise ModerationError("no such comment", code="unknown_target")
        return found[1], found[2], found[0], ""
    if kind == Target.URL:
        parsed = urlparse(target)
        hosts = settings.LIVEWARD_REPORT_URL_HOSTS
        if parsed.scheme not in ("http", "https") or not parsed.hostname or (hosts and parsed.hostname not in hosts):
            raise ModerationError("the link must be a link to the platform", code="unknown_target")
        return None, None, None, target
    raise ModerationError("target kind must be stream, publisher, comment or url", code="bad_field")


def file_report(
    *,
    source: str,
    target_kind: str,
    target,
    category: str,
    description: str,
    contact: str = "",
    address: str = "",
    device_id: str = "",
    images: list[report_intake.CheckedImage] = (),
) -> PublicReport:
    """Take a report from the public; its stream's card (count, priority) and the report queue update on commit."""
    if source not in PublicReport.Source.values:
        raise ModerationError("unknown source", code="bad_field")
    if category not in ReportCategory.values:
        raise ModerationError("category must be one of " + ", ".join(ReportCategory.values), code="bad_field")
    description = _text(description, "description", limit=report_intake.DESCRIPTION_MAX, multiline=True, required=True)
    contact = _text(contact, "contact", limit=report_intake.CONTACT_MAX, multiline=False, required=False)
    device_id = _text(device_id, "device_id", limit=64, multiline=False, required=False)
    stream_id, publisher_id, comment_id, url = _resolve_target(target_kind, target)
    if PublicReport.objects.filter(status__in=OPEN_REPORT_STATUSES).count() >= settings.LIVEWARD_REPORT_QUEUE_LIMIT:
        raise ModerationError("the report queue is full; try again later", code="queue_full")
    now = timezone.now()
    with transaction.atomic():
        report = PublicReport.objects.create(
            receipt=report_intake.new_receipt(),
            source=source,
            target_kind=target_kind,
            stream_id=stream_id,
            publisher_id=publisher_id,
            comment_id=comment_id,
            url=url,
            category=category,
            description=description,
            contact=contact,
            address=report_intake.address_digest(address),
            device_id=device_id,
            received_at=now,
            respond_by=now + timedelta(seconds=report_intake.deadline_seconds(category)),
        )
        for number, image in enumerate(images, start=1):
            stored = ReportImage(
                report=report, content_type=image.content_type, size=len(image.content), sha256=image.sha256
            )
            stored.file.save(f"{report.receipt}-{number}.{image.extension}", ContentFile(image.content), save=False)
            stored.save()
        if stream_id is not None:
            refresh_queue_priority(stream_ids=[stream_id])
        transaction.on_commit(lambda: _announce_filed(report))
    return report


def announce_report(report_id: int, event: str) -> None:
    """Tell the report queues that a report arrived, changed or became overdue (its row, read now)."""
    for row in queries.report_rows([report_id]):
        events.send_to_group(events.REPORTS_GROUP, event, row)


def _announce_filed(report: PublicReport) -> None:
    # The row is read on the events' thread, with every other report filed meanwhile: one query for
    # a burst, none in the request.
    events.send_row(events.REPORTS_GROUP, events.REPORT_FILED, report.pk, queries.report_rows)
    if report.stream_id is None:
        return
    events.stream_updated(report.stream_id)  # its card: the count and the raised priority
    recent = PublicReport.objects.filter(stream_id=report.stream_id, received_at__gte=report.received_at - SURGE_WINDOW)
    count = recent.count()
    if count == settings.LIVEWARD_REPORT_SURGE:  # once per surge, when it reaches the threshold
        minutes = int(SURGE_WINDOW.total_seconds() // 60)
        events.send_to_group(
            events.QUEUE_GROUP, events.REPORT_SURGE, {"stream": report.stream_id, "count": count, "minutes": minutes}
        )


def _locked_open(report: PublicReport) -> PublicReport:
    locked = PublicReport.objects.select_for_update().filter(pk=report.pk).first()
    if locked is None:
        raise ModerationError("no such report", code="not_found")
    if locked.status not in OPEN_REPORT_STATUSES:
        raise ModerationError("the report has been handled already", code="handled")
    return locked


def claim_report(report: PublicReport, *, actor: User) -> PublicReport:
    """Take the report (its first response): others see who handles it."""
    permissions.check(actor, "report.handle")
    with transaction.atomic():
        report = _locked_open(report)
        if report.status == Status.CLAIMED and report.claimed_by_id != actor.pk:
            raise ModerationError("someone else handles this report", code="claimed")
        now = timezone.now()
        report.status, report.claimed_by, report.claimed_at = Status.CLAIMED, actor, now
        report.first_response_at = report.first_response_at or now
        report.save(update_fields=["status", "claimed_by", "claimed_at", "first_response_at"])
        log_staff_action(actor, "report.claim", target=report)
        transaction.on_commit(lambda: announce_report(report.pk, events.REPORT_CHANGED))
    return report


def resolve_report(
    report: PublicReport, *, actor: User, measure: str, reason: str = "", note: str = "", action_id: int | None = None
) -> PublicReport:
    """Resolve the report with a measure on its stream: a block or warning taken now, or one taken already.

    Every other open report about the same stream is resolved with the same measure.
    """
    permissions.check(actor, "report.handle")
    if measure not in RESOLVE_MEASURES:
        raise ModerationError("measure must be block, warn or link", code="bad_field")
    note = _text(note, "note", limit=NOTE_MAX, multiline=True, required=False)
    with transaction.atomic():
        report = _locked_open(report)
        if report.status == Status.CLAIMED and report.claimed_by_id not in (None, actor.pk):
            raise ModerationError("someone else handles this report", code="claimed")
        if report.stream_id is None and report.publisher_id is None:
            raise ModerationError("this report names no stream or publisher: dismiss it with a reason", code="invalid")
        action = _measure_for(report, actor=actor, measure=measure, reason=reason, note=note, action_id=action_id)
        now = timezone.now()
        same = PublicReport.objects.select_for_update().filter(status__in=OPEN_REPORT_STATUSES)
        same = same.filter(stream_id=report.stream_id) if report.stream_id else same.filter(pk=report.pk)
        resolved = list(same.values_list("pk", flat=True))
        PublicReport.objects.filter(pk__in=resolved, first_response_at__isnull=True).update(first_response_at=now)
        PublicReport.objects.filter(pk__in=resolved).update(
            status=Status.RESOLVED, decided_by=actor, decided_at=now, action=action, decision_note=note
        )
        if report.stream_id is not None:
            refresh_queue_priority(stream_ids=[report.stream_id])
        log_staff_action(actor, "report.resolve", target=report, data={"action": action.pk, "reports": resolved})
        transaction.on_commit(lambda: _announce_decided(resolved, report.stream_id))
    report.refresh_from_db()
    return report


def _measure_for(report: PublicReport, *, actor, measure: str, reason: str, note: str, action_id) -> ModerationAction:
    if measure == "link":
        if not isinstance(action_id, int) or isinstance(action_id, bool):
            raise ModerationError("name the measure taken (its id)", code="bad_field")
        action = ModerationAction.objects.filter(pk=action_id).first()
        if action is None or action.kind == ModerationAction.Kind.MARK_PATROLLED:
            raise ModerationError("no such measure", code="bad_field")
        if action.stream_id != report.stream_id and action.publisher_id != report.publisher_id:
            raise ModerationError("that measure concerns another stream or publisher", code="bad_field")
        return action
    if report.stream_id is None:
        raise ModerationError("the publisher is not live: link a measure taken on their account", code="invalid")
    permissions.check(actor, permissions.action_capability(measure))
    function = block_stream if measure == "block" else warn_publisher
    text = note or f"public report {report.receipt}"
    return function(Stream(pk=report.stream_id), actor=actor, reason=reason, note=text)


def dismiss_report(report: PublicReport, *, actor: User, note: str) -> PublicReport:
    """Close the report without a measure, saying why (the reporter's status page shows that it was handled)."""
    permissions.check(actor, "report.handle")
    note = _text(note, "reason", limit=NOTE_MAX, multiline=True, required=True)
    with transaction.atomic():
        report = _locked_open(report)
        if report.status == Status.CLAIMED and report.claimed_by_id not in (None, actor.pk):
            raise ModerationError("someone else handles this report", code="claimed")
        now = timezone.now()
        report.status, report.decided_by, report.decided_at, report.decision_note = Status.DISMISSED, actor, now, note
        report.first_response_at = report.first_response_at or now
        report.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "first_response_at"])
        if report.stream_id is not None:
            refresh_queue_priority(stream_ids=[report.stream_id])
        log_staff_action(actor, "report.dismiss", target=report)
        transaction.on_commit(lambda: _announce_decided([report.pk], report.stream_id))
    return report


def _announce_decided(report_ids: list[int], stream_id: int | None) -> None:
    for report_id in report_ids:
        announce_report(report_id, events.REPORT_CHANGED)
    if stream_id is not None:
        events.stream_updated(stream_id)


def find_overdue_reports(now=None) -> list[int]:
    """Record the reports whose first response is overdue (the beat check); return their ids."""
    now = now or timezone.now()
    with transaction.atomic():
        due = PublicReport.objects.select_for_update().filter(
            status=Status.OPEN, first_response_at__isnull=True, overdue_at__isnull=True, respond_by__lt=now
        )
        overdue = list(due.values_list("pk", flat=True)[:1000])
        PublicReport.objects.filter(pk__in=overdue).update(overdue_at=now)
        for report_id in overdue:
            transaction.on_commit(lambda report_id=report_id: announce_report(report_id, events.REPORT_OVERDUE))
    return overdue
