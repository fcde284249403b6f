"""Reads for pages, the API, consumers and events, with their joins done; one module per area.

Callers import the package: ``from moderation import queries; queries.queue_window(...)``. The card and
row payloads consoles receive are built in ``payloads``.
"""

from moderation.queries.audits import (
    audit_label,
    audits_overview,
    finding_alert,
    findings_for_page,
    open_finding_alerts,
    recent_audit_runs,
    unresolved_finding_count,
)
from moderation.queries.blacklist import (
    blacklist_entries_for_export,
    blacklist_entries_for_page,
    overdue_unreported_blacklistings,
    publishers_needing_blacklist_enforcement,
)
from moderation.queries.comments import (
    active_mutes,
    comment_by_id,
    comment_pressure,
    decided_comments,
    held_comments,
    muted_viewers,
    sensitive_terms_for_page,
    term_list_versions,
)
from moderation.queries.credit import (
    PUBLISHER_PAGE_ACTIONS,
    PUBLISHER_PAGE_EVENTS,
    appeal_for_page,
    appeals_for_console,
    credit_policy_history,
    publisher_for_page,
)
from moderation.queries.news import (
    OPEN_NEWS_STATUSES,
    approval_windows_note,
    approved_application_covering,
    licences_expiring_soon,
    news_application_by_id,
    news_application_for_page,
    news_application_rows,
    news_applications_for_queue,
    publisher_licences,
    publisher_news_history,
)
from moderation.queries.payloads import (
    card,
    comment_row,
    news_application_row,
    snapshot_url,
)
from moderation.queries.streams import (
    QUEUE_WINDOW_MAX,
    cards_for_streams,
    claimable,
    claimable_streams,
    live_stream_count,
    live_streams_for_console,
    queue_window,
    streams_claimed_by,
)

__all__ = [
    "OPEN_NEWS_STATUSES",
    "PUBLISHER_PAGE_ACTIONS",
    "PUBLISHER_PAGE_EVENTS",
    "QUEUE_WINDOW_MAX",
    "active_mutes",
    "appeal_for_page",
    "appeals_for_console",
    "approval_windows_note",
    "approved_application_covering",
    "audit_label",
    "audits_overview",
    "blacklist_entries_for_export",
    "blacklist_entries_for_page",
    "card",
    "cards_for_streams",
    "claimable",
    "claimable_streams",
    "comment_by_id",
    "comment_pressure",
    "comment_row",
    "credit_policy_history",
    "decided_comments",
    "finding_alert",
    "findings_for_page",
    "held_comments",
    "licences_expiring_soon",
    "live_stream_count",
    "live_streams_for_console",
    "muted_viewers",
    "news_application_by_id",
    "news_application_for_page",
    "news_application_row",
    "news_application_rows",
    "news_applications_for_queue",
    "open_finding_alerts",
    "overdue_unreported_blacklistings",
    "publisher_for_page",
    "publisher_licences",
    "publisher_news_history",
    "publishers_needing_blacklist_enforcement",
    "queue_window",
    "recent_audit_runs",
    "sensitive_terms_for_page",
    "snapshot_url",
    "streams_claimed_by",
    "term_list_versions",
    "unresolved_finding_count",
]
