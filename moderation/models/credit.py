"""Publisher credit (信用等级, Art. 15): the versioned policy, its levels, and the events behind a score."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from moderation.models.publishers import Publisher
from moderation.models.records import ModerationAction


class CreditPolicy(models.Model):
    """One version of the credit policy; the highest version is the current one. Rows are never edited."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    score_min = models.IntegerField(_("lowest score"), default=0)
    score_max = models.IntegerField(_("highest score"), default=100)
    # Points each moderation action kind costs, by ModerationAction.Kind value: {"block": 15, …}.
    action_costs = models.JSONField(_("points per action"), default=dict)
    earn_back_points_per_hour = models.PositiveIntegerField(_("points earned per clean broadcasting hour"), default=1)
    earn_back_nightly_cap = models.PositiveIntegerField(_("most points earned back per night"), default=5)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("credit policy")
        verbose_name_plural = _("credit policies")
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"v{self.version}"


class CreditLevel(models.Model):
    """A level of one policy version (A–E …): from which score, and what a publisher at it may do."""

    policy = models.ForeignKey(CreditPolicy, verbose_name=_("policy"), related_name="levels", on_delete=models.CASCADE)
    code = models.CharField(_("code"), max_length=8)
    name = models.CharField(_("name"), max_length=64, blank=True)
    min_score = models.IntegerField(_("from score"))
    may_broadcast = models.BooleanField(_("may broadcast"), default=True)
    # Category slugs a publisher at this level may broadcast in; empty means every category.
    allowed_categories = models.JSONField(_("allowed categories"), default=list, blank=True)
    requires_pre_review = models.BooleanField(_("every stream needs pre-review"), default=False)
    patrol_weight = models.IntegerField(_("patrol priority weight"), default=0)
    # Seconds between snapshots; tightens (never loosens) the category's interval. Empty: the category's.
    snapshot_interval_seconds = models.PositiveIntegerField(_("snapshot interval (s)"), null=True, blank=True)
    # Most concurrent viewers; the platform enforces it. Empty: no cap.
    audience_cap = models.PositiveIntegerField(_("audience cap"), null=True, blank=True)

    class Meta:
        verbose_name = _("credit level")
        verbose_name_plural = _("credit levels")
        ordering = ["policy", "-min_score"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "code"], name="credit_level_code_per_policy"),
            models.UniqueConstraint(fields=["policy", "min_score"], name="credit_level_score_per_policy"),
        ]

    def __str__(self) -> str:
        return self.code


class CreditEvent(models.Model):
    """One change of a publisher's score, with what caused it and the score and level after it."""

    class Kind(models.TextChoices):
        ACTION = "action", _("Moderation action")
        EARN_BACK = "earn_back", _("Clean broadcasting earned back")
        MANUAL = "manual", _("Manual adjustment")
        REVERSAL = "reversal", _("Reversal")
        POLICY = "policy", _("New policy version")

    publisher = models.ForeignKey(
        Publisher, verbose_name=_("publisher"), related_name="credit_events", on_delete=models.PROTECT
    )
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    points = models.IntegerField(_("points"))
    action = models.ForeignKey(
        ModerationAction,
        verbose_name=_("moderation action"),
        null=True,
        blank=True,
        related_name="credit_events",
        on_delete=models.PROTECT,
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    score_after = models.IntegerField(_("score after"))
    level_after = models.CharField(_("level after"), max_length=8)
    policy_version = models.PositiveIntegerField(_("policy version"), default=0)
    # The event that undid this one (an upheld appeal); the reversal points back with ``reverses``.
    reversed_by = models.OneToOneField(
        "self",
        verbose_name=_("reversed by"),
        null=True,
        blank=True,
        related_name="reverses",
        on_delete=models.PROTECT,
    )
    # Earn-back only: the night (local date) it was earned for; one per publisher and night.
    earned_for = models.DateField(_("earned for"), null=True, blank=True)

    class Meta:
        verbose_name = _("credit event")
        verbose_name_plural = _("credit events")
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["publisher", "earned_for"],
                condition=Q(earned_for__isnull=False),
                name="one_earn_back_per_publisher_night",
            ),
            # An action costs its points once, however many times (and from wherever) it is charged.
            models.UniqueConstraint(fields=["action"], condition=Q(kind="action"), name="one_charge_per_action"),
        ]
        indexes = [models.Index(fields=["publisher", "at"], name="credit_event_publisher_at")]

    def __str__(self) -> str:
        return f"{self.publisher_id} {self.points:+d} → {self.score_after}"

    @property
    def reason_text(self) -> str:
        """The reason in the reader's language: stored as a code for the events the console makes (an
        action's kind and reason, the hours earned back), as written for a staff member's adjustment."""
        if self.kind == self.Kind.ACTION and self.action_id is not None:
            action = self.action
            return f"{action.get_kind_display()} · {action.get_reason_display()}"
        if self.kind == self.Kind.EARN_BACK and self.reason.startswith("hours:"):
            hours = self.reason.removeprefix("hours:")
            return gettext("%(hours)s clean broadcasting hours") % {"hours": hours}
        return self.reason
