"""Public reports (投诉举报, Art. 19), emergencies (应急处置, Art. 7) and reports to the authorities (Art. 14)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moderation.models.comments import Comment
from moderation.models.fields import EncryptedTextField, identity_file_storage
from moderation.models.publishers import Publisher
from moderation.models.records import ModerationAction, ReasonCode
from moderation.models.streams import Stream


class ReportCategory(models.TextChoices):
    """What a report is about: the prohibited content of Art. 9, plus minors, fraud and other."""

    NATIONAL_SECURITY = ReasonCode.NATIONAL_SECURITY.value, ReasonCode.NATIONAL_SECURITY.label
    STATE_INTERESTS = ReasonCode.STATE_INTERESTS.value, ReasonCode.STATE_INTERESTS.label
    ETHNIC_HATRED = ReasonCode.ETHNIC_HATRED.value, ReasonCode.ETHNIC_HATRED.label
    RELIGION = ReasonCode.RELIGION.value, ReasonCode.RELIGION.label
    RUMOUR = ReasonCode.RUMOUR.value, ReasonCode.RUMOUR.label
    PORNOGRAPHY = ReasonCode.PORNOGRAPHY.value, ReasonCode.PORNOGRAPHY.label
    GAMBLING = ReasonCode.GAMBLING.value, ReasonCode.GAMBLING.label
    VIOLENCE_TERROR = ReasonCode.VIOLENCE_TERROR.value, ReasonCode.VIOLENCE_TERROR.label
    INSULT_DEFAMATION = ReasonCode.INSULT_DEFAMATION.value, ReasonCode.INSULT_DEFAMATION.label
    PRIVACY = ReasonCode.PRIVACY.value, ReasonCode.PRIVACY.label
    INFRINGEMENT = ReasonCode.INFRINGEMENT.value, ReasonCode.INFRINGEMENT.label
    MINORS = "minors", _("Harms minors")
    FRAUD = ReasonCode.FRAUD.value, ReasonCode.FRAUD.label
    OTHER = "other", _("Other")


class PublicReport(models.Model):
    """One report from the public or the platform's app, with its response clock."""

    class Target(models.TextChoices):
        STREAM = "stream", _("Live stream")
        PUBLISHER = "publisher", _("Publisher")
        COMMENT = "comment", _("Comment")
        URL = "url", _("Platform link")

    class Status(models.TextChoices):
        OPEN = "open", _("Received")
        CLAIMED = "claimed", _("Being handled")
        RESOLVED = "resolved", _("Handled: measures taken")
        DISMISSED = "dismissed", _("Handled: no violation found")

    class Source(models.TextChoices):
        WEB = "web", _("Public page")
        APP = "app", _("Platform app")

    receipt = models.CharField(_("receipt number"), max_length=24, unique=True)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    target_kind = models.CharField(_("reported"), max_length=16, choices=Target.choices)
    stream = models.ForeignKey(
        Stream, verbose_name=_("stream"), null=True, blank=True, related_name="reports", on_delete=models.PROTECT
    )
    publisher = models.ForeignKey(
        Publisher, verbose_name=_("publisher"), null=True, blank=True, related_name="reports", on_delete=models.PROTECT
    )
    comment = models.ForeignKey(
        Comment, verbose_name=_("comment"), null=True, blank=True, related_name="reports", on_delete=models.PROTECT
    )
    url = models.CharField(_("link"), max_length=300, blank=True)
    category = models.CharField(_("category"), max_length=32, choices=ReportCategory.choices)
    description = models.TextField(_("description"))
    # The reporter's contact is identity: shown masked in the console.
    contact = EncryptedTextField(_("contact"), max_length=100, blank=True)
    # Kept to limit floods; never shown to staff in full.
    address = models.CharField(_("reporter address"), max_length=64, blank=True)
    device_id = models.CharField(_("device id"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    respond_by = models.DateTimeField(_("first response due"))
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("found overdue at"), null=True, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("claimed by"), null=True, blank=True, related_name="+",
        on_delete=models.PROTECT,
    )  # fmt: skip
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True, related_name="+",
        on_delete=models.PROTECT,
    )  # fmt: skip
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    action = models.ForeignKey(
        ModerationAction, verbose_name=_("measure"), null=True, blank=True, related_name="reports",
        on_delete=models.PROTECT,
    )  # fmt: skip
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("public report")
        verbose_name_plural = _("public reports")
        ordering = ["respond_by", "pk"]
        indexes = [
            models.Index(fields=["stream", "status"], name="report_stream_status"),
            models.Index(fields=["status", "respond_by"], name="report_status_due"),
        ]

    def __str__(self) -> str:
        return self.receipt

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.CLAIMED)


OPEN_REPORT_STATUSES = (PublicReport.Status.OPEN, PublicReport.Status.CLAIMED)


