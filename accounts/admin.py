"""Django admin for the superuser: staff accounts and roles; the action log read-only."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiToken, StaffActionLog, User

# DRF's plain-text tokens are not used (accounts.api_tokens keeps hashed ones): no admin page for them.
try:
    from rest_framework.authtoken.models import TokenProxy

    admin.site.unregister(TokenProxy)
except (ImportError, admin.sites.NotRegistered):
    pass


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Console"), {"fields": ("display_name",)}),
    )
    list_display = ("username", "display_name", "is_active", "is_superuser", "last_login")
    list_filter = ("groups", "is_active", "is_superuser")


@admin.register(StaffActionLog)
class StaffActionLogAdmin(admin.ModelAdmin):
    """The log is append-only: nobody edits or deletes a line, not even the superuser."""

    list_display = ("at", "actor_name", "verb", "target_type", "target_id", "ip")
    list_filter = ("verb",)
    search_fields = ("actor_name", "verb", "target_id")
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Machine clients' tokens, read-only: issue, rotate and revoke with the commands (docs/security.md)."""

    list_display = ("prefix", "client", "created_at", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("client",)
    readonly_fields = ("client", "prefix", "digest", "scopes", "created_at", "expires_at", "revoked_at", "last_used_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
