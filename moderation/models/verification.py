"""Real-name verification (实名认证, Art. 12): each report the platform's backend sends, kept as given."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moderation.models.fields import identity_file_storage


class VerificationReport(models.Model):
    """One verification the platform performed (or a manual review decided), and whether it was applied.

    A report is unique by its provider and the provider's reference, so a replay is refused; a report
    older than the one the publisher's state came from is refused too (docs/onboarding.md).
    """

    class Method(models.TextChoices):
        ID_FACE = "id_face", _("ID document and face match")
        MOBILE = "mobile", _("Mobile number")
        ORGANISATION_LICENCE = "organisation_licence", _("Organisation licence")
        MANUAL_REVIEW = "manual_review", _("Manual review")

    class Result(models.TextChoices):
        VERIFIED = "verified", _("Verified")
        FAILED = "failed", _("Failed")

    publisher = models.ForeignKey(
        "moderation.Publisher",
        verbose_name=_("publisher"),
        related_name="verification_reports",
        on_delete=models.PROTECT,
    )
    method = models.CharField(_("method"), max_length=32, choices=Method.choices)
    provider = models.CharField(_("provider"), max_length=64)
    reference = models.CharField(_("provider reference"), max_length=128)
    result = models.CharField(_("result"), max_length=16, choices=Result.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    performed_at = models.DateTimeField(_("performed at"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )

    class Meta:
        verbose_name = _("verification report")
        verbose_name_plural = _("verification reports")
        ordering = ["-performed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "reference"], name="verification_report_once"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}/{self.reference}: {self.result}"


class VerificationReview(models.Model):
    """A verification the platform sends for manual review (人工审核): its documents, and the decision.

    A person's review is decided by one compliance admin; an organisation's needs two different ones
    (four-eyes): the first approval leaves it ``first_approved``, the second decides it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending review")
        FIRST_APPROVED = "first_approved", _("Approved once, needs a second admin")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    publisher = models.ForeignKey(
        "moderation.Publisher",
        verbose_name=_("publisher"),
        related_name="verification_reviews",
        on_delete=models.PROTECT,
    )
    reference = models.CharField(_("platform reference"), max_length=128, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now, db_index=True)
    # The machine client that sent it: only that client may read it through the API.
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    first_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    first_approved_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    report = models.OneToOneField(
        VerificationReport, null=True, blank=True, related_name="review", on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("verification review")
        verbose_name_plural = _("verification reviews")
        ordering = ["submitted_at", "id"]

    def __str__(self) -> str:
        return f"{self.reference}: {self.status}"


class VerificationDocument(models.Model):
    """One scan submitted with a review (image or PDF), kept with its SHA-256, served to staff only."""

    review = models.ForeignKey(VerificationReview, related_name="documents", on_delete=models.PROTECT)
    name = models.CharField(_("name"), max_length=100)
    content_type = models.CharField(_("content type"), max_length=32)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    file = models.FileField(_("file"), upload_to="verification/%Y/%m/", storage=identity_file_storage)

    class Meta:
        verbose_name = _("verification document")
        verbose_name_plural = _("verification documents")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class FilingExport(models.Model):
    """One filing (分类备案, Art. 12) for the provincial office: the publishers new or changed in a period."""

    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="+", on_delete=models.PROTECT)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    publisher_count = models.PositiveIntegerField(_("publishers"), default=0)
    csv_file = models.FileField(_("CSV file"), upload_to="filing-exports/")
    xlsx_file = models.FileField(_("XLSX file"), upload_to="filing-exports/")
    manifest = models.TextField(_("SHA-256 manifest"))

    class Meta:
        verbose_name = _("filing export")
        verbose_name_plural = _("filing exports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.period_start}–{self.period_end}"
