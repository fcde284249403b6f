"""The moderation domain's models. Status fields change only in moderation/actions.py."""

from moderation.models.appeals import Appeal
from moderation.models.audits import AuditRun, Finding
from moderation.models.blacklist import (
    BlacklistClosure,
    BlacklistEntry,
    BlacklistExport,
    IdentityHashState,
    PublisherDevice,
)
from moderation.models.comments import Comment, ViewerMute
from moderation.models.credit import CreditEvent, CreditLevel, CreditPolicy
from moderation.models.escalations import EscalationCase
from moderation.models.news import (
    LicenceScope,
    NewsApplication,
    NewsDecision,
    NewsSource,
    PlatformLicence,
    PublisherLicence,
)
from moderation.models.publishers import Category, Publisher, ServiceAgreement, StreamKey, hash_stream_key
from moderation.models.records import Evidence, ModerationAction, ReasonCode
from moderation.models.reports import (
    OPEN_REPORT_STATUSES,
    AuthorityReport,
    Emergency,
    EmergencyCut,
    PublicReport,
    ReportCategory,
    ReportImage,
)
from moderation.models.retention import (
    DEFAULT_RETENTION_DAYS,
    MINIMUM_RETENTION_DAYS,
    InspectionExport,
    LegalHold,
    RecordKind,
    RetentionRule,
)
from moderation.models.snapshots import Snapshot
from moderation.models.streams import GateDecision, MediaServer, Stream, StreamQuerySet, hash_node_secret
from moderation.models.terms import SensitiveTerm, TermListVersion
from moderation.models.verification import (
    FilingExport,
    VerificationDocument,
    VerificationReport,
    VerificationReview,
)
from moderation.models.webhooks import WebhookDelivery

__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "MINIMUM_RETENTION_DAYS",
    "OPEN_REPORT_STATUSES",
    "Appeal",
    "AuditRun",
    "AuthorityReport",
    "BlacklistClosure",
    "BlacklistEntry",
    "BlacklistExport",
    "Category",
    "Comment",
    "CreditEvent",
    "CreditLevel",
    "CreditPolicy",
    "Emergency",
    "EmergencyCut",
    "EscalationCase",
    "Evidence",
    "FilingExport",
    "Finding",
    "GateDecision",
    "IdentityHashState",
    "InspectionExport",
    "LegalHold",
    "LicenceScope",
    "MediaServer",
    "ModerationAction",
    "NewsApplication",
    "NewsDecision",
    "NewsSource",
    "PlatformLicence",
    "PublicReport",
    "Publisher",
    "PublisherDevice",
    "PublisherLicence",
    "ReasonCode",
    "RecordKind",
    "ReportCategory",
    "ReportImage",
    "RetentionRule",
    "SensitiveTerm",
    "ServiceAgreement",
    "Snapshot",
    "Stream",
    "StreamKey",
    "StreamQuerySet",
    "TermListVersion",
    "VerificationDocument",
    "VerificationReport",
    "VerificationReview",
    "ViewerMute",
    "WebhookDelivery",
    "hash_node_secret",
    "hash_stream_key",
]
