"""News live streams (Art. 5, 7, 10): licences, applications, their sources and the decisions on them."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.record_chain import ChainedRecord
from moderation.models.publishers import Publisher, StreamKey


class LicenceScope(models.TextChoices):
    """The scopes of a 互联网新闻信息服务许可证."""

    GATHERING = "gathering", _("News gathering, editing and publishing (采编发布)")
    REPOSTING = "reposting", _("Reposting (转载)")
    PLATFORM = "platform", _("Dissemination platform (传播平台)")


class LicenceFields(models.Model):
    """What every news-service licence carries: number, scopes and validity."""

    number = models.CharField(_("licence number"), max_length=64)
    # A list of LicenceScope values; a handful per licence, checked in Python.
    scopes = models.JSONField(_("scopes"), default=list)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # The day the audit last warned that the licence expires soon (one alert per licence).
    expiry_alerted_at = models.DateTimeField(_("expiry alerted at"), null=True, blank=True)

    class Meta:
        abstract = True

    def scope_labels(self) -> list[str]:
        return [str(LicenceScope(scope).label) for scope in self.scopes if scope in LicenceScope.values]

    def covers(self, at: datetime, scope: str | None = None) -> bool:
        """Tell whether the licence is in force at ``at`` (and holds ``scope``, if given)."""
        day = timezone.localdate(at)
        in_force = self.valid_from <= day <= self.valid_until and self.is_usable()
        return in_force and (scope is None or scope in self.scopes)

    def is_usable(self) -> bool:
        return True


class PlatformLicence(LicenceFields):
    """The platform's own news-service licence, kept by the compliance admin."""

    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True, related_name="+",
        on_delete=models.PROTECT,
    )  # fmt: skip
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        verbose_name = _("platform news licence")
        verbose_name_plural = _("platform news licences")
        ordering = ["-valid_until", "-id"]

    def __str__(self) -> str:
        return self.number

    def is_usable(self) -> bool:
        return self.withdrawn_at is None


class PublisherLicence(LicenceFields):
    """A publisher's news-service licence with its scan, verified by a compliance admin."""

    class Verification(models.TextChoices):
        PENDING = "pending", _("Pending")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")

    publisher = models.ForeignKey(
        Publisher, verbose_name=_("publisher"), related_name="news_licences", on_delete=models.PROTECT
    )
    scan = models.FileField(_("document scan"), upload_to="licences/%Y/%m/", blank=True)
    scan_sha256 = models.CharField(_("scan SHA-256"), max_length=64, blank=True)
    verification = models.CharField(
        _("verification"), max_length=16, choices=Verification.choices, default=Verification.PENDING
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("verified by"), null=True, blank=True, related_name="+",
        on_delete=models.PROTECT,
    )  # fmt: skip
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verification_note = models.CharField(_("verification note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("publisher news licence")
        verbose_name_plural = _("publisher news licences")
        ordering = ["-valid_until", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["publisher", "number"], name="one_licence_number_per_publisher"),
        ]

    def __str__(self) -> str:
        return f"{self.publisher} / {self.number}"

    def is_usable(self) -> bool:
        return self.verification == self.Verification.VERIFIED


class NewsApplication(models.Model):
    """A news live-stream application (新闻直播申请), submitted by the platform on a publisher's behalf."""

    class Origin(models.TextChoices):
        ORIGINAL = "original", _("Original")
        REPOSTED = "reposted", _("Reposted")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        RECOMMENDED = "recommended", _("Recommended")
        RETURNED = "returned", _("Returned")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        REVOKED = "revoked", _("Revoked")
        LAPSED = "lapsed", _("Lapsed (licence expired)")

    publisher = models.ForeignKey(
        Publisher, verbose_name=_("publisher"), related_name="news_applications", on_delete=models.PROTECT
    )
    stream_key = models.ForeignKey(
        StreamKey, verbose_name=_("stream key"), related_name="news_applications", on_delete=models.PROTECT
    )
    title = models.CharField(_("title"), max_length=200)
    outline = models.TextField(_("outline"))
    window_start = models.DateTimeField(_("window start"))
    window_end = models.DateTimeField(_("window end"))
    origin = models.CharField(_("origin"), max_length=16, choices=Origin.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    # The machine client that submitted it: only that client may read or withdraw it through the API.
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    # The licences the approval relied on: when one expires, the approval lapses.
    platform_licence = models.ForeignKey(
        PlatformLicence, verbose_name=_("platform licence"), null=True, blank=True, related_name="applications",
        on_delete=models.PROTECT,
    )  # fmt: skip
    publisher_licence = models.ForeignKey(
        PublisherLicence, verbose_name=_("publisher licence"), null=True, blank=True, related_name="applications",
        on_delete=models.PROTECT,
    )  # fmt: skip

    class Meta:
        verbose_name = _("news application")
        verbose_name_plural = _("news applications")
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["stream_key", "status", "window_start"], name="news_app_covering")]

    def __str__(self) -> str:
        return self.title

    @property
    def needed_scope(self) -> str:
        """The publisher licence scope this application needs: gathering for original, reposting for reposts."""
        return LicenceScope.REPOSTING if self.origin == self.Origin.REPOSTED else LicenceScope.GATHERING

    def covers(self, at: datetime) -> bool:
        return self.status == self.Status.APPROVED and self.window_start <= at < self.window_end


class NewsSource(models.Model):
    """A source of reposted news (Art. 10): shown prominently, traceable."""

    application = models.ForeignKey(
        NewsApplication, verbose_name=_("application"), related_name="sources", on_delete=models.CASCADE
    )
    name = models.CharField(_("source name"), max_length=200)
    url = models.URLField(_("source URL"), max_length=500)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("news source")
        verbose_name_plural = _("news sources")
        ordering = ["application", "position", "id"]

    def __str__(self) -> str:
        return self.name


class NewsDecision(ChainedRecord):
    """One step in an application's life: who moved it, from what to what, and why. Append-only, hash-chained."""

    chain_fields = ("application", "kind", "actor", "from_status", "to_status", "note", "at")

    class Kind(models.TextChoices):
        SUBMIT = "submit", _("Submitted")
        RECOMMEND = "recommend", _("Recommended")
        RETURN = "return", _("Returned")
        APPROVE = "approve", _("Approved")
        REJECT = "reject", _("Rejected")
        WITHDRAW = "withdraw", _("Withdrawn")
        REVOKE = "revoke", _("Revoked")
        LAPSE = "lapse", _("Lapsed")

    application = models.ForeignKey(
        NewsApplication, verbose_name=_("application"), related_name="decisions", on_delete=models.PROTECT
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, related_name="+",
        on_delete=models.PROTECT,
    )  # fmt: skip
    from_status = models.CharField(_("from status"), max_length=16, blank=True)
    to_status = models.CharField(_("to status"), max_length=16)
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("news decision")
        verbose_name_plural = _("news decisions")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.kind}"
