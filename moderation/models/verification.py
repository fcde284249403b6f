"""Real-name verification (实名认证, Art. 12): each report the platform's backend sends, kept as given."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
