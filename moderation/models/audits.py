"""Audits' runs and their findings (docs/audits.md): what each check found, and who handled it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moderation.models.publishers import Publisher
from moderation.models.streams import MediaServer, Stream


class AuditRun(models.Model):
    """One run of one audit: when it started and ended, how far it got, what came of it."""

    class Outcome(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        CLEAN = "clean", _("Nothing found")
        FINDINGS = "findings", _("Findings")
        FAILED = "failed", _("Failed")

    audit = models.CharField(_("audit"), max_length=64, db_index=True)
    # The Celery task's id: a redelivered task (its worker was killed) carries on with the same run.
    task_id = models.CharField(_("task id"), max_length=64, unique=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    queued_at = models.DateTimeField(_("queued at"), default=timezone.now, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    progress_done = models.PositiveIntegerField(_("items checked"), default=0)
    progress_total = models.PositiveIntegerField(_("items to check"), default=0)
    findings_new = models.PositiveIntegerField(_("new findings"), default=0)
    findings_seen = models.PositiveIntegerField(_("findings seen again"), default=0)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("audit run")
        verbose_name_plural = _("audit runs")
        ordering = ["-queued_at", "-id"]

    def __str__(self) -> str:
        return f"{self.audit} {self.queued_at:%Y-%m-%d %H:%M:%S}"

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None

    @property
    def progress_percent(self) -> int:
        if not self.progress_total:
            return 100 if self.is_finished else 0
        return min(100, round(100 * self.progress_done / self.progress_total))


class Finding(models.Model):
    """One problem an audit found, keyed by what it is about; seen again, it is the same finding."""

    class Severity(models.TextChoices):
        INFO = "info", _("Information")
        WARNING = "warning", _("Warning")
        CRITICAL = "critical", _("Critical")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    audit = models.CharField(_("audit"), max_length=64, db_index=True)
    # What the finding is about, e.g. "stream:42:unwatched": an open finding per audit and key.
    key = models.CharField(_("key"), max_length=200)
    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    title = models.CharField(_("title"), max_length=300)
    data = models.JSONField(_("data"), default=dict, blank=True)
    stream = models.ForeignKey(
        Stream, verbose_name=_("stream"), null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    publisher = models.ForeignKey(
        Publisher, verbose_name=_("publisher"), null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    node = models.ForeignKey(
        MediaServer, verbose_name=_("node"), null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    first_run = models.ForeignKey(
        AuditRun, verbose_name=_("first found by"), related_name="findings", on_delete=models.PROTECT
    )
    last_run = models.ForeignKey(AuditRun, verbose_name=_("last seen by"), related_name="+", on_delete=models.PROTECT)
    first_seen_at = models.DateTimeField(_("first seen at"), default=timezone.now, db_index=True)
    last_seen_at = models.DateTimeField(_("last seen at"), default=timezone.now)
    times_seen = models.PositiveIntegerField(_("times seen"), default=1)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution_note = models.TextField(_("resolution note"), blank=True)

    class Meta:
        verbose_name = _("audit finding")
        verbose_name_plural = _("audit findings")
        ordering = ["-first_seen_at", "-id"]
        constraints = [
            # Found again while unresolved, it is the same finding: a rerun never duplicates one.
            models.UniqueConstraint(
                fields=["audit", "key"], condition=~Q(status="resolved"), name="one_unresolved_finding_per_key"
            ),
        ]
        indexes = [models.Index(fields=["status", "severity"], name="finding_status_severity")]

    def __str__(self) -> str:
        return f"{self.audit}: {self.title}"