class ReportImage(models.Model):
    """An image a reporter attached: checked to be an image, stored outside the web root, served to staff only."""

    report = models.ForeignKey(PublicReport, verbose_name=_("report"), related_name="images", on_delete=models.CASCADE)
    file = models.FileField(_("file"), upload_to="reports/%Y/%m/%d/", storage=identity_file_storage)
    content_type = models.CharField(_("content type"), max_length=32)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)

    class Meta:
        verbose_name = _("report image")
        verbose_name_plural = _("report images")
        ordering = ["report", "pk"]

    def __str__(self) -> str:
        return self.file.name


class Emergency(models.Model):
    """An emergency (应急处置): a scope of streams and the measures taken on them until it ends."""

    class Status(models.TextChoices):
        AWAITING_CONFIRMATION = "awaiting", _("Awaiting a second admin's confirmation")
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")
        CANCELLED = "cancelled", _("Cancelled")

    class Measure(models.TextChoices):
        CUT = "cut", _("Cut every matching live stream")
        HOLD_COMMENTS = "hold_comments", _("Hold every comment in scope")
        REFUSE_NEW = "refuse_new", _("Refuse new streams in scope")
        PRE_REVIEW_NEW = "pre_review_new", _("New streams in scope need an approved application (pre-review)")

    reference = models.CharField(_("reference"), max_length=24, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    # {"everything": bool, "categories": [slug], "tiers": [int], "words": [str], "publishers": [account id]}
    scope = models.JSONField(_("scope"), default=dict)
    measures = models.JSONField(_("measures"), default=list)
    reason = models.TextField(_("reason"))
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("declared by"), related_name="+", on_delete=models.PROTECT
    )
    declared_at = models.DateTimeField(_("declared at"), default=timezone.now)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("confirmed by"), null=True, blank=True, related_name="+",
        on_delete=models.PROTECT,
    )  # fmt: skip
    started_at = models.DateTimeField(_("in force from"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("ended by"), null=True, blank=True, related_name="+",
        on_delete=models.PROTECT,
    )  # fmt: skip
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.TextField(_("why it ended"), blank=True)

    class Meta:
        verbose_name = _("emergency")
        verbose_name_plural = _("emergencies")
        ordering = ["-declared_at", "-pk"]

    def __str__(self) -> str:
        return self.reference


class EmergencyCut(models.Model):
    """One live stream an emergency cuts, and how its cut went."""

    class Outcome(models.TextChoices):
        QUEUED = "queued", _("Queued")
        CONFIRMED = "confirmed", _("Cut confirmed")
        PENDING = "pending", _("Cut pending (retrying)")
        GONE = "gone", _("Stream already gone")
        FAILED = "failed", _("Failed")

    emergency = models.ForeignKey(Emergency, verbose_name=_("emergency"), related_name="cuts", on_delete=models.PROTECT)
    stream = models.ForeignKey(Stream, verbose_name=_("stream"), related_name="+", on_delete=models.PROTECT)
    action = models.ForeignKey(
        ModerationAction, verbose_name=_("measure"), null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.QUEUED)
    error = models.CharField(_("error"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("emergency cut")
        verbose_name_plural = _("emergency cuts")
        ordering = ["emergency", "pk"]
        constraints = [models.UniqueConstraint(fields=["emergency", "stream"], name="one_cut_per_stream_and_emergency")]

    def __str__(self) -> str:
        return f"{self.emergency_id}/{self.stream_id} {self.outcome}"


class AuthorityReport(models.Model):
    """A report of a serious violation to the authorities (Art. 14), exported as a signed package."""

    class Status(models.TextChoices):
        DRAFTED = "drafted", _("Drafted")
        SUBMITTED = "submitted", _("Submitted")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")

    reference = models.CharField(_("reference"), max_length=24, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFTED)
    stream = models.ForeignKey(Stream, verbose_name=_("stream"), related_name="+", on_delete=models.PROTECT)
    publisher = models.ForeignKey(Publisher, verbose_name=_("publisher"), related_name="+", on_delete=models.PROTECT)
    summary = models.TextField(_("summary"))
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("filed by"), related_name="+", on_delete=models.PROTECT
    )
    filed_at = models.DateTimeField(_("filed at"), default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), null=True, blank=True, related_name="+",
        on_delete=models.PROTECT,
    )  # fmt: skip
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledgement = models.CharField(_("regulator's acknowledgement"), max_length=200, blank=True)
    # The package's content is fixed when filed (moderation/authority_package.py): every export is the same.
    content = models.JSONField(_("content"), default=dict)

    class Meta:
        verbose_name = _("report to the authorities")
        verbose_name_plural = _("reports to the authorities")
        ordering = ["-filed_at", "-pk"]

    def __str__(self) -> str:
        return self.reference
