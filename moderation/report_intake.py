"""What a public report may bring in: its images, its limits, its receipt number and its response deadline.

The public form and the platform app's API both ask this module before ``actions.file_report``:

- images: at most ``MAX_IMAGES``, each at most ``MAX_IMAGE_BYTES``, and each must be a JPEG, PNG, GIF
  or WebP by its own bytes (the name and the declared type are ignored); it is stored under that
  type only and served to staff as an image, never as markup;
- limits: LIVEWARD_REPORT_LIMIT_PER_HOUR reports per address and per device id, counted in the
  cache (Redis); a cache that does not answer refuses the report (the limit fails closed);
- the deadline of the first response: LIVEWARD_REPORT_RESPONSE_SECONDS, or the category's own in
  LIVEWARD_REPORT_DEADLINES;
- the receipt number: random, so a status page cannot be found by counting.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

MAX_IMAGES = 3
MAX_IMAGE_BYTES = 1024 * 1024
MIN_IMAGE_BYTES = 32
DESCRIPTION_MAX = 2000
CONTACT_MAX = 100
URL_MAX = 300
# Receipts: 12 characters of Crockford's base32 (60 bits), shown in groups of four.
_RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECEIPT_PATTERN = r"JB-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}"
_WINDOW_SECONDS = 3600


class ReportRefused(Exception):
    """The report cannot be taken; ``status`` is the HTTP status to answer, ``code`` the error's code."""

    def __init__(self, message: str, *, code: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class CheckedImage:
    content: bytes
    content_type: str
    extension: str
    sha256: str


def image_type(content: bytes) -> tuple[str, str] | None:
    """Return (content type, extension) when the bytes are a JPEG, PNG, GIF or WebP image, else None."""
    if content[:3] == b"\xff\xd8\xff" and b"\xff\xd9" in content[-64:]:
        return "image/jpeg", "jpg"
    if content[:8] == b"\x89PNG\r\n\x1a\n" and content[12:16] == b"IHDR" and b"IEND" in content[-16:]:
        return "image/png", "png"
    if content[:6] in (b"GIF87a", b"GIF89a") and content.rstrip(b"\x00")[-1:] == b";":
        return "image/gif", "gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP" and content[12:15] == b"VP8":
        return "image/webp", "webp"
    return None


def check_images(contents: list[bytes]) -> list[CheckedImage]:
    """Check each attached file: count, size and that it is an image by its bytes; refuse the report otherwise."""
    if len(contents) > MAX_IMAGES:
        raise ReportRefused(f"at most {MAX_IMAGES} images", code="too_many_images")
    checked = []
    for number, content in enumerate(contents, start=1):
        if len(content) > MAX_IMAGE_BYTES:
            raise ReportRefused(f"image {number} is larger than {MAX_IMAGE_BYTES} bytes", code="image_too_large")
        kind = image_type(content) if len(content) >= MIN_IMAGE_BYTES else None
        if kind is None:
            raise ReportRefused(f"image {number} is not a JPEG, PNG, GIF or WebP image", code="not_an_image")
        checked.append(CheckedImage(content, kind[0], kind[1], hashlib.sha256(content).hexdigest()))
    return checked


def deadline_seconds(category: str) -> int:
    """Seconds within which a report of this category gets its first response."""
    return settings.LIVEWARD_REPORT_DEADLINES.get(category, settings.LIVEWARD_REPORT_RESPONSE_SECONDS)


def new_receipt() -> str:
    """A receipt number such as JB-7K2M-Q9XD-3HAT."""
    characters = "".join(secrets.choice(_RECEIPT_ALPHABET) for _ in range(12))
    return f"JB-{characters[:4]}-{characters[4:8]}-{characters[8:]}"


def address_digest(address: str) -> str:
    """What is kept of a reporter's address: enough to count, not to read it back."""
    return hashlib.sha256(f"{settings.SECRET_KEY}:{address}".encode()).hexdigest()[:32] if address else ""


def count_against_limits(*, address: str, device_id: str) -> None:
    """Count one report against its address's and device's hourly limit; refuse it (429) over either.

    A cache that does not answer refuses too (503): the limit fails closed.
    """
    limit = settings.LIVEWARD_REPORT_LIMIT_PER_HOUR
    keys = [f"report-limit:address:{address_digest(address)}"] if address else []
    if device_id:
        keys.append(f"report-limit:device:{hashlib.sha256(device_id.encode()).hexdigest()[:32]}")
    try:
        for count in _count(keys):
            if count > limit:
                raise ReportRefused(
                    f"at most {limit} reports an hour from one address or device", code="rate_limited", status=429
                )
    except ReportRefused:
        raise
    except Exception:
        logger.exception("could not count a report against its limits; refusing it")
        raise ReportRefused(
            "reports cannot be taken right now; try again later", code="unavailable", status=503
        ) from None


def _count(keys: list[str]) -> list[int]:
    """Count one more report under each key (a window of an hour from its first); return the counts.

    With Redis, every key in one round trip: ``SET key 0 EX 3600 NX`` starts a window, ``INCR``
    counts (the value is the plain integer Django's cache reads back). Another cache: add, else incr.
    """
    if not keys:
        return []
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        client = backend._cache.get_client(write=True)
        pipeline = client.pipeline(transaction=False)
        for key in keys:
            stored = backend.make_and_validate_key(key)
            pipeline.set(stored, 0, ex=_WINDOW_SECONDS, nx=True)
            pipeline.incr(stored)
        return [int(count) for count in pipeline.execute()[1::2]]
    return [1 if cache.add(key, 1, timeout=_WINDOW_SECONDS) else _increment(key) for key in keys]


def _increment(key: str) -> int:
    try:
        return cache.incr(key)
    except ValueError:  # the window expired between the add and the increment: a new window
        return 1 if cache.add(key, 1, timeout=_WINDOW_SECONDS) else cache.incr(key)
