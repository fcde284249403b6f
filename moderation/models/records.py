"""What staff did (处置记录), and why."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.record_chain import ChainedRecord
from moderation.models.publishers import Publisher
from moderation.models.streams import Stream


class ReasonCode(models.TextChoices):
    """Why an action was taken: the prohibited content of Art. 9, plus procedural reasons."""

    NATIONAL_SECURITY = "national_security", _("Endangers national security")
    STATE_INTERESTS = "state_interests", _("Harms national honour and interests")
    ETHNIC_HATRED = "ethnic_hatred", _("Incites ethnic hatred or discrimination")
    RELIGION = "religion", _("Undermines state religious policy, promotes cults or superstition")
    RUMOUR = "rumour", _("Spreads rumours, disturbs social order")
    PORNOGRAPHY = "pornography", _("Obscenity or pornography")
    GAMBLING = "gambling", _("Gambling")
    VIOLENCE_TERROR = "violence_terror", _("Violence, terror or incitement to crime")
    INSULT_DEFAMATION = "insult_defamation", _("Insults or defames others")
    PRIVACY = "privacy", _("Infringes others' privacy or other lawful rights")
    INFRINGEMENT = "infringement", _("Infringes intellectual property")
    FRAUD = "fraud", _("Fraud")
    UNLICENSED_NEWS = "unlicensed_news", _("News without licence or approval")
    OTHER_ILLEGAL = "other_illegal", _("Other content prohibited by laws and regulations")
    PATROLLED = "patrolled", _("Routine patrol, nothing found")


class ModerationAction(ChainedRecord):
    """A record of what staff did (处置记录): who, what, to which stream or publisher, why, outcome.

    Append-only and hash-chained (accounts/record_chain.py); only the media server's answer to the
    cut (status, confirmation time, attempts, last error) and the acknowledgement's timings change
    after insert, and the chain leaves them out.
    """

    chain_fields = ("at", "actor", "kind", "stream", "publisher", "reason", "note", "request_id", "until")
    mutable_fields = ("media_status", "media_confirmed_at", "media_attempts", "media_last_error", "timings")

    class Kind(models.TextChoices):
        MARK_PATROLLED = "mark_patrolled", _("Marked patrolled")
        WARN = "warn", _("Warning")
        BLOCK = "block", _("Cut the stream")  # one name for the action, its button and its record (docs/glossary.md)
        SUSPEND = "suspend", _("Suspend publishing")
        CLOSE = "close", _("Close account")
        ESCALATE = "escalate", _("Escalate")
        LIFT = "lift", _("Lift")
        NEWS_CUT = "news_cut", _("Cut (news approval ended)")
        # The gate's, not staff's: a new publish of the key replaced this session, which is cut.
        REPLACE = "replace", _("Earlier session cut (key published again)")

    class MediaStatus(models.TextChoices):
        NOT_APPLICABLE = "n/a", _("No cut needed")
        PENDING = "pending", _("Cut pending")
        CONFIRMED = "confirmed", _("Cut confirmed")
        GONE = "gone", _("Stream already gone")

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        related_name="moderation_actions",
        on_delete=models.PROTECT,
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    stream = models.ForeignKey(
        Stream, verbose_name=_("stream"), null=True, blank=True, related_name="actions", on_delete=models.PROTECT
    )
    publisher = models.ForeignKey(
        Publisher, verbose_name=_("publisher"), null=True, blank=True, related_name="actions", on_delete=models.PROTECT
    )
    reason = models.CharField(_("reason"), max_length=32, choices=ReasonCode.choices)
    note = models.TextField(_("note"), blank=True)
    request_id = models.CharField(_("client request id"), max_length=64, null=True, blank=True, unique=True)
    media_status = models.CharField(
        _("media server outcome"), max_length=16, choices=MediaStatus.choices, default=MediaStatus.NOT_APPLICABLE
    )
    media_confirmed_at = models.DateTimeField(_("media server confirmed at"), null=True, blank=True)
    until = models.DateTimeField(_("effective until"), null=True, blank=True)
    media_attempts = models.PositiveSmallIntegerField(_("drop attempts"), default=0)
    media_last_error = models.CharField(_("last drop error"), max_length=300, blank=True)
    # Server-side timings for the clicker's acknowledgement (received, stored, confirmed, broadcast).
    timings = models.JSONField(_("timings"), default=dict, blank=True)

    class Meta:
        verbose_name = _("moderation action")
        verbose_name_plural = _("moderation actions")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class Evidence(models.Model):
    """One piece of evidence kept with an action: a snapshot, the last comments, the stream's metadata."""

    class Kind(models.TextChoices):
        SNAPSHOT = "snapshot", _("Snapshot")
        COMMENTS = "comments", _("Last comments")
        METADATA = "metadata", _("Stream metadata")

    action = models.ForeignKey(
        ModerationAction, verbose_name=_("action"), related_name="evidence", on_delete=models.PROTECT
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # JSON for metadata and comments; for a snapshot, its stored file's name and size.
    content = models.JSONField(_("content"), default=dict)
    file = models.FileField(_("file"), upload_to="evidence/%Y/%m/%d/", blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["action", "kind"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.sha256[:12]}"
