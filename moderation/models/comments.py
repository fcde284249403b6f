"""Comments and bullet comments (评论/弹幕, Art. 11) pushed by the platform, with their verdicts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moderation.models.streams import Stream


class Comment(models.Model):
    """One viewer's comment on a stream, published at once or held until staff decide."""

    class Status(models.TextChoices):
        PUBLISHED = "published", _("Published")
        HELD = "held", _("Held for review")
        RELEASED = "released", _("Released")
        REJECTED = "rejected", _("Rejected")
        BLOCKED = "blocked", _("Blocked automatically")
        REMOVED = "removed", _("Removed by staff")

    class HoldReason(models.TextChoices):
        NONE = "", _("None")
        NEWS_PRE_REVIEW = "news_pre_review", _("News stream: reviewed before publication")
        CREDIT_PRE_REVIEW = "credit_pre_review", _("Publisher's credit level: reviewed before publication")
        SLOW_MODE = "slow_mode", _("Stream in hold-all mode")
        SENSITIVE_TERM = "sensitive_term", _("Matched a sensitive term to hold")
        EMERGENCY = "emergency", _("Held by an emergency in force")

    class BlockReason(models.TextChoices):
        NONE = "", _("None")
        UNVERIFIED_PHONE = "unverified_phone", _("Viewer's phone number is not verified")
        MUTED = "muted", _("Viewer is muted")
        SENSITIVE_TERM = "sensitive_term", _("Matched a sensitive term to block")

    stream = models.ForeignKey(Stream, verbose_name=_("stream"), related_name="comments", on_delete=models.PROTECT)
    # The platform's id of the comment; a second push of the same id returns the first.
    external_id = models.CharField(_("platform comment id"), max_length=64, unique=True)
    viewer_id = models.CharField(_("viewer id"), max_length=64)
    viewer_phone_verified = models.BooleanField(_("viewer phone verified"), default=False)
    text = models.TextField(_("text"))
    posted_at = models.DateTimeField(_("posted at"), default=timezone.now)
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    hold_reason = models.CharField(_("hold reason"), max_length=32, choices=HoldReason.choices, blank=True)
    block_reason = models.CharField(_("block reason"), max_length=32, choices=BlockReason.choices, blank=True)
    # The sensitive terms the text matched: [{"term", "category", "action"}], and the list version used.
    matched_terms = models.JSONField(_("matched terms"), default=list, blank=True)
    flagged = models.BooleanField(_("flagged"), default=False)
    term_list_version = models.PositiveIntegerField(_("term list version"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True, related_name="+",
        on_delete=models.PROTECT,
    )  # fmt: skip
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "received_at"], name="comment_status_received"),
            # A viewer's recent comments on a stream: deleting them as a measure.
            models.Index(fields=["viewer_id", "received_at"], name="comment_viewer_received"),
            # A stream's last comments: the evidence of a block, the stream page.
            models.Index(fields=["stream", "received_at"], name="comment_stream_received"),
        ]

    def __str__(self) -> str:
        return self.text[:40]


class ViewerMuteQuerySet(models.QuerySet):
    def active(self, at=None):
        """Mutes in force at ``at`` (now): not lifted, not yet expired."""
        return self.filter(lifted_at__isnull=True, until__gt=at or timezone.now())


class ViewerMute(models.Model):
    """A viewer muted on one stream or everywhere until a time (Art. 14): their comments are blocked."""

    viewer_id = models.CharField(_("viewer id"), max_length=64)
    # None: every stream on the platform.
    stream = models.ForeignKey(
        Stream, verbose_name=_("stream"), null=True, blank=True, related_name="viewer_mutes", on_delete=models.PROTECT
    )
    until = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=32)
    note = models.CharField(_("note"), max_length=300, blank=True)
    muted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("muted by"), related_name="+", on_delete=models.PROTECT
    )
    muted_at = models.DateTimeField(_("muted at"), default=timezone.now)
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("lifted by"), null=True, blank=True, related_name="+",
        on_delete=models.PROTECT,
    )  # fmt: skip
    lift_note = models.CharField(_("lift note"), max_length=300, blank=True)

    objects = ViewerMuteQuerySet.as_manager()

    class Meta:
        verbose_name = _("viewer mute")
        verbose_name_plural = _("viewer mutes")
        ordering = ["-muted_at", "-id"]
        indexes = [models.Index(fields=["viewer_id", "until"], name="viewer_mute_viewer_until")]

    def __str__(self) -> str:
        return self.viewer_id
