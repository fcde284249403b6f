"""Sensitive terms (敏感词) that decide what happens to a comment or a stream title, in versioned lists."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SensitiveTerm(models.Model):
    """One term of the list: what it is about and what a text that contains it gets."""

    class Category(models.TextChoices):
        POLITICS = "politics", _("Politics")
        PORNOGRAPHY = "pornography", _("Pornography")
        GAMBLING = "gambling", _("Gambling")
        VIOLENCE = "violence", _("Violence and terror")
        FRAUD = "fraud", _("Fraud")
        ADVERTISING = "advertising", _("Advertising and traffic diversion")
        ABUSE = "abuse", _("Abuse and insults")
        MINORS = "minors", _("Protection of minors")
        DRUGS = "drugs", _("Drugs")
        OTHER = "other", _("Other")

    class Action(models.TextChoices):
        BLOCK = "block", _("Block")
        HOLD = "hold", _("Hold for review")
        FLAG = "flag", _("Flag")

    term = models.CharField(_("term"), max_length=64)
    # The term as the matcher sees it (moderation/sensitive_terms.py normalise); one row per form.
    normalised = models.CharField(_("normalised form"), max_length=64, unique=True)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    action = models.CharField(_("action"), max_length=8, choices=Action.choices)
    enabled = models.BooleanField(_("enabled"), default=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("added by"), null=True, blank=True, related_name="+",
        on_delete=models.PROTECT,
    )  # fmt: skip
    added_at = models.DateTimeField(_("added at"), default=timezone.now)
    changed_in_version = models.PositiveIntegerField(_("last changed in version"), default=0)

    class Meta:
        verbose_name = _("sensitive term")
        verbose_name_plural = _("sensitive terms")
        ordering = ["normalised"]

    def __str__(self) -> str:
        return self.term


class TermListVersion(models.Model):
    """One version of the term list: every change to it makes the next number, with what changed."""

    number = models.PositiveIntegerField(_("version"), unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, related_name="+",
        on_delete=models.PROTECT,
    )  # fmt: skip
    summary = models.CharField(_("what changed"), max_length=300)
    enabled_terms = models.PositiveIntegerField(_("enabled terms"), default=0)
    # The enabled terms as a term file (term<TAB>category<TAB>action a line), as they were in this version.
    terms_file = models.TextField(_("terms in this version"), blank=True)

    class Meta:
        verbose_name = _("term list version")
        verbose_name_plural = _("term list versions")
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"v{self.number}"
