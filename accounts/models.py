"""Staff users, machine clients' API tokens and the append-only staff action log."""

from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.record_chain import ChainedRecord, RecordChainAnchor


class User(AbstractUser):
    """A member of the platform's compliance staff."""

    display_name = models.CharField(_("display name"), max_length=64, blank=True)
    # Set for an account created with a temporary password: it may do nothing but choose its own.
    must_change_password = models.BooleanField(_("must change password"), default=False)
    # How the console looks for this person, on any computer (static/js/theme.js, the wall's compact
    # switch): blank / None until chosen, when the browser's own remembered choice applies.
    console_theme = models.CharField(
        _("console theme"), max_length=8, blank=True, choices=[("light", _("Light theme")), ("dark", _("Dark theme"))]
    )
    wall_compact = models.BooleanField(_("compact wall"), null=True, blank=True)

    class Meta:
        verbose_name = _("staff user")
        verbose_name_plural = _("staff users")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def role_names(self) -> frozenset[str]:
        """Return the names of the role groups this user belongs to (cached on the instance)."""
        cached = getattr(self, "_role_names", None)
        if cached is None:
            cached = frozenset(self.groups.values_list("name", flat=True)) if self.pk else frozenset()
            self._role_names = cached
        return cached


class StaffActionLog(ChainedRecord):
    """One line of the staff action log: a login, a logout or an action. Append-only and hash-chained."""

    chain_fields = ("at", "actor", "actor_name", "verb", "target_type", "target_id", "data", "ip")

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.PROTECT
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    verb = models.CharField(_("verb"), max_length=64, db_index=True)
    target_type = models.CharField(_("target type"), max_length=64, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("staff action log entry")
        verbose_name_plural = _("staff action log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.verb} {self.target_type}:{self.target_id}"


class Shift(models.Model):
    """A staff member's time on duty (值班), from check-in to check-out, with the handover note (交接班)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("staff member"), related_name="shifts", on_delete=models.PROTECT
    )
    started_at = models.DateTimeField(_("checked in at"), db_index=True)
    ended_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    handover_note = models.TextField(_("handover note"), blank=True)

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=models.Q(ended_at__isnull=True), name="one_open_shift"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.started_at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """One API token of a machine client: a prefix to find it and the SHA-256 of the key, never the key.

    The key is shown once, when it is issued (accounts.api_tokens). A rotated token keeps working
    until ``expires_at`` (the overlap); a revoked one stops at once.
    """

    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("client"), related_name="api_tokens", on_delete=models.CASCADE
    )
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    digest = models.CharField(_("SHA-256 of the key"), max_length=64)
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["client_id", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.client_id})"

    def is_usable(self, now: datetime | None = None) -> bool:
        """Tell whether the token authenticates now: not revoked, not past its overlap."""
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


__all__ = ["ApiToken", "RecordChainAnchor", "Shift", "StaffActionLog", "User"]
