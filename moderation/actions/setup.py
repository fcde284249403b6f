"""Set-up: categories, agreements, publishers, stream keys, media-server nodes."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import permissions
from moderation.actions.blacklist import identity_hashes_for, refuse_blacklisted_identity
from moderation.errors import ModerationError
from moderation.models import (
    Category,
    MediaServer,
    Publisher,
    ServiceAgreement,
    StreamKey,
    hash_node_secret,
    hash_stream_key,
)
from moderation.models.publishers import STREAM_KEY_PREFIX_LENGTH


def create_category(
    slug: str,
    *,
    name: str,
    is_news: bool = False,
    risk_tier: int = 3,
    patrol_interval_seconds: int = 600,
    snapshot_interval_seconds: int = 60,
    actor: User | None = None,
) -> Category:
    """Create a content category with its tier settings."""
    with transaction.atomic():
        category = Category.objects.create(
            slug=slug,
            name=name,
            is_news=is_news,
            risk_tier=risk_tier,
            patrol_interval_seconds=patrol_interval_seconds,
            snapshot_interval_seconds=snapshot_interval_seconds,
        )
        log_staff_action(actor, "category.create", target=category, data={"slug": slug})
    return category


AGREEMENT_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
AGREEMENT_MAX_GRACE_DAYS = 365


def publish_agreement(
    version: str,
    *,
    title: str,
    effective_at: datetime | None = None,
    text: str = "",
    grace_days: int = 0,
    actor: User | None = None,
) -> ServiceAgreement:
    """Publish a new version of the service agreement (服务协议, Art. 13).

    From ``effective_at`` publishers must have accepted it; for ``grace_days`` after that the gate
    still accepts the version before it. The date may not lie in the past, nor before a version
    already published; a staff member needs ``agreement.manage``.
    """
    if actor is not None:
        permissions.check(actor, "agreement.manage")
    now = timezone.now()
    effective_at = effective_at or now
    if not AGREEMENT_VERSION.fullmatch(version or ""):
        raise ModerationError("a version is 1 to 32 letters, digits, '.', '_' or '-'", code="bad_field")
    if not title.strip():
        raise ModerationError("an agreement needs its title", code="missing_field")
    if timezone.is_naive(effective_at) or effective_at < now - timedelta(minutes=1):
        raise ModerationError("the effective date may not lie in the past", code="bad_field")
    if (
        isinstance(grace_days, bool)
        or not isinstance(grace_days, int)
        or not 0 <= grace_days <= AGREEMENT_MAX_GRACE_DAYS
    ):
        raise ModerationError(f"the grace period is 0 to {AGREEMENT_MAX_GRACE_DAYS} days", code="bad_field")
    with transaction.atomic():
        latest = ServiceAgreement.objects.select_for_update().order_by("-effective_at").first()
        if ServiceAgreement.objects.filter(version=version).exists():
            raise ModerationError(f"version {version!r} is published already", code="duplicate_version")
        if latest is not None and effective_at <= latest.effective_at:
            raise ModerationError(
                f"version {latest.version} takes effect {latest.effective_at.isoformat()}; "
                "a new one must come after it",
                code="bad_field",
            )
        agreement = ServiceAgreement.objects.create(
            version=version,
            title=title.strip(),
            text=text,
            effective_at=effective_at,
            grace_ends_at=effective_at + timedelta(days=grace_days) if grace_days else None,
        )
        log_staff_action(
            actor, "agreement.publish", target=agreement, data={"version": version, "grace_days": grace_days}
        )
    return agreement


def register_publisher(
    platform_account_id: str,
    *,
    display_name: str,
    kind: str = Publisher.Kind.PERSON,
    real_name: str = "",
    document_type: str = Publisher.DocumentType.RESIDENT_ID,
    document_number: str = "",
    phone: str = "",
    organisation_licence_number: str = "",
    agreement_version: str = "",
    actor: User | None = None,
) -> Publisher:
    """Register a publisher as the platform reports it; refuse a blacklisted identity (Art. 15).

    Verification comes separately. The identity's keyed hashes are kept for the blacklist.
    """
    hashes = identity_hashes_for(
        {"document_number": document_number, "document_type": document_type, "phone": phone,
         "platform_account_id": platform_account_id}
    )  # fmt: skip
    with transaction.atomic():
        refuse_blacklisted_identity(hashes)
        publisher = Publisher.objects.create(
            **hashes,
            platform_account_id=platform_account_id,
            display_name=display_name,
            kind=kind,
            real_name=real_name,
            document_type=document_type,
            document_number=document_number,
            phone=phone,
            organisation_licence_number=organisation_licence_number,
            agreement_version=agreement_version,
            agreement_accepted_at=timezone.now() if agreement_version else None,
            filing_category=Publisher.FilingCategory.ORGANISATION
            if kind == Publisher.Kind.ORGANISATION
            else Publisher.FilingCategory.PERSON,
            filing_changed_at=timezone.now(),
        )
        log_staff_action(actor, "publisher.register", target=publisher)
    return publisher


def set_publisher_verification(publisher: Publisher, *, verification: str, actor: User | None) -> Publisher:
    """Record the outcome of real-name verification."""
    Publisher.Verification(verification)
    with transaction.atomic():
        publisher = Publisher.objects.select_for_update().get(pk=publisher.pk)
        publisher.verification = verification
        publisher.save(update_fields=["verification"])
        log_staff_action(actor, "publisher.verify", target=publisher, data={"verification": verification})
    return publisher


def accept_agreement(
    publisher: Publisher, *, version: str, accepted_at: datetime | None = None, actor: User | None = None
) -> Publisher:
    """Record that the publisher accepted an agreement version (not one a newer version in force replaced)."""
    accepted_at = accepted_at or timezone.now()
    if timezone.is_naive(accepted_at) or accepted_at > timezone.now() + timedelta(minutes=5):
        raise ModerationError("accepted_at must be a time with its zone, not in the future", code="bad_field")
    with transaction.atomic():
        agreement = ServiceAgreement.objects.filter(version=version).first()
        if agreement is None:
            raise ModerationError(f"unknown agreement version {version!r}", code="unknown_agreement")
        if ServiceAgreement.objects.filter(
            effective_at__gt=agreement.effective_at, effective_at__lte=timezone.now()
        ).exists():
            raise ModerationError(
                f"agreement version {version!r} is superseded by a version in force", code="superseded_agreement"
            )
        publisher = Publisher.objects.select_for_update().get(pk=publisher.pk)
        publisher.agreement_version = version
        publisher.agreement_accepted_at = accepted_at
        publisher.save(update_fields=["agreement_version", "agreement_accepted_at"])
        log_staff_action(actor, "publisher.accept_agreement", target=publisher, data={"version": version})
    return publisher


def issue_stream_key(
    publisher: Publisher,
    *,
    category: Category,
    default_title: str = "",
    key: str | None = None,
    actor: User | None = None,
) -> StreamKey:
    """Issue a new stream key to a publisher (random unless given); the key is on the instance returned only.

    The database keeps the key's SHA-256 and its first characters; ``issued_key`` on the returned
    instance is the one place the key exists, to be shown once (the API answer, the demo's file).
    """
    key = key or secrets.token_urlsafe(24)
    if not key or len(key) > 128:
        raise ModerationError("a stream key has 1 to 128 characters", code="bad_field")
    with transaction.atomic():
        if StreamKey.objects.filter(key_hash=hash_stream_key(key)).exists():
            raise ModerationError("this stream key is issued already", code="duplicate_key")
        stream_key = StreamKey.objects.create(
            key_hash=hash_stream_key(key),
            key_prefix=key[:STREAM_KEY_PREFIX_LENGTH],
            publisher=publisher,
            category=category,
            default_title=default_title,
        )
        log_staff_action(actor, "stream_key.issue", target=stream_key, data={"publisher": publisher.pk})
    stream_key.issued_key = key
    return stream_key


def revoke_stream_key(stream_key: StreamKey, *, actor: User | None) -> StreamKey:
    """Revoke a stream key; the gate denies it from now on (a running session ends at its next update)."""
    with transaction.atomic():
        stream_key = StreamKey.objects.select_for_update().get(pk=stream_key.pk)
        if stream_key.status == StreamKey.Status.REVOKED:
            return stream_key  # revoking twice changes nothing
        stream_key.status = StreamKey.Status.REVOKED
        stream_key.revoked_at = timezone.now()
        stream_key.save(update_fields=["status", "revoked_at"])
        log_staff_action(actor, "stream_key.revoke", target=stream_key)
    return stream_key


def register_media_server(
    name: str,
    *,
    kind: str,
    control_url: str,
    play_url: str = "",
    watch_url: str = "",
    secret: str | None = None,
    allowed_networks: list[str] | tuple[str, ...] = (),
    actor: User | None = None,
) -> tuple[MediaServer, str]:
    """Register a media-server node; return it with its callback secret (shown once, stored hashed).

    ``allowed_networks`` limits the addresses its callbacks may come from (empty: any);
    ``watch_url`` is where the stream page's player gets a stream (mediaservers/watching.py).
    """
    from moderation.actions.node_access import normalise_networks

    MediaServer.Kind(kind)
    watch_url = _checked_watch_url(watch_url)
    networks = normalise_networks(allowed_networks)
    secret = secret or secrets.token_urlsafe(24)
    with transaction.atomic():
        node = MediaServer.objects.create(
            name=name,
            kind=kind,
            control_url=control_url,
            play_url=play_url,
            watch_url=watch_url,
            secret_hash=hash_node_secret(secret),
            allowed_networks=networks,
        )
        log_staff_action(actor, "media_server.register", target=node, data={"kind": kind, "networks": networks})
    return node, secret


def set_media_server_play_url(node: MediaServer, *, play_url: str, actor: User | None) -> MediaServer:
    """Set the RTMP base URL snapshots pull a node's streams from ('' turns snapshots off for it)."""
    with transaction.atomic():
        node = MediaServer.objects.select_for_update().get(pk=node.pk)
        node.play_url = play_url.strip()
        node.save(update_fields=["play_url"])
        log_staff_action(actor, "media_server.set_play_url", target=node, data={"play_url": node.play_url})
    return node


def set_media_server_watch_url(node: MediaServer, *, watch_url: str, actor: User | None) -> MediaServer:
    """Set the HLS or HTTP-FLV URL template the stream page plays a node's streams from ('' turns the player off)."""
    watch_url = _checked_watch_url(watch_url)
    with transaction.atomic():
        node = MediaServer.objects.select_for_update().get(pk=node.pk)
        node.watch_url = watch_url
        node.save(update_fields=["watch_url"])
        log_staff_action(actor, "media_server.set_watch_url", target=node, data={"watch_url": watch_url})
    return node


def _checked_watch_url(watch_url: str) -> str:
    from moderation.mediaservers.watching import check_watch_url

    try:
        return check_watch_url(watch_url)
    except ValueError as exc:
        raise ModerationError(str(exc), code="bad_field") from None


def move_media_server(node: MediaServer, *, control_url: str, play_url: str, actor: User | None) -> MediaServer:
    """Point a node's control and play URLs at where it now answers (the demo's node on a new port)."""
    URLValidator(schemes=["http", "https"])(control_url)
    with transaction.atomic():
        node = MediaServer.objects.select_for_update().get(pk=node.pk)
        node.control_url, node.play_url = control_url, play_url.strip()
        node.save(update_fields=["control_url", "play_url"])
        log_staff_action(
            actor, "media_server.move", target=node, data={"control_url": control_url, "play_url": play_url}
        )
    return node


def rotate_media_server_secret(node: MediaServer, *, actor: User | None) -> str:
    """Give a node a new callback secret and return it (shown once, stored hashed)."""
    secret = secrets.token_urlsafe(24)
    with transaction.atomic():
        node = MediaServer.objects.select_for_update().get(pk=node.pk)
        node.secret_hash = hash_node_secret(secret)
        node.save(update_fields=["secret_hash"])
        log_staff_action(actor, "media_server.rotate_secret", target=node)
    return secret
