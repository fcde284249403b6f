"""The small JSON-safe payloads consoles receive: stream cards, news application rows, held comment rows."""

from datetime import timedelta
from pathlib import PurePosixPath

from django.urls import reverse
from django.utils import timezone

from moderation import sensitive_terms
from moderation.identity import mask_phone
from moderation.models import Snapshot, Stream

# Stored snapshots live under this directory of MEDIA_ROOT; staff get them through the media view.
SNAPSHOT_DIR = "snapshots"


def snapshot_url(snapshot: Snapshot | None) -> str | None:
    """Return the staff-only URL of a snapshot's image, or None when there is none."""
    if snapshot is None or not snapshot.image:
        return None
    name = PurePosixPath(snapshot.image.name)
    if name.parts[:1] != (SNAPSHOT_DIR,):
        return None
    return reverse("media-snapshot", kwargs={"path": str(name.relative_to(SNAPSHOT_DIR))})


def _user_name(user) -> str | None:
    return (user.display_name or user.username) if user is not None else None


def card(stream: Stream) -> dict:
    """The JSON a console shows for one stream (docs/console-protocol.md)."""
    snapshot = stream.latest_snapshot
    state = "ended" if stream.ended_at else ("cut_pending" if getattr(stream, "cut_pending", False) else "live")
    return {
        "id": stream.pk,
        "title": stream.title,
        "publisher": {
            "id": stream.publisher_id,
            "name": stream.publisher.display_name,
            "credit_level": stream.publisher.credit_level,
        },
        "category": {"slug": stream.category.slug, "name": stream.category.name, "is_news": stream.category.is_news},
        "tier": stream.category.risk_tier,
        "priority": getattr(stream, "priority", None),
        "viewers": stream.viewers,
        "started_at": stream.started_at.isoformat(),
        "last_patrolled_at": stream.last_patrolled_at.isoformat() if stream.last_patrolled_at else None,
        "last_patrolled_by": _user_name(stream.last_patrolled_by),
        # When the stream is overdue a patrol (its category's interval after its start or last mark);
        # the wall marks it overdue from then on (docs/audits.md, patrol coverage).
        "patrol_due_at": (
            max(stream.started_at, stream.last_patrolled_at or stream.started_at)
            + timedelta(seconds=stream.category.patrol_interval_seconds)
        ).isoformat(),
        "claimed_by": _user_name(stream.claimed_by),
        "open_reports": getattr(stream, "open_reports", 0),
        "review_flag": stream.review_flag,
        "review_score": stream.review_score,
        # "block" or "review" (what the machine review suggested), None without a flag.
        "review_suggestion": (getattr(stream, "review_suggestion", None) or "review") if stream.review_flag else None,
        "patrol_interval": stream.category.patrol_interval_seconds,
        # A room under pressure (docs/comments.md): the last minute's comments, kept by beat while
        # the rate is at or past the threshold, else None; and whether every comment is held.
        "comments": (
            {
                "per_minute": stream.comments_per_minute,
                "held_share": stream.comments_held_share,
                "blocked_share": stream.comments_blocked_share,
            }
            if stream.comments_per_minute
            else None
        ),
        "comments_hold_all": stream.comments_hold_all,
        "snapshot_url": snapshot_url(snapshot),
        "snapshot_at": snapshot.taken_at.isoformat() if snapshot is not None else None,
        "state": state,
        "end_reason": stream.end_reason or None,
        "node": stream.node.name,
        # The node did not answer the last reconciliation: whether the stream is really live is unknown.
        "node_state": "unknown" if stream.node.unreachable_since else "ok",
    }


def news_application_row(application) -> dict:
    """The JSON a console shows for one application (docs/console-protocol.md, news events)."""

    now = timezone.now()
    return {
        "id": application.pk,
        "title": application.title,
        "status": application.status,
        "status_label": str(application.get_status_display()),
        "origin": application.origin,
        "origin_label": str(application.get_origin_display()),
        "publisher": {
            "id": application.publisher_id,
            "name": application.publisher.display_name,
            "credit_level": application.publisher.credit_level,
        },
        "window_start": application.window_start.isoformat(),
        "window_end": application.window_end.isoformat(),
        "sources": [{"name": source.name, "url": source.url} for source in application.sources.all()],
        "submitted_at": application.submitted_at.isoformat(),
        "licences": [
            {
                "number": licence.number,
                "scopes": licence.scopes,
                "valid_until": licence.valid_until.isoformat(),
                "counts": licence.covers(now),
            }
            for licence in application.publisher.news_licences.all()
        ],
        "news_streams": getattr(application, "publisher_news_streams", None),
    }


def comment_row(comment) -> dict:
    """The JSON a console shows for one held (or just decided) comment."""
    return {
        "id": comment.pk,
        "stream": comment.stream_id,
        "stream_title": comment.stream.title,
        "publisher": comment.stream.publisher.display_name,
        "viewer_id": comment.viewer_id,
        "text": comment.text,
        "status": comment.status,
        "hold_reason": comment.hold_reason,
        "matched_terms": comment.matched_terms,
        "highlights": sensitive_terms.highlight_spans(comment.text, [hit["term"] for hit in comment.matched_terms]),
        "received_at": comment.received_at.isoformat(),
        "snapshot_url": snapshot_url(comment.stream.latest_snapshot) if comment.stream.latest_snapshot_id else None,
    }


def mask_contact(contact: str) -> str:
    """Mask a reporter's contact: an e-mail keeps its first character and domain, anything else as a phone."""
    if not contact:
        return ""
    name, at, domain = contact.partition("@")
    if at:
        return f"{name[:1]}***@{domain}"
    return mask_phone(contact) if len(contact) >= 7 else "***"


def report_row(report) -> dict:
    """The JSON a report queue shows for one report (docs/console-protocol.md, report events)."""
    stream = report.stream
    return {
        "id": report.pk,
        "receipt": report.receipt,
        "status": report.status,
        "status_label": str(report.get_status_display()),
        "category": report.category,
        "category_label": str(report.get_category_display()),
        "target_kind": report.target_kind,
        "stream": {"id": stream.pk, "title": stream.title, "live": stream.ended_at is None} if stream else None,
        "publisher": report.publisher.display_name if report.publisher_id else None,
        "url": report.url,
        "description": report.description[:300],
        "contact": mask_contact(report.contact),
        "images": len(report.images.all()),
        "received_at": report.received_at.isoformat(),
        "respond_by": report.respond_by.isoformat(),
        "first_response_at": report.first_response_at.isoformat() if report.first_response_at else None,
        "overdue": report.overdue_at is not None,
        "claimed_by": _user_name(report.claimed_by),
        "decided_by": _user_name(report.decided_by),
        "action": {"id": report.action_id, "kind": report.action.kind} if report.action_id else None,
    }
