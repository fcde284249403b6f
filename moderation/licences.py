"""News licences as the gate and the actions read them (Art. 5).

The platform's own licences are cached in each process for a few seconds: the gate asks about them
on every news decision, and they change a few times a year. Actions that change one forget the
cache in their process on commit; other processes see the change within PLATFORM_LICENCE_CACHE_SECONDS.
Validity itself is computed on every call from the cached rows and the time of asking, so an
expiry takes effect at midnight exactly, cache or not.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from django.utils import timezone

from moderation.models import LicenceScope, PlatformLicence, PublisherLicence

PLATFORM_LICENCE_CACHE_SECONDS = 5.0
# The scope the platform needs to carry publishers' news live streams.
PLATFORM_SCOPE = LicenceScope.PLATFORM
# Any of these makes a publisher licence a news licence at all; the application says which it needs.
PUBLISHER_NEWS_SCOPES = (LicenceScope.GATHERING, LicenceScope.REPOSTING)

_lock = threading.Lock()
_cache: dict[str, tuple[float, list[PlatformLicence]]] = {}


def platform_licences() -> list[PlatformLicence]:
    """Return the platform's licences not withdrawn, from the process cache when fresh."""
    cached = _cache.get("platform")
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    licences = list(PlatformLicence.objects.filter(withdrawn_at__isnull=True).order_by("-valid_until", "-id"))
    with _lock:
        _cache["platform"] = (time.monotonic() + PLATFORM_LICENCE_CACHE_SECONDS, licences)
    return licences


def forget_platform_licences() -> None:
    """Drop the cached platform licences (after one changed, and between tests)."""
    with _lock:
        _cache.clear()


def valid_platform_licence(at: datetime, scope: str = PLATFORM_SCOPE) -> PlatformLicence | None:
    """Return a platform licence in force at ``at`` with ``scope``, the longest-running first."""
    return next((licence for licence in platform_licences() if licence.covers(at, scope)), None)


def platform_licence_problem(at: datetime, scope: str = PLATFORM_SCOPE) -> str:
    """Say precisely why no platform licence counts at ``at`` (for the gate decision's detail)."""
    return _licence_problem("platform licence", platform_licences(), at, scope)


def valid_publisher_licence(
    licences: list[PublisherLicence], at: datetime, scopes: tuple[str, ...] | list[str]
) -> PublisherLicence | None:
    """Return the first of the publisher's licences in force at ``at`` holding one of ``scopes``."""
    for licence in licences:
        if any(licence.covers(at, scope) for scope in scopes):
            return licence
    return None


def publisher_licence_problem(licences: list[PublisherLicence], at: datetime, scopes) -> str:
    """Say precisely why none of the publisher's licences counts at ``at``."""
    return _licence_problem("publisher licence", licences, at, "/".join(scopes), verified_only=True)


def _licence_problem(label: str, licences, at: datetime, scope: str, *, verified_only: bool = False) -> str:
    day = timezone.localdate(at)
    wanted = scope.split("/")
    if verified_only:
        unverified = [licence for licence in licences if not licence.is_usable()]
        licences = [licence for licence in licences if licence.is_usable()]
        if not licences:
            if unverified:
                return f"{label} {unverified[0].number} is not verified"
            return f"no {label}"
    if not licences:
        return f"no {label}"
    in_scope = [licence for licence in licences if any(s in licence.scopes for s in wanted)]
    if not in_scope:
        return f"{label} {licences[0].number} lacks scope {scope}"
    latest = max(in_scope, key=lambda licence: licence.valid_until)
    if latest.valid_until < day:
        return f"{label} {latest.number} expired {latest.valid_until.isoformat()}"
    earliest = min(in_scope, key=lambda licence: licence.valid_from)
    return f"{label} {earliest.number} valid from {earliest.valid_from.isoformat()}"
