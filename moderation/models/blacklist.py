"""The blacklist (黑名单, Art. 15): identities that may not broadcast or register again.

An entry keeps the keyed hash of a normalised identity value and a masked form for display, never
the raw value (moderation/identity.py). Publishers keep the same hashes, indexed, so matching is an
equality on hashes (moderation/blacklist_matching.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moderation.identity import Kind as IdentityKind
from moderation.models.publishers import Publisher
from moderation.models.records import ModerationAction, ReasonCode


class PublisherDevice(models.Model):
    """A device the platform reports a publisher uses; only its hash and masked form are kept."""

    publisher = models.ForeignKey(
        Publisher, verbose_name=_("publisher"), related_name="devices", on_delete=models.CASCADE
    )
    device_hash = models.CharField(_("device hash"), max_length=64, db_index=True)
    masked = models.CharField(_("device id (masked)"), max_length=140)
    first_seen_at = models.DateTimeField(_("first seen at"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen at"), default=timezone.now)

    class Meta:
        verbose_name = _("publisher device")
        verbose_name_plural = _("publisher devices")
        constraints = [models.UniqueConstraint(fields=["publisher", "device_hash"], name="publisher_device_once")]

    def __str__(self) -> str:
        return self.masked


class BlacklistExport(models.Model):
    """One export of blacklistings to the provincial cyberspace office: files and their manifest."""

    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), related_name="+", on_delete=models.PROTECT
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    entry_count = models.PositiveIntegerField(_("entries"), default=0)
    csv_file = models.FileField(_("CSV file"), upload_to="blacklist-exports/")
    xlsx_file = models.FileField(_("XLSX file"), upload_to="blacklist-exports/")
    manifest = models.TextField(_("SHA-256 manifest"))

    class Meta:
        verbose_name = _("blacklist export")
        verbose_name_plural = _("blacklist exports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.period_start}–{self.period_end}"


class BlacklistEntryQuerySet(models.QuerySet):
    def in_force(self, now=None) -> BlacklistEntryQuerySet:
        """Entries that refuse now: active and not expired."""
        now = now or timezone.now()
        return self.filter(status=BlacklistEntry.Status.ACTIVE).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )


class BlacklistEntry(models.Model):
    """One blacklisted identity: by ID document, mobile number, device or platform account."""

    class Kind(models.TextChoices):
        ID_DOCUMENT = IdentityKind.ID_DOCUMENT, _("Identity document")
        PHONE = IdentityKind.PHONE, _("Mobile number")
        DEVICE = IdentityKind.DEVICE, _("Device id")
        PLATFORM_ACCOUNT = IdentityKind.PLATFORM_ACCOUNT, _("Platform account")

    class Status(models.TextChoices):
        # "Effective" (有效), one word on the page and in the export; not the publisher's "Active" (正常).
        ACTIVE = "active", _("Effective")
        REMOVED = "removed", _("Removed")
        EXPIRED = "expired", _("Expired")

    class Report(models.TextChoices):
        UNREPORTED = "unreported", _("Not reported")
        REPORTED = "reported", _("Reported")

    reference = models.CharField(_("reference"), max_length=32, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    value_hash = models.CharField(_("identity hash"), max_length=64)
    masked_value = models.CharField(_("identity (masked)"), max_length=140)
    reason = models.CharField(_("reason"), max_length=32, choices=ReasonCode.choices)
    note = models.TextField(_("note"), blank=True)
    source_action = models.ForeignKey(
        ModerationAction,
        verbose_name=_("source action"),
        null=True,
        blank=True,
        related_name="blacklist_entries",
        on_delete=models.PROTECT,
    )
    source_publisher = models.ForeignKey(
        Publisher,
        verbose_name=_("source publisher"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, related_name="+", on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True, help_text=_("Empty means permanent."))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    report_status = models.CharField(
        _("report status"), max_length=16, choices=Report.choices, default=Report.UNREPORTED
    )
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    export = models.ForeignKey(
        BlacklistExport,
        verbose_name=_("export"),
        null=True,
        blank=True,
        related_name="entries",
        on_delete=models.PROTECT,
    )
    removal_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("removal requested by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    removal_requested_at = models.DateTimeField(_("removal requested at"), null=True, blank=True)
    removal_reason = models.TextField(_("removal reason"), blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("removal approved by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)

    objects = BlacklistEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("blacklist entry")
        verbose_name_plural = _("blacklist entries")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One active entry per identity; it is also the index every lookup uses.
            models.UniqueConstraint(
                fields=["value_hash", "kind"], condition=Q(status="active"), name="blacklist_active_identity_once"
            ),
        ]
        indexes = [models.Index(fields=["report_status", "created_at"], name="blacklist_report_idx")]

    def __str__(self) -> str:
        return f"{self.reference} {self.masked_value}"

    @property
    def is_permanent(self) -> bool:
        return self.expires_at is None

    def in_force(self, now=None) -> bool:
        """Tell whether the entry refuses now."""
        now = now or timezone.now()
        return self.status == self.Status.ACTIVE and (self.expires_at is None or self.expires_at > now)


class BlacklistClosure(models.Model):
    """A publisher account an entry closed (on adding, or found later by the sweep)."""

    entry = models.ForeignKey(
        BlacklistEntry, verbose_name=_("entry"), related_name="closures", on_delete=models.PROTECT
    )
    publisher = models.ForeignKey(
        Publisher, verbose_name=_("publisher"), related_name="blacklist_closures", on_delete=models.PROTECT
    )
    action = models.ForeignKey(
        ModerationAction, verbose_name=_("close action"), null=True, blank=True, related_name="+",
        on_delete=models.PROTECT,
    )  # fmt: skip
    by_sweep = models.BooleanField(_("found by the sweep"), default=False)
    closed_at = models.DateTimeField(_("closed at"), default=timezone.now)
    reopened_at = models.DateTimeField(_("reopened at"), null=True, blank=True)

    class Meta:
        verbose_name = _("blacklist closure")
        verbose_name_plural = _("blacklist closures")
        ordering = ["-closed_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["entry", "publisher"], name="blacklist_closure_once")]

    def __str__(self) -> str:
        return f"{self.entry_id} → {self.publisher_id}"


class IdentityHashState(models.Model):
    """One row: the fingerprint of the key chain the stored identity hashes were made with.

    ``manage.py rotate_identity_hashes`` reads it to wrap the stored hashes exactly once per new key.
    """

    fingerprint = models.CharField(_("key fingerprint"), max_length=64)
    rotated_at = models.DateTimeField(_("rotated at"), default=timezone.now)

    class Meta:
        verbose_name = _("identity hash state")
        verbose_name_plural = _("identity hash state")

    def __str__(self) -> str:
        return self.fingerprint[:12]
