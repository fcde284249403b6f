"""Publishers' appeals (申诉) against a credit event or a blacklisting, decided by a compliance admin."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moderation.models.credit import CreditEvent
from moderation.models.publishers import Publisher


class Appeal(models.Model):
    """An appeal the platform submitted for a publisher; one per target."""

    class Kind(models.TextChoices):
        CREDIT_EVENT = "credit_event", _("Credit event")
        BLACKLISTING = "blacklisting", _("Blacklisting")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        UPHELD = "upheld", _("Upheld")
        DISMISSED = "dismissed", _("Dismissed")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # The appealed thing's id (a CreditEvent for credit_event; a blacklisting for blacklisting).
    target_id = models.PositiveBigIntegerField(_("target id"))
    credit_event = models.ForeignKey(
        CreditEvent,
        verbose_name=_("credit event"),
        null=True,
        blank=True,
        related_name="appeals",
        on_delete=models.PROTECT,
    )
    publisher = models.ForeignKey(
        Publisher, verbose_name=_("publisher"), related_name="appeals", on_delete=models.PROTECT
    )
    statement = models.TextField(_("publisher's statement"))
    platform_reference = models.CharField(_("platform reference"), max_length=64, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now, db_index=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["-submitted_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["kind", "target_id"], name="one_appeal_per_target")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.target_id}"
