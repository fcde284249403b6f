"""Escalations (上报): a patroller's ``e`` asks a compliance admin to look; the inbox's claim and resolution."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EscalationCase(models.Model):
    """The handling of one escalation (a ``ModerationAction`` of kind ``escalate``), made on first claim."""

    class Status(models.TextChoices):
        CLAIMED = "claimed", _("Claimed")
        ACTED = "acted", _("Resolved with a measure")
        DISMISSED = "dismissed", _("Dismissed")

    escalation = models.OneToOneField(
        "moderation.ModerationAction", related_name="escalation_case", on_delete=models.PROTECT
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.CLAIMED)
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="+", on_delete=models.PROTECT)
    claimed_at = models.DateTimeField(_("claimed at"))
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    measure = models.ForeignKey(
        "moderation.ModerationAction", null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")

    def __str__(self) -> str:
        return f"escalation {self.escalation_id}: {self.status}"
