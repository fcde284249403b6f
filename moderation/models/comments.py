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

    class HoldReason(models.TextChoices):
        NONE = "", _("None")
        NEWS_PRE_REVIEW = "news_pre_review", _("News stream: reviewed before publication")
        EMERGENCY = "emergency", _("Held by an emergency in force")

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
            # A stream's last comments: the evidence of a block, the stream page.
            models.Index(fields=["stream", "received_at"], name="comment_stream_received"),
        ]

    def __str__(self) -> str:
        return self.text[:40]
