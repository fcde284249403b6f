"""Reads for the record lists (记录查询): publishers, streams, actions, gate decisions, news
applications, the staff log.

Each returns a queryset with its joins done, so a page of rows costs the same few queries at any
size. Free text on publishers also matches identities: the text is read as a phone number, a
document number and a platform account, normalised (so "138 0013 8000" finds "+8613800138000"),
and matched by keyed hash; the identity itself is never compared in clear.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import StaffActionLog
from moderation.identity import IdentityError, Kind, hash_of
from moderation.models import GateDecision, ModerationAction, NewsApplication, Publisher, Stream, hash_stream_key

_HASH_FIELDS = {Kind.PHONE: "phone_hash", Kind.ID_DOCUMENT: "document_hash", Kind.PLATFORM_ACCOUNT: "account_hash"}


def _identity_matches(text: str) -> Q:
    """Publishers whose stored identity hash equals the text's, read as each identity kind."""
    match = Q(pk__in=[])
    for kind, field in _HASH_FIELDS.items():
        try:
            match |= Q(**{field: hash_of(kind, text)})
        except IdentityError:
            continue  # not a valid identity of this kind
    return match


def publishers_matching(text: str = "") -> QuerySet[Publisher]:
    """Publishers whose account, display name, stream key or identity matches ``text`` (all when blank)."""
    publishers = Publisher.objects.all()
    text = text.strip()
    if text:
        publishers = publishers.filter(
            Q(platform_account_id__icontains=text)
            | Q(display_name__icontains=text)
            | Q(pk__in=Publisher.objects.filter(stream_keys__key_hash=hash_stream_key(text)).values("pk"))
            | _identity_matches(text)
        )
    return publishers


def streams_matching(text: str = "") -> QuerySet[Stream]:
    """Streams, live and ended, whose title, publisher or key matches ``text``."""
    streams = Stream.objects.select_related("publisher", "category", "node", "last_patrolled_by")
    text = text.strip()
    if text:
        streams = streams.filter(
            Q(title__icontains=text)
            | Q(publisher__display_name__icontains=text)
            | Q(publisher__platform_account_id__icontains=text)
            | Q(key__key_hash=hash_stream_key(text))
        )
    return streams


def actions_matching(text: str = "") -> QuerySet[ModerationAction]:
    """Moderation actions whose stream, publisher or note matches ``text``."""
    rows = ModerationAction.objects.select_related("actor", "stream", "publisher")
    text = text.strip()
    if text:
        rows = rows.filter(
            Q(note__icontains=text)
            | Q(stream__title__icontains=text)
            | Q(publisher__display_name__icontains=text)
            | Q(publisher__platform_account_id__icontains=text)
        )
    return rows


def gate_decisions_matching(text: str = "") -> QuerySet[GateDecision]:
    """Gate decisions whose key, publisher or address matches ``text``."""
    rows = GateDecision.objects.select_related("node", "publisher", "stream")
    text = text.strip()
    if text:
        rows = rows.filter(
            Q(key_hash=hash_stream_key(text)) | Q(addr=text) | Q(publisher__display_name__icontains=text)
            | Q(publisher__platform_account_id__icontains=text)
        )  # fmt: skip
    return rows


def news_applications_matching(text: str = "") -> QuerySet[NewsApplication]:
    """News applications, open and decided, whose title, publisher or stream key matches ``text``."""
    rows = NewsApplication.objects.select_related("publisher")
    text = text.strip()
    if text:
        rows = rows.filter(
            Q(title__icontains=text) | Q(publisher__display_name__icontains=text)
            | Q(publisher__platform_account_id__icontains=text) | Q(stream_key__key_hash=hash_stream_key(text))
        )  # fmt: skip
    return rows


def staff_log_matching(text: str = "") -> QuerySet[StaffActionLog]:
    """Staff action log lines whose actor, verb or target matches ``text``."""
    rows = StaffActionLog.objects.select_related("actor")
    text = text.strip()
    if text:
        rows = rows.filter(
            Q(actor_name__icontains=text) | Q(actor__username__icontains=text) | Q(verb__icontains=text)
            | Q(target_id=text)
        )  # fmt: skip
    return rows
