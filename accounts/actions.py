"""State changes for staff accounts, and the staff action log every action writes to."""

from __future__ import annotations

import ipaddress

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models, transaction

from accounts.models import StaffActionLog, User
from accounts.roles import MACHINE_KINDS, ROLE_PERMISSIONS, Role


def client_ip(request) -> str | None:
    """Return the client's address as seen by Django, if it is a valid IP."""
    if request is None:
        return None
    address = request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def log_staff_action(
    actor: User | None,
    verb: str,
    *,
    target: models.Model | None = None,
    data: dict | None = None,
    ip: str | None = None,
) -> StaffActionLog:
    """Append one line to the staff action log."""
    return StaffActionLog.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_name=actor.get_username() if actor is not None else "",
        verb=verb,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=data or {},
        ip=ip,
    )


@transaction.atomic
def ensure_role_groups() -> None:
    """Create any missing role group with its permissions (the migration does this once)."""
    from django.contrib.auth.models import Permission

    for role, codes in ROLE_PERMISSIONS.items():
        group, created = Group.objects.get_or_create(name=str(role))
        if created:
            for code in codes:
                app_label, codename = code.split(".")
                group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


@transaction.atomic
def create_staff_user(
    username: str,
    *,
    role: str,
    password: str,
    display_name: str = "",
    actor: User | None = None,
) -> User:
    """Create a staff user holding one role."""
    Role(role)  # raises ValueError for an unknown role
    user = User.objects.create_user(username=username, password=password, display_name=display_name)
    user.groups.add(Group.objects.get(name=role))
    log_staff_action(actor, "staff.create", target=user, data={"role": role})
    return user


@transaction.atomic
def set_staff_role(user: User, *, role: str, actor: User | None) -> User:
    """Give the user exactly this role, replacing any other."""
    Role(role)
    user.groups.remove(*Group.objects.filter(name__in=Role.values))
    user.groups.add(Group.objects.get(name=role))
    user._role_names = None
    log_staff_action(actor, "staff.set_role", target=user, data={"role": role})
    return user


@transaction.atomic
def create_machine_client(name: str, *, kind: str, actor: User | None) -> tuple[User, str]:
    """Create an API client (no password, in the ``kind`` group) and return it with its token, shown once."""
    from rest_framework.authtoken.models import Token

    if kind not in MACHINE_KINDS:
        raise ValueError(f"unknown machine client kind {kind!r}; expected one of {', '.join(MACHINE_KINDS)}")
    if User.objects.filter(username=name).exists():
        raise ValueError(f"a user named {name!r} exists already")
    user = User(username=name, display_name=name)
    user.set_unusable_password()
    try:
        user.full_clean(exclude=["password"])  # the username's length and characters
    except ValidationError as exc:
        raise ValueError("; ".join(exc.messages)) from None
    user.save()
    user.groups.add(Group.objects.get(name=kind))
    token = Token.objects.create(user=user)
    log_staff_action(actor, "machine_client.create", target=user, data={"kind": kind})
    return user, token.key
