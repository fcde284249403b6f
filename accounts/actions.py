"""State changes for staff accounts, and the staff action log every action writes to."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta

from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q, QuerySet
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import api_tokens
from accounts.models import ApiToken, Shift, StaffActionLog, User
from accounts.roles import MACHINE_KINDS, MACHINE_SCOPES, ROLE_PERMISSIONS, SHIFT_ROLES, Role, has_role


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


def log_staff_actions(actor: User | None, verb: str, entries: list[tuple[models.Model, dict]]) -> list[StaffActionLog]:
    """Append one line per (target, data) to the staff action log, in one statement (a bulk measure)."""
    actor_name = actor.get_username() if actor is not None else ""
    actor = actor if actor is not None and actor.pk else None
    return StaffActionLog.objects.bulk_create(
        [
            StaffActionLog(
                actor=actor,
                actor_name=actor_name,
                verb=verb,
                target_type=target._meta.label_lower,
                target_id=str(target.pk),
                data=data or {},
                ip=None,
            )
            for target, data in entries
        ]
    )


@transaction.atomic
def ensure_role_groups() -> None:
    """Create any missing role group with its permissions (the migration does this once)."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Permission

    if Group.objects.filter(name__in=[str(role) for role in ROLE_PERMISSIONS]).count() == len(ROLE_PERMISSIONS):
        return
    for label in ("accounts", "moderation"):  # a flushed database may have lost the permissions too
        create_permissions(apps.get_app_config(label), verbosity=0)
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
    temporary_password: bool = False,
) -> User:
    """Create a staff user holding one role; the password must pass the validators (ValueError if not).

    With ``temporary_password`` the account must choose its own password before it may do anything.
    """
    Role(role)  # raises ValueError for an unknown role
    if User.objects.filter(username=username).exists():
        raise ValueError(f"a user named {username!r} exists already")
    user = User(username=username, display_name=display_name, must_change_password=temporary_password)
    try:
        user.full_clean(exclude=["password"])
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValueError("; ".join(exc.messages)) from None
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name=role))
    log_staff_action(actor, "staff.create", target=user, data={"role": role, "temporary_password": temporary_password})
    return user


@transaction.atomic
def change_password(user: User, *, new_password: str, ip: str | None = None) -> User:
    """Set the user's own new password (validated; ValueError if refused) and lift a forced change."""
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise ValueError("; ".join(exc.messages)) from None
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    log_staff_action(user, "password.change", target=user, ip=ip)
    return user


def unlock_login(*, username: str = "", address: str = "", actor: User, ip: str | None = None) -> int:
    """Lift a login lockout of an account or an address (compliance admins); return the attempts cleared."""
    from axes.utils import reset

    username, address = username.strip(), address.strip()
    if bool(username) == bool(address):
        raise ValueError("name exactly one of an account or an address to unlock")
    if address:
        try:
            address = str(ipaddress.ip_address(address))
        except ValueError:
            raise ValueError(f"{address!r} is not an IP address") from None
    with transaction.atomic():
        cleared = reset(username=username or None, ip=address or None)
        log_staff_action(
            actor, "login.unlock", data={"username": username, "address": address, "cleared": cleared}, ip=ip
        )
    return cleared


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
def create_machine_client(
    name: str, *, kind: str, actor: User | None, scopes: list[str] | tuple[str, ...] | None = None
) -> tuple[User, str]:
    """Create an API client (no password, in the ``kind`` group) and return it with its first key, shown once.

    The token holds ``scopes`` (default: every scope of the kind).
    """
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
    log_staff_action(actor, "machine_client.create", target=user, data={"kind": kind})
    _token, key = issue_api_token(user, scopes=scopes, actor=actor)
    return user, key


def machine_kind(client: User) -> str | None:
    """Return the machine kind of an API client (None for a staff account)."""
    kinds = client.role_names.intersection(MACHINE_KINDS)
    return sorted(kinds)[0] if len(kinds) == 1 else None


def _checked_scopes(client: User, scopes: list[str] | tuple[str, ...] | None) -> list[str]:
    kind = machine_kind(client)
    if kind is None:
        raise ValueError(f"{client.username!r} is not a machine client")
    allowed = MACHINE_SCOPES[kind]
    if scopes is None:
        return list(allowed)
    chosen = list(dict.fromkeys(str(scope) for scope in scopes))
    unknown = [scope for scope in chosen if scope not in allowed]
    if unknown or not chosen:
        raise ValueError(
            f"scopes for a {kind} client are some of: {', '.join(allowed)} (got {', '.join(unknown) or 'none'})"
        )
    return chosen


