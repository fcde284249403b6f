"""Publishers, their stream keys, content categories and the service agreement."""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moderation.models.fields import EncryptedTextField


class Category(models.Model):
    """A content category (新闻, 娱乐, 游戏 …) with its tier settings (分级分类)."""

    slug = models.SlugField(_("slug"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    is_news = models.BooleanField(_("news category"), default=False)
    # 1 = highest risk. The patrol queue orders by tier; snapshots and patrol rounds follow it.
    risk_tier = models.PositiveSmallIntegerField(_("risk tier"), default=3)
    patrol_interval_seconds = models.PositiveIntegerField(_("patrol interval (s)"), default=600)
    snapshot_interval_seconds = models.PositiveIntegerField(_("snapshot interval (s)"), default=60)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["risk_tier", "slug"]

    def __str__(self) -> str:
        return self.name


class ServiceAgreement(models.Model):
    """A version of the service agreement and platform convention (服务协议) publishers must accept."""

    version = models.CharField(_("version"), max_length=32, unique=True)
    title = models.CharField(_("title"), max_length=200)
    effective_at = models.DateTimeField(_("effective at"))
    text = models.TextField(_("text"), blank=True)
    # Until then the gate still accepts the version before this one (宽限期); null: no grace.
    grace_ends_at = models.DateTimeField(_("grace period ends at"), null=True, blank=True)

    class Meta:
        verbose_name = _("service agreement")
        verbose_name_plural = _("service agreements")
        ordering = ["-effective_at"]

    def __str__(self) -> str:
        return self.version


class Publisher(models.Model):
    """A publisher (发布者 / 主播) as registered on the platform."""

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        ORGANISATION = "organisation", _("Organisation")

    class DocumentType(models.TextChoices):
        RESIDENT_ID = "resident_id", _("Resident identity card")
        PASSPORT = "passport", _("Passport")
        HK_MACAO_PERMIT = "hk_macao_permit", _("Mainland travel permit for HK/Macao residents")
        TAIWAN_PERMIT = "taiwan_permit", _("Mainland travel permit for Taiwan residents")
        BUSINESS_LICENCE = "business_licence", _("Business licence")
        ORGANISATION_CODE = "organisation_code", _("Organisation code")

    class Verification(models.TextChoices):
        PENDING = "pending", _("Pending")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")

    class Filing(models.TextChoices):
        NOT_FILED = "not_filed", _("Not filed")
        FILED = "filed", _("Filed")

    class FilingCategory(models.TextChoices):
        PERSON = "person", _("Individual publisher")
        ORGANISATION = "organisation", _("Organisation publisher")
        NEWS = "news", _("News information")
        PERFORMANCE = "performance", _("Performance and audiovisual")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        CLOSED = "closed", _("Closed")

    platform_account_id = models.CharField(_("platform account id"), max_length=64, unique=True)
    display_name = models.CharField(_("display name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PERSON)
    # Real-name identity (Art. 12), encrypted at rest (moderation/identity_cipher.py); shown masked.
    real_name = EncryptedTextField(_("real name"), max_length=100, blank=True)
    document_type = models.CharField(
        _("document type"), max_length=32, choices=DocumentType.choices, default=DocumentType.RESIDENT_ID
    )
    document_number = EncryptedTextField(_("document number"), max_length=64, blank=True)
    phone = EncryptedTextField(_("mobile number"), max_length=32, blank=True)
    organisation_licence_number = EncryptedTextField(_("organisation licence number"), max_length=64, blank=True)
    # Keyed hashes of the normalised identity (moderation/identity.py): the blacklist matches on
    # these, never on the raw values. '' when the value is blank or malformed (matches nothing).
    document_hash = models.CharField(_("document hash"), max_length=64, blank=True, db_index=True)
    phone_hash = models.CharField(_("phone hash"), max_length=64, blank=True, db_index=True)
    account_hash = models.CharField(_("account hash"), max_length=64, blank=True, db_index=True)
    verification = models.CharField(
        _("verification"), max_length=16, choices=Verification.choices, default=Verification.PENDING
    )
    # When the verification the publisher's state came from was performed, and why it failed if it did.
    verification_performed_at = models.DateTimeField(_("verification performed at"), null=True, blank=True)
    verification_note = models.CharField(_("verification note"), max_length=300, blank=True)
    filing = models.CharField(_("filing"), max_length=16, choices=Filing.choices, default=Filing.NOT_FILED)
    # 分类备案: the category the publisher is filed under, when its filed data last changed, when filed.
    filing_category = models.CharField(
        _("filing category"), max_length=16, choices=FilingCategory.choices, default=FilingCategory.PERSON
    )
    filing_changed_at = models.DateTimeField(_("filing data changed at"), null=True, blank=True, db_index=True)
    filed_at = models.DateTimeField(_("filed at"), null=True, blank=True)
    agreement_version = models.CharField(_("agreement version accepted"), max_length=32, blank=True)
    agreement_accepted_at = models.DateTimeField(_("agreement accepted at"), null=True, blank=True)
    credit_score = models.IntegerField(_("credit score"), default=100)
    credit_level = models.CharField(_("credit level"), max_length=8, default="A")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    suspended_until = models.DateTimeField(_("suspended until"), null=True, blank=True)
    # A block's cooling-off (冷却期) holds for every key of the publisher, keys issued later included.
    cooling_off_until = models.DateTimeField(_("cooling-off until"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("publisher")
        verbose_name_plural = _("publishers")
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name

    def cooling_off_ends(self, key: StreamKey | None = None, now=None):
        """Return when a block's cooling-off on this publisher (or on ``key``) ends, or None if none runs."""
        now = now or timezone.now()
        ends = [t for t in (self.cooling_off_until, key.denied_until if key else None) if t is not None and t > now]
        return max(ends) if ends else None

    def is_suspended(self, now=None) -> bool:
        """Tell whether publishing is suspended at ``now``."""
        now = now or timezone.now()
        return self.status == self.Status.SUSPENDED and (self.suspended_until is None or self.suspended_until > now)


def hash_stream_key(key: str) -> str:
    """Return the stored form of a stream key: its SHA-256 (the key is random and long, so unsalted suffices)."""
    return hashlib.sha256(key.encode()).hexdigest()


STREAM_KEY_PREFIX_LENGTH = 6


class StreamKey(models.Model):
    """A publisher's stream key: the name it publishes under at a media server.

    Only the key's SHA-256 and its first characters (to tell keys apart on a page) are stored; the
    key itself is shown once, in the answer that issued it (``issued_key`` on the instance
    ``issue_stream_key`` returns). The gate finds a key by the hash of the name a node presents.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        REVOKED = "revoked", _("Revoked")

    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    key_prefix = models.CharField(_("key prefix"), max_length=STREAM_KEY_PREFIX_LENGTH, blank=True)
    publisher = models.ForeignKey(
        Publisher, verbose_name=_("publisher"), related_name="stream_keys", on_delete=models.PROTECT
    )
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT)
    default_title = models.CharField(_("default title"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # After a block the key stays denied at the gate until then (冷却期); so do the publisher's
    # other keys, through Publisher.cooling_off_until.
    denied_until = models.DateTimeField(_("denied until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("stream key")
        verbose_name_plural = _("stream keys")

    def __str__(self) -> str:
        return f"{self.publisher} / {self.key_prefix}…"
