"""Staff roles and the one role check used by pages, the REST API and WebSocket consumers."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    PATROLLER = "patroller", _("Patroller")
    NEWS_REVIEWER = "news_reviewer", _("News reviewer")
    EDITOR_IN_CHIEF = "editor_in_chief", _("Editor-in-chief")
    COMPLIANCE_ADMIN = "compliance_admin", _("Compliance admin")
    INSPECTOR = "inspector", _("Inspector")


# Machine clients of the REST API: groups like roles, but never a staff role. Staff pages, consumers
# and staff API endpoints ask for Role values only, so a machine token opens none of them.
MACHINE_PLATFORM = "platform_backend"  # the platform's backend: registers publishers, issues keys
MACHINE_REVIEW = "review_service"  # an external capture / machine-review service: pushes snapshots and verdicts
MACHINE_KINDS = (MACHINE_PLATFORM, MACHINE_REVIEW)


class Scope(models.TextChoices):
    """What one API token of a machine client may do; each API endpoint a machine calls names one."""

    PUBLISHERS = "publishers", _("Publishers: registration, devices, agreement, credit")
    STREAM_KEYS = "stream_keys", _("Stream keys: issue and revoke")
    VERIFICATION = "verification", _("Real-name verification: reports and manual reviews")
    REGISTRATION_CHECK = "registration_check", _("Registration check against the blacklist")
    NEWS_APPLICATIONS = "news_applications", _("News: applications and licences")
    COMMENTS = "comments", _("Comments: ingest and decisions")
    REPORTS = "reports", _("Public reports filed for users")
    APPEALS = "appeals", _("Appeals against credit events")
    AUDIENCES = "audiences", _("Viewer counts")
    SNAPSHOTS = "snapshots", _("Snapshots and machine-review verdicts")


# The scopes each kind of machine client may hold (a new token gets all of them unless narrowed).
MACHINE_SCOPES: dict[str, tuple[str, ...]] = {
    MACHINE_PLATFORM: tuple(scope for scope in Scope.values if scope != Scope.SNAPSHOTS),
    MACHINE_REVIEW: (Scope.SNAPSHOTS,),
}

# The roles that work shifts (值班): they check in, take streams from the patrol queue and hand over.
SHIFT_ROLES: tuple[str, ...] = (Role.PATROLLER, Role.COMPLIANCE_ADMIN)


# Model permissions each role's group carries ("app_label.codename"); created by migration.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.PATROLLER: [
        "moderation.view_stream",
        "moderation.view_publisher",
        "moderation.view_gatedecision",
        "moderation.view_moderationaction",
        "moderation.add_moderationaction",
    ],
    Role.NEWS_REVIEWER: [
        "moderation.view_stream",
        "moderation.view_publisher",
    ],
    Role.EDITOR_IN_CHIEF: [
        "moderation.view_stream",
        "moderation.view_publisher",
        "moderation.view_moderationaction",
        "moderation.add_moderationaction",
    ],
    Role.COMPLIANCE_ADMIN: [
        "moderation.view_stream",
        "moderation.view_publisher",
        "moderation.change_publisher",
        "moderation.view_streamkey",
        "moderation.change_streamkey",
        "moderation.view_category",
        "moderation.change_category",
        "moderation.view_mediaserver",
        "moderation.view_gatedecision",
        "moderation.view_moderationaction",
        "moderation.add_moderationaction",
        "accounts.view_staffactionlog",
    ],
    Role.INSPECTOR: [
        "moderation.view_stream",
        "moderation.view_publisher",
        "moderation.view_gatedecision",
        "moderation.view_moderationaction",
        "accounts.view_staffactionlog",
    ],
}


def has_role(user, *roles: str) -> bool:
    """Tell whether an active, authenticated user holds any of the roles (superusers hold all).

    No roles given means any staff role; a machine client's group never counts as one.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return bool(user.role_names.intersection(roles or Role.values))


def refresh_roles(user) -> None:
    """Re-read the user's active flag and roles in one query (an admin may change them mid-session)."""
    from accounts.models import User

    rows = list(User.objects.filter(pk=user.pk).values_list("is_active", "is_superuser", "groups__name"))
    if not rows:
        user.is_active = False
        user._role_names = frozenset()
        return
    user.is_active, user.is_superuser = rows[0][0], rows[0][1]
    user._role_names = frozenset(name for _, _, name in rows if name)


def require_role(*roles: str) -> Callable:
    """Guard a page: anonymous users go to the login page, others without the role get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator


def role_labels(user) -> list[str]:
    """Return the translated labels of the user's roles, for display."""
    if getattr(user, "is_superuser", False):
        return [str(_("Superuser"))]
    return [str(Role(name).label) for name in sorted(user.role_names) if name in Role.values]
