"""Reads of the blacklist: entries for the page and the export, publishers to enforce, overdue reports,
the preview of an entry before it is added, and the removals waiting for a second admin."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from moderation import blacklist_matching as matching
from moderation.blacklist_matching import matching_entries, publisher_pairs
from moderation.identity import RESIDENT_ID, identity_hash, normalise
from moderation.models import BlacklistClosure, BlacklistEntry, Publisher, Stream


def publishers_needing_blacklist_enforcement() -> QuerySet:
    """Publishers matching an entry in force that has not closed (or flagged) them yet, oldest first."""
    unflagged = matching_entries(publisher_pairs()).exclude(
        Exists(BlacklistClosure.objects.filter(entry=OuterRef("pk"), publisher=OuterRef(OuterRef("pk"))))
    )
    return Publisher.objects.filter(Exists(unflagged)).order_by("pk")


def _with_closed_count(entries: QuerySet) -> QuerySet:
    closed = (
        BlacklistClosure.objects.filter(entry=OuterRef("pk"), action__isnull=False)
        .order_by()
        .values("entry")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return entries.annotate(closed_count=Coalesce(Subquery(closed, output_field=IntegerField()), 0))


def blacklist_entries_for_export(*, start: datetime, end: datetime) -> QuerySet:
    """Entries added in [start, end), oldest first, with what the export's columns read."""
    entries = BlacklistEntry.objects.filter(created_at__gte=start, created_at__lt=end).select_related(
        "source_publisher", "author"
    )
    return _with_closed_count(entries).order_by("created_at", "pk")


def blacklist_entries_for_page(*, status: str = "", report: str = "") -> QuerySet:
    """Entries for the blacklist page, newest first, with their author and closed-account count."""
    entries = BlacklistEntry.objects.select_related("author", "removal_requested_by", "source_publisher")
    if status:
        entries = entries.filter(status=status)
    if report:
        entries = entries.filter(report_status=report)
    return _with_closed_count(entries).order_by("-created_at", "-pk")


def overdue_unreported_blacklistings(now: datetime | None = None) -> QuerySet:
    """Entries not yet reported to the provincial office after LIVEWARD_BLACKLIST_REPORT_DAYS."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.LIVEWARD_BLACKLIST_REPORT_DAYS)
    return BlacklistEntry.objects.filter(report_status=BlacklistEntry.Report.UNREPORTED, created_at__lt=cutoff)


@dataclass(frozen=True)
class BlacklistPreview:
    """Who an entry would affect if added now: the accounts it would close and the streams it would cut."""

    publishers: list[Publisher]
    live_streams: list[Stream]

    @property
    def fingerprint(self) -> str:
        """A short digest of the affected accounts: a confirmation for another set is shown again, not applied."""
        ids = ",".join(str(publisher.pk) for publisher in self.publishers)
        return hashlib.sha256(ids.encode()).hexdigest()[:16]


def blacklist_preview(kind: str, value: str, *, document_type: str = RESIDENT_ID) -> BlacklistPreview:
    """Read what adding this identity would close and cut; raise IdentityError for a malformed value."""
    value_hash = identity_hash(kind, normalise(kind, value, document_type=document_type))
    publishers = list(matching.publishers_matching(kind, value_hash).order_by("pk"))
    live = Stream.objects.live().filter(publisher__in=publishers).select_related("publisher", "category")
    return BlacklistPreview(publishers=publishers, live_streams=list(live.order_by("pk")))


def blacklist_removals_waiting(*, exclude_requester: User | None = None) -> QuerySet:
    """Entries in force whose removal waits for a second compliance admin, oldest request first."""
    entries = BlacklistEntry.objects.filter(
        status=BlacklistEntry.Status.ACTIVE, removal_requested_at__isnull=False
    ).select_related("removal_requested_by")
    if exclude_requester is not None:
        entries = entries.exclude(removal_requested_by=exclude_requester)
    return entries.order_by("removal_requested_at", "pk")
