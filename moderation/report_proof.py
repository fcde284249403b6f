"""The public report page's proof of work: the CAPTCHA-free cost of a report from an anonymous browser.

The page fetches a challenge (``GET /report/challenge``): ``v1.<issued unix seconds>.<bits>.<random>.<mac>``,
the mac an HMAC-SHA256 (key derived from SECRET_KEY) of the rest, so the server keeps nothing until a
report comes. static/js/report-proof.js then counts n = 0, 1, 2, … until SHA-256("<challenge>:<n>")
starts with ``bits`` zero bits (WebCrypto) and sends the challenge and n with the form. ``check``
refuses a report whose proof is missing, not ours (the mac), stale (older than
LIVEWARD_REPORT_PROOF_SECONDS, or from the future), easier than LIVEWARD_REPORT_PROOF_BITS now asks,
wrong (the hash), or already used: each challenge is taken once, by ``SET NX`` in the cache (Redis),
for as long as it is fresh. A cache that does not answer refuses the report (503): the check fails
closed. Each refusal is a ReportRefused with its code; nothing is stored for a refused proof.

The platform app's API is not asked for a proof: its reports carry the platform's token.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time

from django.conf import settings
from django.core.cache import cache

from moderation.report_intake import ReportRefused

logger = logging.getLogger(__name__)

VERSION = "v1"
_CHALLENGE = re.compile(r"v1\.(\d{1,12})\.(\d{1,2})\.([A-Za-z0-9_-]{22})\.([0-9a-f]{32})")
_NONCE = re.compile(r"\d{1,20}")
_CLOCK_SKEW = 5  # seconds a challenge may seem to come from the future (hosts' clocks differ a little)


def _mac(body: str) -> str:
    key = hmac.new(settings.SECRET_KEY.encode(), b"liveward.report-proof", hashlib.sha256).digest()
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()[:32]


def new_challenge(*, now: float | None = None, bits: int | None = None) -> dict:
    """A fresh signed challenge and what the page needs to solve it."""
    issued = int(time.time() if now is None else now)
    bits = settings.LIVEWARD_REPORT_PROOF_BITS if bits is None else bits
    body = f"{VERSION}.{issued}.{bits}.{secrets.token_urlsafe(16)}"
    return {"challenge": f"{body}.{_mac(body)}", "bits": bits, "expires_in": settings.LIVEWARD_REPORT_PROOF_SECONDS}


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte:
            return bits + 8 - byte.bit_length()
        bits += 8
    return bits


def solve(challenge: str, bits: int) -> str:
    """What the page's script does, in Python: the first n whose hash has ``bits`` leading zero bits."""
    n = 0
    while leading_zero_bits(hashlib.sha256(f"{challenge}:{n}".encode()).digest()) < bits:
        n += 1
    return str(n)


def check(challenge: str, nonce: str, *, now: float | None = None) -> None:
    """Accept a proof once, or raise ReportRefused (400, or 503 when the cache does not answer)."""
    challenge, nonce = (challenge or "").strip(), (nonce or "").strip()
    if not challenge or not nonce:
        raise ReportRefused("the proof of work is missing", code="proof_missing")
    match = _CHALLENGE.fullmatch(challenge)
    if match is None or not _NONCE.fullmatch(nonce):
        raise ReportRefused("the proof of work is not valid", code="proof_wrong")
    if not hmac.compare_digest(_mac(challenge.rsplit(".", 1)[0]), match.group(4)):
        raise ReportRefused("the proof of work is not valid", code="proof_wrong")
    age = (time.time() if now is None else now) - int(match.group(1))
    if age > settings.LIVEWARD_REPORT_PROOF_SECONDS or age < -_CLOCK_SKEW:
        raise ReportRefused("the proof of work has expired", code="proof_stale")
    bits = int(match.group(2))
    if bits < settings.LIVEWARD_REPORT_PROOF_BITS:
        raise ReportRefused("the proof of work is too easy", code="proof_wrong")
    if leading_zero_bits(hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()) < bits:
        raise ReportRefused("the proof of work is not valid", code="proof_wrong")
    key = f"report-proof:{hashlib.sha256(challenge.encode()).hexdigest()[:32]}"
    try:
        first = cache.add(key, 1, timeout=settings.LIVEWARD_REPORT_PROOF_SECONDS + _CLOCK_SKEW)
    except Exception:
        logger.exception("could not mark a report's proof of work as used; refusing the report")
        raise ReportRefused(
            "reports cannot be taken right now; try again later", code="unavailable", status=503
        ) from None
    if not first:
        raise ReportRefused("the proof of work was used already", code="proof_replayed")
