"""Reports of serious violations to the authorities (Art. 14): file, mark submitted, mark acknowledged.

Filing fixes the report's content (moderation/authority_package.py): the stream, the publisher's
masked identity and filing status, every measure taken on the stream or its publisher with its
evidence and digests, and the compliance admin's summary. The package exported later is built from
that content alone, so it is the same on every download and says what was known when it was filed.
"""

from __future__ import annotations

import secrets

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import permissions, text_input
from moderation.errors import ModerationError
from moderation.identity import mask_document_number, mask_name, mask_phone
from moderation.models import AuthorityReport, ModerationAction, Stream

Status = AuthorityReport.Status
SUMMARY_MAX = 5000
# The measures a report lists: what was done, not routine patrols.
REPORTED_KINDS = [kind for kind in ModerationAction.Kind.values if kind != ModerationAction.Kind.MARK_PATROLLED]


def _content(reference: str, stream: Stream, summary: str, actor: User, at) -> dict:
    publisher = stream.publisher
    measures = (
        ModerationAction.objects.filter(Q(stream=stream) | Q(publisher=publisher), kind__in=REPORTED_KINDS)
        .select_related("actor")
        .prefetch_related("evidence")
        .order_by("at", "pk")
    )
    evidence = []
    listed = []
    for action in measures:
        items = []
        for item in action.evidence.all():
            items.append({"kind": item.kind, "sha256": item.sha256, "file": item.file.name or None})
            if item.kind != "snapshot":
                evidence.append({"action": action.pk, "kind": item.kind, "content": item.content})
        listed.append(
            {
                "id": action.pk,
                "kind": action.kind,
                "at": action.at.isoformat(),
                "by": (action.actor.display_name or action.actor.username) if action.actor else "system",
                "reason": action.reason,
                "note": action.note,
                "media_status": action.media_status,
                "evidence": items,
            }
        )
    report = {
        "reference": reference,
        "filed_at": at.isoformat(),
        "filed_by": actor.display_name or actor.get_username(),
        "summary": summary,
        "stream": {
            "id": stream.pk,
            "title": stream.title,
            "category": stream.category.slug,
            "node": stream.node.name,
            "started_at": stream.started_at.isoformat(),
            "ended_at": stream.ended_at.isoformat() if stream.ended_at else None,
            "end_reason": stream.end_reason,
        },
        "publisher": {
            "platform_account_id": publisher.platform_account_id,
            "display_name": publisher.display_name,
            "kind": publisher.kind,
            "real_name": mask_name(publisher.real_name),
            "document_type": publisher.document_type,
            "document_number": mask_document_number(publisher.document_number, document_type=publisher.document_type),
            "phone": mask_phone(publisher.phone),
            "verification": publisher.verification,
            "filing": publisher.filing,
        },
        "measures": listed,
    }
    return {"report": report, "evidence": evidence}


def file_authority_report(*, actor: User, stream_id: int, summary: str) -> AuthorityReport:
    """Draft a report of the stream's violation to the authorities, its content fixed now."""
    permissions.check(actor, "authority_report.file")
    if not isinstance(summary, str) or not summary.strip() or len(summary) > SUMMARY_MAX:
        raise ModerationError(f"a summary of 1 to {SUMMARY_MAX} characters is required", code="bad_field")
    try:
        summary = text_input.check_text(summary.strip(), "summary", multiline=True)
    except text_input.TextRefused as exc:
        raise ModerationError(str(exc), code="bad_text") from None
    stream = Stream.objects.select_related("publisher", "category", "node").filter(pk=stream_id).first()
    if stream is None:
        raise ModerationError("no such stream", code="not_found")
    now = timezone.now()
    reference = "BG-" + now.strftime("%Y%m%d") + "-" + secrets.token_hex(3).upper()
    with transaction.atomic():
        report = AuthorityReport.objects.create(
            reference=reference,
            stream=stream,
            publisher=stream.publisher,
            summary=summary,
            filed_by=actor,
            filed_at=now,
            content=_content(reference, stream, summary, actor, now),
        )
        log_staff_action(actor, "authority_report.file", target=report, data={"stream": stream.pk})
    return report


def mark_authority_report_submitted(report: AuthorityReport, *, actor: User) -> AuthorityReport:
    """Record that the package went to the regulator's channel."""
    permissions.check(actor, "authority_report.file")
    with transaction.atomic():
        report = AuthorityReport.objects.select_for_update().get(pk=report.pk)
        if report.status != Status.DRAFTED:
            raise ModerationError("only a drafted report can be submitted", code="invalid")
        report.status, report.submitted_by, report.submitted_at = Status.SUBMITTED, actor, timezone.now()
        report.save(update_fields=["status", "submitted_by", "submitted_at"])
        log_staff_action(actor, "authority_report.submit", target=report)
    return report


def mark_authority_report_acknowledged(
    report: AuthorityReport, *, actor: User, acknowledgement: str
) -> AuthorityReport:
    """Record the regulator's acknowledgement (its reference or note)."""
    permissions.check(actor, "authority_report.file")
    if not isinstance(acknowledgement, str) or not acknowledgement.strip() or len(acknowledgement) > 200:
        raise ModerationError("the acknowledgement (1 to 200 characters) is required", code="bad_field")
    try:
        acknowledgement = text_input.check_text(acknowledgement.strip(), "acknowledgement")
    except text_input.TextRefused as exc:
        raise ModerationError(str(exc), code="bad_text") from None
    with transaction.atomic():
        report = AuthorityReport.objects.select_for_update().get(pk=report.pk)
        if report.status != Status.SUBMITTED:
            raise ModerationError("only a submitted report can be acknowledged", code="invalid")
        report.status, report.acknowledged_at, report.acknowledgement = (
            Status.ACKNOWLEDGED,
            timezone.now(),
            acknowledgement,
        )
        report.save(update_fields=["status", "acknowledged_at", "acknowledgement"])
        log_staff_action(actor, "authority_report.acknowledged", target=report)
    return report