@transaction.atomic
def issue_api_token(
    client: User, *, scopes: list[str] | tuple[str, ...] | None = None, actor: User | None
) -> tuple[ApiToken, str]:
    """Issue the client a new token with these scopes; return it with its key (shown once, stored hashed)."""
    chosen = _checked_scopes(client, scopes)
    for _attempt in range(5):  # a prefix collision is astronomically rare; retry rather than fail
        key, prefix = api_tokens.new_key()
        if not ApiToken.objects.filter(prefix=prefix).exists():
            break
    else:  # pragma: no cover - 40 random bits colliding five times in a row
        raise RuntimeError("could not find a free token prefix")
    token = ApiToken.objects.create(client=client, prefix=prefix, digest=api_tokens.key_digest(key), scopes=chosen)
    log_staff_action(actor, "api_token.issue", target=client, data={"token": prefix, "scopes": chosen})
    return token, key


# Longest overlap a rotation may leave the old token working.
MAX_ROTATION_OVERLAP = timedelta(days=30)


def rotate_client_token(client: User, *, overlap: timedelta, actor: User | None) -> tuple[ApiToken, str]:
    """Issue the client a new token (the newest one's scopes); its other tokens keep working for ``overlap``.

    An overlap of zero ends them at once. Return the new token and its key (shown once).
    """
    if not timedelta(0) <= overlap <= MAX_ROTATION_OVERLAP:
        raise ValueError(f"the overlap must be between 0 and {MAX_ROTATION_OVERLAP.days} days")
    now = timezone.now()
    with transaction.atomic():
        current = list(
            ApiToken.objects.select_for_update()
            .filter(client=client, revoked_at__isnull=True)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
            .order_by("-created_at", "-id")
        )
        scopes = current[0].scopes if current else None
        token, key = issue_api_token(client, scopes=scopes, actor=actor)
        until = now + overlap
        for old in current:
            if old.expires_at is None or old.expires_at > until:
                old.expires_at = until
                old.save(update_fields=["expires_at"])
        log_staff_action(
            actor,
            "api_token.rotate",
            target=client,
            data={
                "token": token.prefix,
                "old": [old.prefix for old in current],
                "overlap_seconds": int(overlap.total_seconds()),
            },
        )
    return token, key


@transaction.atomic
def revoke_client_tokens(client: User, *, actor: User | None, ip: str | None = None) -> int:
    """Revoke every token of the client at once (a leaked key, a compromised account); return how many."""
    now = timezone.now()
    prefixes = list(ApiToken.objects.filter(client=client, revoked_at__isnull=True).values_list("prefix", flat=True))
    revoked = ApiToken.objects.filter(client=client, revoked_at__isnull=True).update(revoked_at=now)
    log_staff_action(actor, "api_token.revoke", target=client, data={"tokens": prefixes}, ip=ip)
    return revoked


# --- shifts (值班) ----------------------------------------------------------------------------

# Who may check in: the staff who watch the live queue.
HANDOVER_NOTE_MAX_CHARS = 2000
# Handover notes (交接班) from shifts that ended this long ago are still shown to the next shift.
HANDOVER_WINDOW = timedelta(hours=24)


class ShiftError(Exception):
    """A shift rule refused the action; ``code`` names the rule for views and consumers."""

    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


# Sent inside check_out's transaction with ``user`` and ``shift``; each receiver returns the ids of what it
# released (moderation gives back the user's claimed streams). accounts knows nothing of streams.
shift_ended = Signal()


def check_in(user: User, *, at: datetime | None = None, ip: str | None = None) -> Shift:
    """Start the user's shift (值班): from now on they take streams from the patrol queue."""
    if not has_role(user, *SHIFT_ROLES):
        raise ShiftError(_("Only patrollers and compliance admins check in for a shift."), code="forbidden")
    at = at or timezone.now()
    with transaction.atomic():
        if Shift.objects.filter(user=user, ended_at__isnull=True).exists():
            raise ShiftError(_("You are already checked in."), code="already_on_duty")
        try:
            # The partial unique constraint settles a double click racing past the check above.
            with transaction.atomic():
                shift = Shift.objects.create(user=user, started_at=at)
        except IntegrityError:
            raise ShiftError(_("You are already checked in."), code="already_on_duty") from None
        log_staff_action(user, "shift.check_in", target=shift, ip=ip)
    return shift


