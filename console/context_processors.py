"""Template context every console page gets: the user's roles and what the navigation offers them."""

from django.conf import settings
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from accounts.middleware import setup_step
from accounts.roles import role_labels
from moderation import permissions, queries


def console(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    if setup_step(user):  # the login is not finished (second factor, forced password change): no console yet
        return {}
    alerts = 0
    compliance = permissions.may(user, "compliance.alerts")
    if compliance:
        alerts = queries.licences_expiring_soon(today=timezone.localdate())
    context = {
        "staff_roles": role_labels(user),
        "idle_seconds": settings.LIVEWARD_IDLE_MINUTES * 60,  # static/js/idle.js warns a minute before
        "nav_licence_alerts": alerts,
        "nav_news_queue": permissions.may(user, "news.review"),
        "nav_news_licences": permissions.may(user, "licence.read"),
        "reads_credit": permissions.may(user, "credit.read"),
        "nav_reports": permissions.may(user, "report.read"),
        "nav_emergencies": permissions.may(user, "emergency.read"),
        "nav_authority_reports": permissions.may(user, "authority_report.read"),
        # The banner every console shows (Art. 7): read only when a page shows it.
        "current_emergencies": SimpleLazyObject(queries.current_emergencies),
        "nav_lockouts": permissions.may(user, "security.lockouts"),
        "nav_records": permissions.may(user, "records.read"),
    }
    if permissions.may(user, "comments.queue"):
        context["nav_hold_queue"] = True
    if permissions.may(user, "verification.read"):
        context["nav_verification"] = True
        context["nav_verification_open"] = SimpleLazyObject(queries.open_verification_review_count)
    if permissions.may(user, "escalation.read"):
        context["nav_escalations"] = True
        context["nav_escalations_open"] = SimpleLazyObject(queries.open_escalation_count)
    if permissions.may(user, "webhooks.read"):
        context["nav_webhooks"] = True
    if permissions.may(user, "agreement.read"):
        context["nav_agreements"] = True
    if permissions.may(user, "audit.read"):
        context["nav_audits"] = True
        context["nav_audit_findings"] = SimpleLazyObject(queries.unresolved_finding_count)
    if permissions.may(user, "dashboard.view"):
        context["nav_dashboard"] = True
    if permissions.may(user, "retention.read"):
        context["nav_retention"] = True
    if permissions.may(user, "records.export"):
        context["nav_exports"] = True
    if permissions.may(user, "audit.alerts"):
        context["audit_alerts"] = True
    if permissions.may(user, "terms.read"):
        context["nav_terms"] = True
    if permissions.may(user, "blacklist.read"):
        context["may_read_blacklist"] = True
    if compliance:
        # The reminder (Art. 15: report blacklistings to the provincial office): counted only when shown.
        context["blacklist_report_days"] = settings.LIVEWARD_BLACKLIST_REPORT_DAYS
        context["blacklist_overdue"] = SimpleLazyObject(lambda: queries.overdue_unreported_blacklistings().count())
    return context
