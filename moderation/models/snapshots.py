"""Frames taken from live streams, and machine-review verdicts on them."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moderation.models.streams import Stream


class Snapshot(models.Model):
    """A frame of a live stream, grabbed by Liveward or pushed by an external capture service."""

    class Source(models.TextChoices):
        CAPTURE = "capture", _("Liveward capture")
        EXTERNAL = "external", _("External service")

    class Suggestion(models.TextChoices):
        NONE = "", _("None")
        PASS = "pass", _("Pass")
        REVIEW = "review", _("Review")
        BLOCK = "block", _("Block")

    stream = models.ForeignKey(Stream, verbose_name=_("stream"), related_name="snapshots", on_delete=models.CASCADE)
    taken_at = models.DateTimeField(_("taken at"), default=timezone.now, db_index=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.CAPTURE)
    image = models.FileField(_("image"), upload_to="snapshots/%Y/%m/%d/", blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    verdict_label = models.CharField(_("verdict label"), max_length=64, blank=True)
    verdict_score = models.FloatField(_("verdict score"), null=True, blank=True)
    verdict_suggestion = models.CharField(
        _("suggestion"), max_length=16, choices=Suggestion.choices, default=Suggestion.NONE, blank=True
    )

    class Meta:
        verbose_name = _("snapshot")
        verbose_name_plural = _("snapshots")
        ordering = ["-taken_at", "-id"]

    def __str__(self) -> str:
        return f"{self.stream_id} @ {self.taken_at:%H:%M:%S}"
