"""The moderation domain: publishers, keys, streams, categories, media servers, decisions, actions.

Status fields change only in moderation/actions.py.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    """A content category (新闻, 娱乐, 游戏 …) with its tier settings (分级分类)."""

    slug = models.SlugField(_("slug"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    is_news = models.BooleanField(_("news category"), default=False)
    # 1 = highest risk. The patrol queue orders by tier; snapshots and patrol rounds follow it.
    risk_tier = models.PositiveSmallIntegerField(_("risk tier"), default=3)
    patrol_interval_seconds = models.PositiveIntegerField(_("patrol interval (s)"), default=600)
    snapshot_interval_seconds = models.PositiveIntegerField(_("snapshot interval (s)"), default=60)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["risk_tier", "slug"]

    def __str__(self) -> str:
        return self.name


class ServiceAgreement(models.Model):
    """A version of the service agreement and platform convention (服务协议) publishers must accept."""

    version = models.CharField(_("version"), max_length=32, unique=True)
    title = models.CharField(_("title"), max_length=200)
    effective_at = models.DateTimeField(_("effective at"))

    class Meta:
        verbose_name = _("service agreement")
        verbose_name_plural = _("service agreements")
        ordering = ["-effective_at"]

    def __str__(self) -> str:
        return self.version


class Publisher(models.Model):
    """A publisher (发布者 / 主播) as registered on the platform."""

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        ORGANISATION = "organisation", _("Organisation")

    class DocumentType(models.TextChoices):
        RESIDENT_ID = "resident_id", _("Resident identity card")
        PASSPORT = "passport", _("Passport")
        HK_MACAO_PERMIT = "hk_macao_permit", _("Mainland travel permit for HK/Macao residents")
        TAIWAN_PERMIT = "taiwan_permit", _("Mainland travel permit for Taiwan residents")
        BUSINESS_LICENCE = "business_licence", _("Business licence")
        ORGANISATION_CODE = "organisation_code", _("Organisation code")

    class Verification(models.TextChoices):
        PENDING = "pending", _("Pending")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")

    class Filing(models.TextChoices):
        NOT_FILED = "not_filed", _("Not filed")
        FILED = "filed", _("Filed")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        CLOSED = "closed", _("Closed")

    platform_account_id = models.CharField(_("platform account id"), max_length=64, unique=True)
    display_name = models.CharField(_("display name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PERSON)
    # Real-name identity (Art. 12). Plain fields for now; the security work encrypts them.
    real_name = models.CharField(_("real name"), max_length=100, blank=True)
    document_type = models.CharField(
        _("document type"), max_length=32, choices=DocumentType.choices, default=DocumentType.RESIDENT_ID
    )
    document_number = models.CharField(_("document number"), max_length=64, blank=True)
    phone = models.CharField(_("mobile number"), max_length=32, blank=True)
    organisation_licence_number = models.CharField(_("organisation licence number"), max_length=64, blank=True)
    verification = models.CharField(
        _("verification"), max_length=16, choices=Verification.choices, default=Verification.PENDING
    )
    filing = models.CharField(_("filing"), max_length=16, choices=Filing.choices, default=Filing.NOT_FILED)
    agreement_version = models.CharField(_("agreement version accepted"), max_length=32, blank=True)
    agreement_accepted_at = models.DateTimeField(_("agreement accepted at"), null=True, blank=True)
    credit_score = models.IntegerField(_("credit score"), default=100)
    credit_level = models.CharField(_("credit level"), max_length=8, default="A")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    suspended_until = models.DateTimeField(_("suspended until"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("publisher")
        verbose_name_plural = _("publishers")
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name

    def is_suspended(self, now=None) -> bool:
        """Tell whether publishing is suspended at ``now``."""
        now = now or timezone.now()
        return self.status == self.Status.SUSPENDED and (self.suspended_until is None or self.suspended_until > now)


class StreamKey(models.Model):
    """A publisher's stream key: the name it publishes under at a media server."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        REVOKED = "revoked", _("Revoked")

    key = models.CharField(_("key"), max_length=128, unique=True)
    publisher = models.ForeignKey(
        Publisher, verbose_name=_("publisher"), related_name="stream_keys", on_delete=models.PROTECT
    )
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT)
    default_title = models.CharField(_("default title"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # After a block the key stays denied at the gate until then (冷却期).
    denied_until = models.DateTimeField(_("denied until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("stream key")
        verbose_name_plural = _("stream keys")

    def __str__(self) -> str:
        return f"{self.publisher} / {self.key[:6]}…"


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
    secret_hash = models.CharField(_("secret hash"), max_length=64)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("media server")
        verbose_name_plural = _("media servers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def secret_matches(self, secret: str) -> bool:
        """Compare a presented secret with the stored hash in constant time."""
        return hmac.compare_digest(self.secret_hash, hash_node_secret(secret))


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
    title = models.CharField(_("title"), max_length=200, blank=True)
    addr = models.CharField(_("publisher address"), max_length=64, blank=True)
    viewers = models.PositiveIntegerField(_("viewers"), default=0)
    started_at = models.DateTimeField(_("started at"), default=timezone.now, db_index=True)
    last_update_at = models.DateTimeField(_("last update at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(_("end reason"), max_length=16, choices=EndReason.choices, blank=True)
    last_patrolled_at = models.DateTimeField(_("last patrolled at"), null=True, blank=True)
    last_patrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last patrolled by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )

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
        UNKNOWN_KEY = "unknown_key", _("Unknown stream key")
        KEY_REVOKED = "key_revoked", _("Stream key revoked")
        KEY_COOLING_OFF = "key_cooling_off", _("Stream key in cooling-off after a block")
        PUBLISHER_CLOSED = "publisher_closed", _("Publisher account closed")
        PUBLISHER_SUSPENDED = "publisher_suspended", _("Publisher suspended")
        PUBLISHER_UNVERIFIED = "publisher_unverified", _("Publisher identity not verified")
        NO_CURRENT_AGREEMENT = "no_current_agreement", _("Current service agreement not accepted")
        UNKNOWN_SESSION = "unknown_session", _("No open stream for this session")
        GATE_ERROR = "gate_error", _("Gate error (failed closed)")

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    hook = models.CharField(_("hook"), max_length=16, choices=Hook.choices)
    node = models.ForeignKey(
        MediaServer, verbose_name=_("node"), null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    key_name = models.CharField(_("key presented"), max_length=128, blank=True)
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


class ReasonCode(models.TextChoices):
    """Why an action was taken: the prohibited content of Art. 9, plus procedural reasons."""

    NATIONAL_SECURITY = "national_security", _("Endangers national security")
    STATE_INTERESTS = "state_interests", _("Harms national honour and interests")
    ETHNIC_HATRED = "ethnic_hatred", _("Incites ethnic hatred or discrimination")
    RELIGION = "religion", _("Undermines state religious policy, promotes cults or superstition")
    RUMOUR = "rumour", _("Spreads rumours, disturbs social order")
    PORNOGRAPHY = "pornography", _("Obscenity or pornography")
    GAMBLING = "gambling", _("Gambling")
    VIOLENCE_TERROR = "violence_terror", _("Violence, terror or incitement to crime")
    INSULT_DEFAMATION = "insult_defamation", _("Insults or defames others")
    PRIVACY = "privacy", _("Infringes others' privacy or other lawful rights")
    INFRINGEMENT = "infringement", _("Infringes intellectual property")
    FRAUD = "fraud", _("Fraud")
    UNLICENSED_NEWS = "unlicensed_news", _("News without licence or approval")
    OTHER_ILLEGAL = "other_illegal", _("Other content prohibited by laws and regulations")
    PATROLLED = "patrolled", _("Routine patrol, nothing found")


class ModerationAction(models.Model):
    """A record of what staff did (处置记录): who, what, to which stream or publisher, why, outcome."""

    class Kind(models.TextChoices):
        MARK_PATROLLED = "mark_patrolled", _("Marked patrolled")
        WARN = "warn", _("Warning")
        BLOCK = "block", _("Block (cut off)")
        SUSPEND = "suspend", _("Suspend publishing")
        CLOSE = "close", _("Close account")
        ESCALATE = "escalate", _("Escalate")
        LIFT = "lift", _("Lift")

    class MediaStatus(models.TextChoices):
        NOT_APPLICABLE = "n/a", _("No cut needed")
        PENDING = "pending", _("Cut pending")
        CONFIRMED = "confirmed", _("Cut confirmed")
        GONE = "gone", _("Stream already gone")

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        related_name="moderation_actions",
        on_delete=models.PROTECT,
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    stream = models.ForeignKey(
        Stream, verbose_name=_("stream"), null=True, blank=True, related_name="actions", on_delete=models.PROTECT
    )
    publisher = models.ForeignKey(
        Publisher, verbose_name=_("publisher"), null=True, blank=True, related_name="actions", on_delete=models.PROTECT
    )
    reason = models.CharField(_("reason"), max_length=32, choices=ReasonCode.choices)
    note = models.TextField(_("note"), blank=True)
    request_id = models.CharField(_("client request id"), max_length=64, null=True, blank=True, unique=True)
    media_status = models.CharField(
        _("media server outcome"), max_length=16, choices=MediaStatus.choices, default=MediaStatus.NOT_APPLICABLE
    )
    media_confirmed_at = models.DateTimeField(_("media server confirmed at"), null=True, blank=True)
    until = models.DateTimeField(_("effective until"), null=True, blank=True)

    class Meta:
        verbose_name = _("moderation action")
        verbose_name_plural = _("moderation actions")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"
