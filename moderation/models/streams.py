"""Media-server nodes, live streams and the gate's decisions."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moderation.models.fields import EncryptedTextField
from moderation.models.publishers import Category, Publisher, StreamKey


def hash_node_secret(secret: str) -> str:
    """Return the stored form of a media-server node's callback secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


class MediaServer(models.Model):
    """A media-server node (nginx-rtmp or SRS) that calls the gate and takes drop orders."""

    class Kind(models.TextChoices):
        NGINX_RTMP = "nginx_rtmp", _("nginx-rtmp")
        SRS = "srs", _("SRS")

    name = models.SlugField(_("name"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    control_url = models.URLField(_("control URL"), help_text=_("Base URL of the node's HTTP control/API port."))
    play_url = models.CharField(
        _("play URL"), max_length=300, blank=True, help_text=_("RTMP base URL to pull streams for snapshots.")
    )
    # Where a browser may watch a stream (the stream page's player), through the console's own
    # proxy: the node's HLS playlist (…m3u8) or HTTP-FLV (…flv) URL with {app} and {key} filled in
    # per stream. The key stays on the server; see docs/deploy.md, "Watching streams".
    watch_url = models.CharField(
        _("watch URL"),
        max_length=300,
        blank=True,
        help_text=_("HLS (.m3u8) or HTTP-FLV (.flv) URL template with {app} and {key}, for the stream page's player."),
    )
    secret_hash = models.CharField(_("secret hash"), max_length=64)
    # The addresses (CIDR networks) the node's callbacks may come from; empty: any address that knows
    # the secret. Set through actions.set_media_server_networks (normalised there).
    allowed_networks = models.JSONField(_("allowed networks"), default=list, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Reconciliation (docs/audits.md): when the node last answered what it has live, and since when it
    # has not (its streams show as unknown on the wall meanwhile).
    reconciled_at = models.DateTimeField(_("last reconciled at"), null=True, blank=True)
    unreachable_since = models.DateTimeField(_("unreachable since"), null=True, blank=True)

    class Meta:
        verbose_name = _("media server")
        verbose_name_plural = _("media servers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def secret_matches(self, secret: str) -> bool:
        """Compare a presented secret with the stored hash in constant time."""
        return hmac.compare_digest(self.secret_hash, hash_node_secret(secret))


# In the wall's order, after the priority: streams never patrolled (false sorts first), then the
# longest unpatrolled. Kept as an expression the live-queue index holds (queries/streams.py).
NEVER_PATROLLED_LAST = models.ExpressionWrapper(Q(last_patrolled_at__isnull=False), output_field=models.BooleanField())


class StreamQuerySet(models.QuerySet):
    def live(self) -> StreamQuerySet:
        return self.filter(ended_at__isnull=True)


class Stream(models.Model):
    """One broadcast session (直播), from publish to unpublish on one node."""

    class EndReason(models.TextChoices):
        UNPUBLISHED = "unpublished", _("Publisher stopped")
        REPLACED = "replaced", _("Replaced by a new session of the same key")
        CUT = "cut", _("Cut off")
        GATE_DENIED = "gate_denied", _("No longer allowed by the gate")
        NODE_LOST = "node_lost", _("Node no longer reports it")

    key = models.ForeignKey(StreamKey, verbose_name=_("stream key"), related_name="streams", on_delete=models.PROTECT)
    publisher = models.ForeignKey(
        Publisher, verbose_name=_("publisher"), related_name="streams", on_delete=models.PROTECT
    )
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT)
    node = models.ForeignKey(MediaServer, verbose_name=_("node"), related_name="streams", on_delete=models.PROTECT)
    app = models.CharField(_("application"), max_length=64)
    client_id = models.CharField(_("client id"), max_length=64)
    # The name the node knows the session by (the stream key): needed to drop it (also after it
    # ended, for a cut still pending) and to play it. Encrypted like identity; the key table keeps
    # only the key's hash.
    published_name = EncryptedTextField(_("published name"), max_length=128, blank=True)
    title = models.CharField(_("title"), max_length=200, blank=True)
    addr = models.CharField(_("publisher address"), max_length=64, blank=True)
    viewers = models.PositiveIntegerField(_("viewers"), default=0)
    started_at = models.DateTimeField(_("started at"), default=timezone.now, db_index=True)
    last_update_at = models.DateTimeField(_("last update at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(_("end reason"), max_length=16, choices=EndReason.choices, blank=True)
    last_patrolled_at = models.DateTimeField(_("last patrolled at"), null=True, blank=True)
    # Machine review's latest flag on the stream (raises its priority in the queue).
    review_flag = models.CharField(_("machine-review flag"), max_length=64, blank=True)
    review_score = models.FloatField(_("machine-review score"), null=True, blank=True)
    # The patrol priority computed from its inputs (tier, audience, credit level, flags, open
    # reports: moderation/queries/streams.py), kept by the actions that change them
    # (moderation/actions/queue_priority.py) so the wall reads a window through an index.
    queue_priority = models.IntegerField(_("patrol priority"), default=0)
    latest_snapshot = models.ForeignKey(
        "moderation.Snapshot",
        verbose_name=_("latest snapshot"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    # Who on duty watches this stream now; the claim lapses so no stream goes unwatched.
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("claimed by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    claim_expires_at = models.DateTimeField(_("claim expires at"), null=True, blank=True)
    last_patrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last patrolled by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    # Comments (Art. 11): a room under pressure may hold every comment for review (slow mode), and
    # the sensitive terms the title matched at the gate flag the stream.
    comments_hold_all = models.BooleanField(_("hold every comment"), default=False)
    # The last minute's comment rate and shares held and blocked, kept by beat while the rate is at or
    # past LIVEWARD_COMMENT_PRESSURE_PER_MINUTE (0 below it): the card shows a room under pressure.
    comments_per_minute = models.PositiveIntegerField(_("comments a minute"), default=0)
    comments_held_share = models.FloatField(_("share of comments held"), default=0.0)
    comments_blocked_share = models.FloatField(_("share of comments blocked"), default=0.0)
    title_matched_terms = models.JSONField(_("terms in the title"), default=list, blank=True)

    objects = StreamQuerySet.as_manager()

    class Meta:
        verbose_name = _("stream")
        verbose_name_plural = _("streams")
        ordering = ["-started_at"]
        constraints = [
            # A key has at most one live session: a new publish replaces the old one.
            models.UniqueConstraint(fields=["key"], condition=Q(ended_at__isnull=True), name="one_live_stream_per_key"),
        ]
        indexes = [
            models.Index(fields=["node", "client_id"], name="stream_node_client"),
            models.Index(fields=["ended_at"], name="stream_ended_at"),
            # The wall's order over the live streams (queries.queue_window): a window is read, not sorted.
            # Never patrolled first as "IS NOT NULL" ascending (SQLite has no NULLS FIRST in an index).
            models.Index(
                F("queue_priority").desc(),
                NEVER_PATROLLED_LAST.asc(),
                F("last_patrolled_at").asc(),
                F("started_at").asc(),
                F("id").asc(),
                condition=Q(ended_at__isnull=True),
                name="stream_live_queue_order",
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"stream {self.pk}"

    @property
    def is_live(self) -> bool:
        return self.ended_at is None


class GateDecision(models.Model):
    """One answer of the ingest gate, allow or deny, with its reason."""

    class Hook(models.TextChoices):
        PUBLISH = "publish", _("Publish")
        UPDATE = "update", _("Update")

    class Reason(models.TextChoices):
        ALLOWED = "allowed", _("Allowed")
        BAD_REQUEST = "bad_request", _("Malformed callback")
        UNKNOWN_NODE = "unknown_node", _("Unknown node or bad secret")
        NODE_ADDRESS = "node_address", _("Node called from an address it may not use")
        UNKNOWN_KEY = "unknown_key", _("Unknown stream key")
        KEY_REVOKED = "key_revoked", _("Stream key revoked")
        KEY_COOLING_OFF = "key_cooling_off", _("Stream key in cooling-off after a block")
        KEY_IN_USE = "key_in_use", _("Stream key live in another session")
        PUBLISHER_CLOSED = "publisher_closed", _("Publisher account closed")
        BLACKLISTED = "blacklisted", _("Publisher identity blacklisted")
        PUBLISHER_SUSPENDED = "publisher_suspended", _("Publisher suspended")
        PUBLISHER_UNVERIFIED = "publisher_unverified", _("Publisher identity not verified")
        NO_CURRENT_AGREEMENT = "no_current_agreement", _("Current service agreement not accepted")
        PLATFORM_LICENCE_INVALID = (
            "platform_licence_invalid",
            _("Platform news licence missing, expired or out of scope"),
        )
        PUBLISHER_LICENCE_INVALID = (
            "publisher_licence_invalid",
            _("Publisher news licence missing, expired or out of scope"),
        )
        NEWS_NOT_APPROVED = "news_not_approved", _("No approved news application covers now")
        CREDIT_LEVEL_MAY_NOT_BROADCAST = "credit_no_broadcast", _("Credit level may not broadcast")
        CREDIT_LEVEL_CATEGORY = "credit_category", _("Category not allowed at this credit level")
        EMERGENCY = "emergency", _("Refused by an emergency in force")
        UNKNOWN_SESSION = "unknown_session", _("No open stream for this session")
        GATE_ERROR = "gate_error", _("Gate error (failed closed)")

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    hook = models.CharField(_("hook"), max_length=16, choices=Hook.choices)
    node = models.ForeignKey(
        MediaServer, verbose_name=_("node"), null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    # The key a node presented: its first characters (to tell keys apart) and its SHA-256 (to find
    # every decision on a key, known or not), never the key itself.
    key_name = models.CharField(_("key presented (first characters)"), max_length=8, blank=True)
    key_hash = models.CharField(_("key presented (SHA-256)"), max_length=64, blank=True, db_index=True)
    stream_key = models.ForeignKey(
        StreamKey, verbose_name=_("stream key"), null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    publisher = models.ForeignKey(
        Publisher,
        verbose_name=_("publisher"),
        null=True,
        blank=True,
        related_name="gate_decisions",
        on_delete=models.SET_NULL,
    )
    stream = models.ForeignKey(
        Stream,
        verbose_name=_("stream"),
        null=True,
        blank=True,
        related_name="gate_decisions",
        on_delete=models.SET_NULL,
    )
    client_id = models.CharField(_("client id"), max_length=64, blank=True)
    addr = models.CharField(_("address"), max_length=64, blank=True)
    allowed = models.BooleanField(_("allowed"))
    reason = models.CharField(_("reason"), max_length=32, choices=Reason.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("gate decision")
        verbose_name_plural = _("gate decisions")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%H:%M:%S} {'allow' if self.allowed else 'deny'} {self.key_name[:8]} {self.reason}"
