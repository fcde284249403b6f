"""The moderation domain's models. Status fields change only in moderation/actions.py."""

from moderation.models.blacklist import (
    BlacklistClosure,
    BlacklistEntry,
    BlacklistExport,
    IdentityHashState,
    PublisherDevice,
)
from moderation.models.publishers import Category, Publisher, ServiceAgreement, StreamKey
from moderation.models.records import Evidence, ModerationAction, ReasonCode
from moderation.models.snapshots import Snapshot
from moderation.models.streams import GateDecision, MediaServer, Stream, StreamQuerySet, hash_node_secret
from moderation.models.webhooks import WebhookDelivery

__all__ = [
    "BlacklistClosure",
    "BlacklistEntry",
    "BlacklistExport",
    "Category",
    "Evidence",
    "GateDecision",
    "IdentityHashState",
    "MediaServer",
    "ModerationAction",
    "Publisher",
    "PublisherDevice",
    "ReasonCode",
    "ServiceAgreement",
    "Snapshot",
    "Stream",
    "StreamKey",
    "StreamQuerySet",
    "WebhookDelivery",
    "hash_node_secret",
]