def check_out(user: User, *, handover_note: str, at: datetime | None = None, ip: str | None = None) -> Shift:
    """End the user's open shift with a handover note (交接班); ``shift_ended`` lets others release what it held."""
    handover_note = (handover_note or "").strip()
    if len(handover_note) > HANDOVER_NOTE_MAX_CHARS:
        raise ShiftError(
            _("The handover note is too long (at most %(limit)d characters).") % {"limit": HANDOVER_NOTE_MAX_CHARS},
            code="note_too_long",
        )
    at = at or timezone.now()
    with transaction.atomic():
        shift = Shift.objects.select_for_update().filter(user=user, ended_at__isnull=True).first()
        if shift is None:
            raise ShiftError(_("You are not checked in."), code="not_on_duty")
        shift.ended_at = max(at, shift.started_at)
        shift.handover_note = handover_note
        shift.save(update_fields=["ended_at", "handover_note"])
        # Inside the transaction: what a receiver releases is released only if the shift really ends.
        responses = shift_ended.send(sender=Shift, user=user, shift=shift)
        released = [stream_id for _receiver, ids in responses for stream_id in ids or ()]
        log_staff_action(
            user,
            "shift.check_out",
            target=shift,
            data={"handover_note_chars": len(handover_note), "released_streams": len(released)},
            ip=ip,
        )
    return shift


def is_on_duty(user: User) -> bool:
    """Tell whether the user has an open shift."""
    return bool(user.pk) and Shift.objects.filter(user=user, ended_at__isnull=True).exists()


def on_duty() -> QuerySet[User]:
    """Return the staff checked in now, each with ``on_duty_since``, the earliest check-in first."""
    # One filter() call and the annotation share the join: the open shift (at most one per user).
    # started_at not null makes the join an inner one: "ended_at IS NULL" alone also matched, through
    # the outer join, every account without any shift (machine clients included).
    return (
        User.objects.filter(shifts__started_at__isnull=False, shifts__ended_at__isnull=True)
        .annotate(on_duty_since=F("shifts__started_at"))
        .order_by("on_duty_since", "pk")
    )


def shift_overview(user: User, *, now: datetime | None = None, notes: int = 3) -> tuple[bool, list[Shift]]:
    """Return whether the user is on duty and the latest handover notes, in one query (the wall's)."""
    now = now or timezone.now()
    recent = Q(ended_at__gte=now - HANDOVER_WINDOW, ended_at__lte=now) & ~Q(handover_note="")
    rows = list(
        Shift.objects.filter(recent | Q(user_id=user.pk, ended_at__isnull=True))
        .select_related("user")
        .order_by(F("ended_at").desc(nulls_first=True), "-pk")[: notes + 1]
    )
    on_duty = bool(rows) and rows[0].ended_at is None and rows[0].user_id == user.pk
    return on_duty, [shift for shift in rows if shift.ended_at is not None][:notes]


def recent_handover_notes(*, now: datetime | None = None, limit: int = 20) -> QuerySet[Shift]:
    """Return the shifts ended within the handover window that left a note, newest first."""
    now = now or timezone.now()
    return (
        Shift.objects.filter(ended_at__gte=now - HANDOVER_WINDOW, ended_at__lte=now)
        .exclude(handover_note="")
        .select_related("user")
        .order_by("-ended_at", "-pk")[:limit]
    )


THEMES = ("light", "dark")


def set_console_preferences(user: User, *, theme: str | None = None, compact: bool | None = None) -> User:
    """Remember how the console looks for ``user`` (its theme, the wall's density) on any computer."""
    if theme is not None and theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}")
    changes: dict[str, object] = {}
    if theme is not None:
        changes["console_theme"] = theme
    if compact is not None:
        changes["wall_compact"] = bool(compact)
    if changes:
        User.objects.filter(pk=user.pk).update(**changes)
        for field, value in changes.items():
            setattr(user, field, value)
    return user
