"""Template context every console page gets."""

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from accounts.roles import Role, has_role, role_labels


def console(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    alerts = 0
    if has_role(user, Role.COMPLIANCE_ADMIN):
        from django.utils import timezone

        from moderation import queries

        alerts = queries.licences_expiring_soon(today=timezone.localdate())
    context = {
        "staff_roles": role_labels(user),
        "nav_licence_alerts": alerts,
        "nav_news_queue": has_role(user, Role.NEWS_REVIEWER, Role.EDITOR_IN_CHIEF),
        "nav_news_licences": has_role(user, Role.COMPLIANCE_ADMIN, Role.EDITOR_IN_CHIEF, Role.INSPECTOR),
        "reads_credit": has_role(user, Role.COMPLIANCE_ADMIN, Role.INSPECTOR),
    }
    if has_role(user, Role.COMPLIANCE_ADMIN, Role.INSPECTOR):
        context["may_read_blacklist"] = True
    if has_role(user, Role.COMPLIANCE_ADMIN):
        # The reminder (Art. 15: report blacklistings to the provincial office): counted only when shown.
        from moderation.queries import overdue_unreported_blacklistings

        context["blacklist_report_days"] = settings.LIVEWARD_BLACKLIST_REPORT_DAYS
        context["blacklist_overdue"] = SimpleLazyObject(lambda: overdue_unreported_blacklistings().count())
    return context
