"""What is kept and for how long (Art. 14, 16), legal holds, and exports for inspections (docs/records.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moderation.models.publishers import Publisher
from moderation.models.streams import Stream

# Art. 16: what users publish and the logs are kept at least sixty days.
MINIMUM_RETENTION_DAYS = 60


class RecordKind(models.TextChoices):
    """The kinds of record Liveward keeps, each with its own retention."""

    STREAMS = "streams", _("Streams")
    GATE_DECISIONS = "gate_decisions", _("Gate decisions")
    ACTIONS = "actions", _("Actions and their evidence")
    SNAPSHOTS = "snapshots", _("Snapshots")
    COMMENTS = "comments", _("Comments")
    STAFF_LOG = "staff_log", _("Staff action log")
    WEBHOOK_DELIVERIES = "webhook_deliveries", _("Webhook deliveries")
    # The scans sent for a manual real-name review, counted from its decision (never while pending).
    VERIFICATION_SCANS = "verification_scans", _("Verification scans")


# Days each kind is kept unless a compliance admin set otherwise (never under 60).
DEFAULT_RETENTION_DAYS: dict[str, int] = {
    RecordKind.STREAMS: 180,
    RecordKind.GATE_DECISIONS: 60,
    RecordKind.ACTIONS: 365,
    RecordKind.SNAPSHOTS: 60,
    RecordKind.COMMENTS: 60,
    RecordKind.STAFF_LOG: 365,
    RecordKind.WEBHOOK_DELIVERIES: 60,
    RecordKind.VERIFICATION_SCANS: 180,
}


class RetentionRule(models.Model):
    """How many days one kind of record is kept (at least sixty)."""

    kind = models.CharField(_("kind"), max_length=32, choices=RecordKind.choices, unique=True)
    days = models.PositiveIntegerField(_("days kept"))
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )

    class Meta:
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")
        ordering = ["kind"]
        constraints = [
            models.CheckConstraint(condition=Q(days__gte=MINIMUM_RETENTION_DAYS), name="retention_at_least_60_days")
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.days} d"


class LegalHold(models.Model):
    """Keep everything a publisher, a stream or a period covers, whatever its retention, until released."""

    class Scope(models.TextChoices):
        PUBLISHER = "publisher", _("Publisher")
        STREAM = "stream", _("Stream")
        PERIOD = "period", _("Period")

    scope = models.CharField(_("scope"), max_length=16, choices=Scope.choices)
    publisher = models.ForeignKey(
        Publisher, verbose_name=_("publisher"), null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    stream = models.ForeignKey(
        Stream, verbose_name=_("stream"), null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    period_start = models.DateTimeField(_("period start"), null=True, blank=True)
    period_end = models.DateTimeField(_("period end"), null=True, blank=True)
    reason = models.TextField(_("reason"))
    # What the hold covered when it was placed, per kind: the records audit checks none of it went.
    held_counts = models.JSONField(_("records held"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("placed by"), related_name="+", on_delete=models.PROTECT
    )
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("released by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.scope} hold {self.pk}"

    @property
    def in_force(self) -> bool:
        return self.released_at is None


class InspectionExport(models.Model):
    """Records of a period handed to an inspection (配合监督检查): a zip of CSV and JSONL with a manifest."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        BUILDING = "building", _("Building")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    class Kind(models.TextChoices):
        STREAMS = "streams", _("Streams")
        GATE_DECISIONS = "gate_decisions", _("Gate decisions")
        ACTIONS = "actions", _("Actions with evidence digests")
        COMMENTS = "comments", _("Comments")
        STAFF_LOG = "staff_log", _("Staff action log")
        BLACKLIST = "blacklist", _("Blacklist entries")
        CREDIT = "credit", _("Credit events")

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), related_name="+", on_delete=models.PROTECT
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now, db_index=True)
    period_start = models.DateTimeField(_("period start"))
    period_end = models.DateTimeField(_("period end"))
    kinds = models.JSONField(_("kinds"), default=list)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress_done = models.PositiveIntegerField(_("kinds written"), default=0)
    progress_total = models.PositiveIntegerField(_("kinds to write"), default=0)
    file = models.FileField(_("file"), upload_to="inspection-exports/", blank=True)
    sha256 = models.CharField(_("SHA-256 of the zip"), max_length=64, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    rows = models.JSONField(_("rows per file"), default=dict, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("inspection export")
        verbose_name_plural = _("inspection exports")
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"export {self.pk} {self.period_start:%Y-%m-%d}–{self.period_end:%Y-%m-%d}"

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.READY:
            return 100
        return round(100 * self.progress_done / self.progress_total) if self.progress_total else 0
