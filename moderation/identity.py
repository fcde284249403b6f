"""Identity values (ID numbers, phones, devices, accounts): normalised, keyed-hashed, masked.

The blacklist never searches raw identity (Art. 12): an entry keeps only the keyed hash of the
normalised value and a masked form for display; publishers keep the same hashes next to their
raw identity, so matching is an indexed equality on hashes. docs/blacklist.md explains the rules
and the key's rotation.

- Resident ID (GB 11643-1999): 18 characters, upper-cased, the check digit validated, the birth
  date a real date. A legacy 15-digit number (issued before 1999, all born 19xx) is converted to
  its 18-digit form (insert "19", compute the check digit), so one person has one hash.
- Other documents (passport, permits, licences): upper-cased, spaces and dashes removed.
- Phone: E.164. Without a country code, +86. Chinese mobiles: 11 digits starting 13-19.
- Device id: as the platform reports it (IMEI, IDFA, Android id), trimmed and lower-cased.
- Platform account: trimmed, case kept (the platform's ids are case-sensitive).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date

from django.conf import settings


class IdentityError(ValueError):
    """A value that cannot be an identity of its kind; the message says why (for a 400/form error)."""


class Kind:
    """The kinds of identity the blacklist keys on (BlacklistEntry.Kind holds the labels)."""

    ID_DOCUMENT = "id_document"
    PHONE = "phone"
    DEVICE = "device"
    PLATFORM_ACCOUNT = "platform_account"
    ALL = (ID_DOCUMENT, PHONE, DEVICE, PLATFORM_ACCOUNT)


RESIDENT_ID = "resident_id"

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SEPARATORS = re.compile(r"[\s\-‐-―−()（）.·]")
_DEVICE = re.compile(r"[a-z0-9][a-z0-9_\-:.]{3,127}")
_ACCOUNT = re.compile(r"[A-Za-z0-9_\-.:@]{1,64}")


def resident_id_check_digit(first17: str) -> str:
    """Return the GB 11643 check character for the first 17 digits."""
    return _CHECK[sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True)) % 11]


def _valid_birth_date(text: str) -> bool:
    try:
        born = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return False
    return date(1880, 1, 1) <= born <= date.today()


def normalise_resident_id(value: str) -> str:
    """Return the 18-character resident ID (upper-case X); convert a 15-digit legacy number."""
    text = _SEPARATORS.sub("", str(value or "")).upper()
    if re.fullmatch(r"[0-9]{15}", text):
        if not _valid_birth_date("19" + text[6:12]):
            raise IdentityError("the birth date in this 15-digit ID number is not a date")
        first17 = text[:6] + "19" + text[6:]
        return first17 + resident_id_check_digit(first17)
    if len(text) != 18:
        raise IdentityError("a resident ID number has 18 characters (or 15 digits for an old card)")
    if not re.fullmatch(r"[0-9]{17}[0-9X]", text):
        raise IdentityError("a resident ID number is 17 digits and a digit or X")
    if not _valid_birth_date(text[6:14]):
        raise IdentityError("the birth date in this ID number is not a date")
    if resident_id_check_digit(text[:17]) != text[17]:
        raise IdentityError("the check digit of this ID number is wrong")
    return text


def normalise_document(value: str, *, document_type: str = RESIDENT_ID) -> str:
    """Return the document number in its one canonical form; other types carry their type."""
    if document_type == RESIDENT_ID:
        return normalise_resident_id(value)
    text = _SEPARATORS.sub("", str(value or "")).upper()
    if not re.fullmatch(r"[A-Z0-9]{5,40}", text):
        raise IdentityError("a document number is 5 to 40 letters and digits")
    return f"{document_type}:{text}"


def normalise_phone(value: str) -> str:
    """Return the number in E.164 (+8613800138000); a number without a country code is Chinese."""
    text = str(value or "").strip()
    text = text.replace("＋", "+")
    text = _SEPARATORS.sub("", text)
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text or not re.fullmatch(r"\+?[0-9]+", text):
        raise IdentityError("a phone number has digits only, with an optional leading + or 00")
    if text.startswith("+"):
        digits = text[1:]
        if digits.startswith("86"):
            return "+86" + _chinese_mobile(digits[2:])
        if not 8 <= len(digits) <= 15 or digits[0] == "0":
            raise IdentityError("an international number has a country code and 8 to 15 digits")
        return "+" + digits
    if len(text) == 13 and text.startswith("86"):
        text = text[2:]
    return "+86" + _chinese_mobile(text)


def _chinese_mobile(national: str) -> str:
    if len(national) != 11:
        raise IdentityError("a Chinese mobile number has 11 digits")
    if not re.fullmatch(r"1[3-9][0-9]{9}", national):
        raise IdentityError("a Chinese mobile number starts with 13 to 19")
    return national


def normalise_device(value: str) -> str:
    """Return the device id trimmed and lower-cased."""
    text = str(value or "").strip().lower()
    if not _DEVICE.fullmatch(text):
        raise IdentityError("a device id is 4 to 128 letters, digits and _ - : .")
    return text


def normalise_account(value: str) -> str:
    """Return the platform account id trimmed (its case is significant)."""
    text = str(value or "").strip()
    if not _ACCOUNT.fullmatch(text):
        raise IdentityError("a platform account id is 1 to 64 letters, digits and _ - . : @")
    return text


def normalise(kind: str, value: str, *, document_type: str = RESIDENT_ID) -> str:
    """Normalise a value of this kind; raise IdentityError when it cannot be one."""
    if kind == Kind.ID_DOCUMENT:
        return normalise_document(value, document_type=document_type)
    if kind == Kind.PHONE:
        return normalise_phone(value)
    if kind == Kind.DEVICE:
        return normalise_device(value)
    if kind == Kind.PLATFORM_ACCOUNT:
        return normalise_account(value)
    raise IdentityError(f"unknown identity kind {kind!r}")


def hash_keys() -> list[bytes]:
    """The hash key and any rotation keys wrapped over it, in order (docs/blacklist.md)."""
    keys = [settings.LIVEWARD_BLACKLIST_HASH_KEY, *settings.LIVEWARD_BLACKLIST_HASH_KEY_ROTATIONS]
    return [key.encode() for key in keys]


def identity_hash(kind: str, normalised: str) -> str:
    """Return the keyed hash (HMAC-SHA256, hex) of a normalised value of this kind."""
    keys = hash_keys()
    digest = hmac.new(keys[0], f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()
    for key in keys[1:]:
        digest = wrap_hash(digest, key)
    return digest


def key_fingerprint(*, levels: int | None = None) -> str:
    """The hash of a fixed value under the first ``levels`` keys of the chain (all by default)."""
    keys = hash_keys()[: levels or None]
    digest = hmac.new(keys[0], b"liveward:fingerprint", hashlib.sha256).hexdigest()
    for key in keys[1:]:
        digest = wrap_hash(digest, key)
    return digest


def wrap_hash(digest: str, key: bytes) -> str:
    """Wrap a stored hash with a rotation key: HMAC(key, digest)."""
    return hmac.new(key, digest.encode(), hashlib.sha256).hexdigest()


def hash_of(kind: str, value: str, *, document_type: str = RESIDENT_ID) -> str:
    """Normalise and hash; raise IdentityError for a malformed value."""
    return identity_hash(kind, normalise(kind, value, document_type=document_type))


def hash_or_blank(kind: str, value: str, *, document_type: str = RESIDENT_ID) -> str:
    """Hash a value kept on a publisher; a blank or malformed value hashes to '' (matches nothing)."""
    if not value:
        return ""
    try:
        return hash_of(kind, value, document_type=document_type)
    except IdentityError:
        return ""


# Masking (Art. 12): the one display form of identity, for the console, the API and the blacklist.
# Too short to hide at least this many characters, a value is starred in full.
_MIN_HIDDEN = 4
# Numbers other than a resident ID keep two characters at each end, and only when at least this
# many stay hidden: an 18-character licence code shows 91…67, a 9-character passport or permit
# number (where two and two would narrow it to a handful of people) is starred in full.
_MIN_HIDDEN_OTHER_DOCUMENT = 10


def _mask_middle(text: str, *, head: int, tail: int, min_hidden: int = _MIN_HIDDEN) -> str:
    hidden = len(text) - head - tail
    if hidden < min_hidden:
        return "*" * len(text)
    return text[:head] + "*" * hidden + text[-tail:]


def mask_document_number(number: str, *, document_type: str = RESIDENT_ID) -> str:
    """Mask a document number: 110105199001011234 → 110105********1234; other types keep 2 + 2."""
    if document_type == RESIDENT_ID:
        return _mask_middle(number, head=6, tail=4)
    return _mask_middle(number, head=2, tail=2, min_hidden=_MIN_HIDDEN_OTHER_DOCUMENT)


def mask_phone(phone: str) -> str:
    """Mask a phone number: +8613800138000 → +86138****8000, 13800138000 → 138****8000."""
    if phone.startswith("+86"):
        head = 6
    elif phone.startswith("+"):
        head = 4
    else:
        head = 3
    return _mask_middle(phone, head=head, tail=4)


def mask_name(name: str) -> str:
    """Mask a real name: 王小明 → 王**; a name keeps only its first character."""
    return name[:1] + "*" * (len(name) - 1)


def mask(kind: str, normalised: str) -> str:
    """Return the display form of a normalised value: 110105********1234, +86138****8000."""
    if kind == Kind.ID_DOCUMENT:
        if ":" in normalised:  # another document type: keep the type, mask the number
            document_type, number = normalised.split(":", 1)
            return f"{document_type}:{mask_document_number(number, document_type=document_type)}"
        return mask_document_number(normalised)
    if kind == Kind.PHONE:
        return mask_phone(normalised)
    return _mask_middle(normalised, head=4, tail=4)


BUSINESS_LICENCE = "business_licence"


def masked_publisher_identity(publisher) -> dict[str, str]:
    """The one display form of a publisher's identity: console pages, the API, exports and the admin."""
    return {
        "real_name": mask_name(publisher.real_name),
        "document_number": mask_document_number(publisher.document_number, document_type=publisher.document_type),
        "phone": mask_phone(publisher.phone),
        "organisation_licence_number": mask_document_number(
            publisher.organisation_licence_number, document_type=BUSINESS_LICENCE
        ),
    }
