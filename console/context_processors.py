"""Template context every console page gets."""

from accounts.roles import role_labels


def console(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"staff_roles": role_labels(user)}
