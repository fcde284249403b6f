"""Template context every console page gets."""

from accounts.roles import Role, has_role, role_labels


def console(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "staff_roles": role_labels(user),
        "nav_news_queue": has_role(user, Role.NEWS_REVIEWER, Role.EDITOR_IN_CHIEF),
        "nav_news_licences": has_role(user, Role.COMPLIANCE_ADMIN, Role.EDITOR_IN_CHIEF, Role.INSPECTOR),
        "reads_credit": has_role(user, Role.COMPLIANCE_ADMIN, Role.INSPECTOR),
    }
