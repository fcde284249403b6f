"""Django admin: a read-only view of the domain. Changes go through the console and its actions."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from moderation.identity import masked_publisher_identity
from moderation.models import (
    Appeal,
    BlacklistEntry,
    BlacklistExport,
    Category,
    Comment,
    CreditEvent,
    CreditPolicy,
    GateDecision,
    MediaServer,
    ModerationAction,
    NewsApplication,
    PlatformLicence,
    Publisher,
    PublisherLicence,
    ServiceAgreement,
    Stream,
    StreamKey,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Category)
class CategoryAdmin(ReadOnlyAdmin):
    list_display = ("slug", "name", "is_news", "risk_tier", "patrol_interval_seconds", "snapshot_interval_seconds")


@admin.register(ServiceAgreement)
class ServiceAgreementAdmin(ReadOnlyAdmin):
    list_display = ("version", "title", "effective_at")


@admin.register(Publisher)
class PublisherAdmin(ReadOnlyAdmin):
    list_display = ("display_name", "platform_account_id", "kind", "verification", "status", "credit_level")
    list_filter = ("status", "verification", "kind")
    search_fields = ("display_name", "platform_account_id")
    # Identity stays out of the admin but for its one masked form (moderation/identity.py).
    exclude = ("document_number", "phone", "real_name", "organisation_licence_number")
    readonly_fields = ("masked_identity",)

    @admin.display(description=_("identity (masked)"))
    def masked_identity(self, publisher: Publisher) -> str:
        masked = masked_publisher_identity(publisher)
        return " · ".join(value for value in masked.values() if value)


@admin.register(StreamKey)
class StreamKeyAdmin(ReadOnlyAdmin):
    list_display = ("publisher", "category", "status", "denied_until", "created_at")
    list_filter = ("status", "category")
    list_select_related = ("publisher", "category")
    exclude = ("key_hash",)


@admin.register(MediaServer)
class MediaServerAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "control_url", "enabled")
    exclude = ("secret_hash",)


@admin.register(Stream)
class StreamAdmin(ReadOnlyAdmin):
    list_display = ("title", "publisher", "category", "node", "started_at", "ended_at", "end_reason")
    list_filter = ("category", "node", "end_reason")
    list_select_related = ("publisher", "category", "node")
    date_hierarchy = "started_at"
    exclude = ("published_name",)  # the stream key, encrypted: not for the admin


@admin.register(GateDecision)
class GateDecisionAdmin(ReadOnlyAdmin):
    list_display = ("at", "hook", "node", "publisher", "allowed", "reason", "detail")
    list_filter = ("allowed", "reason", "hook", "node")
    list_select_related = ("node", "publisher")
    date_hierarchy = "at"


@admin.register(ModerationAction)
class ModerationActionAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor", "kind", "stream", "publisher", "reason", "media_status")
    list_filter = ("kind", "reason", "media_status")
    list_select_related = ("actor", "stream", "publisher")
    date_hierarchy = "at"


@admin.register(PlatformLicence)
class PlatformLicenceAdmin(ReadOnlyAdmin):
    list_display = ("number", "valid_from", "valid_until", "withdrawn_at", "recorded_by")


@admin.register(PublisherLicence)
class PublisherLicenceAdmin(ReadOnlyAdmin):
    list_display = ("publisher", "number", "valid_from", "valid_until", "verification", "verified_by")
    list_filter = ("verification",)
    list_select_related = ("publisher", "verified_by")


@admin.register(NewsApplication)
class NewsApplicationAdmin(ReadOnlyAdmin):
    list_display = ("title", "publisher", "status", "origin", "window_start", "window_end")
    list_filter = ("status", "origin")
    list_select_related = ("publisher",)


@admin.register(Comment)
class CommentAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "stream", "viewer_id", "status", "hold_reason")
    list_filter = ("status", "hold_reason")


@admin.register(CreditPolicy)
class CreditPolicyAdmin(ReadOnlyAdmin):
    list_display = ("version", "score_min", "score_max", "created_by", "created_at", "note")


@admin.register(CreditEvent)
class CreditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "publisher", "kind", "points", "score_after", "level_after", "actor")
    list_filter = ("kind",)
    list_select_related = ("publisher", "actor")


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    list_display = ("submitted_at", "publisher", "kind", "target_id", "status", "decided_by")
    list_filter = ("status", "kind")
    list_select_related = ("publisher", "decided_by")


@admin.register(BlacklistEntry)
class BlacklistEntryAdmin(ReadOnlyAdmin):
    list_display = ("reference", "kind", "masked_value", "reason", "status", "report_status", "created_at")
    list_filter = ("kind", "status", "report_status")
    search_fields = ("reference",)
    exclude = ("value_hash",)


@admin.register(BlacklistExport)
class BlacklistExportAdmin(ReadOnlyAdmin):
    list_display = ("period_start", "period_end", "entry_count", "created_by", "created_at")
