"""Identity at rest (Art. 12): AES-256-GCM under a key ring, for database values and files.

The newest key of ``LIVEWARD_IDENTITY_KEYS`` encrypts; every key in the ring decrypts, so a key is
rotated by putting a new one first and running ``manage.py rotate_identity_key`` (docs/deploy.md).
Each key is a secret string of at least 32 characters; the AES key is derived from it with HKDF and
named by a short key id, stored in front of every value so the right key is found without trying.

- A value (a text column): ``enc1$<key id>$<base64url(nonce ‖ ciphertext ‖ tag)>``. The column's
  name is the associated data, so a value copied into another column does not decrypt.
- A file: ``LWE1`` ‖ key id (8 bytes) ‖ nonce ‖ ciphertext ‖ tag, the file's kind the associated data.

Blank stays blank (it tells nothing and keeps ``blank=True`` checks working). A value that does not
decrypt raises ``IdentityCipherError``: it is never shown as if it were the value.
"""

from __future__ import annotations

import base64
import hashlib
import os
from functools import lru_cache

from django.conf import settings

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

TEXT_PREFIX = "enc1$"
FILE_MAGIC = b"LWE1"
_KEY_ID_LENGTH = 8
_NONCE_LENGTH = 12
MIN_KEY_LENGTH = 32


class IdentityCipherError(ValueError):
    """A stored value or file that no key of the ring decrypts (wrong key, tampered or not encrypted)."""


class _Key:
    def __init__(self, secret: str) -> None:
        material = secret.encode()
        self.key_id = hashlib.sha256(b"liveward.identity.key-id:" + material).hexdigest()[:_KEY_ID_LENGTH]
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"liveward.identity.aes-256-gcm")
        self.aead = AESGCM(derived.derive(material))


@lru_cache(maxsize=4)
def _ring(secrets: tuple[str, ...]) -> tuple[_Key, ...]:
    if not secrets:
        raise IdentityCipherError("no identity key is configured (LIVEWARD_IDENTITY_KEY)")
    return tuple(_Key(secret) for secret in secrets)


def key_ring() -> tuple[_Key, ...]:
    """The configured keys, newest (the one that encrypts) first."""
    return _ring(tuple(settings.LIVEWARD_IDENTITY_KEYS))


def current_key_id() -> str:
    """The id of the key new values are encrypted under."""
    return key_ring()[0].key_id


def _key_for(key_id: str) -> _Key:
    for key in key_ring():
        if key.key_id == key_id:
            return key
    raise IdentityCipherError(f"no configured identity key has the id {key_id!r}")


def encrypt_text(plain: str, *, context: str) -> str:
    """Encrypt a value for the column named ``context`` under the newest key ('' stays '')."""
    if plain == "":
        return ""
    key = key_ring()[0]
    nonce = os.urandom(_NONCE_LENGTH)
    sealed = key.aead.encrypt(nonce, plain.encode(), context.encode())
    return f"{TEXT_PREFIX}{key.key_id}${base64.urlsafe_b64encode(nonce + sealed).decode()}"


def is_encrypted_text(stored: str) -> bool:
    """Tell whether a stored value has the form of an encrypted one."""
    return stored.startswith(TEXT_PREFIX)


def text_key_id(stored: str) -> str:
    """The id of the key a stored value was encrypted under ('' for a blank or malformed value)."""
    if not is_encrypted_text(stored):
        return ""
    return stored[len(TEXT_PREFIX) :].split("$", 1)[0]


def decrypt_text(stored: str, *, context: str) -> str:
    """Decrypt a stored value of the column ``context``; raise IdentityCipherError if no key opens it."""
    if stored == "":
        return ""
    if not is_encrypted_text(stored):
        raise IdentityCipherError(f"a value of {context} is not encrypted")
    key_id, _separator, body = stored[len(TEXT_PREFIX) :].partition("$")
    try:
        blob = base64.urlsafe_b64decode(body.encode())
    except ValueError:
        raise IdentityCipherError(f"a value of {context} is damaged") from None
    try:
        plain = _key_for(key_id).aead.decrypt(blob[:_NONCE_LENGTH], blob[_NONCE_LENGTH:], context.encode())
    except InvalidTag:
        raise IdentityCipherError(f"a value of {context} fails its authentication (tampered or wrong key)") from None
    return plain.decode()


def encrypt_bytes(plain: bytes, *, context: str) -> bytes:
    """Encrypt a file's content (``context`` names its kind) under the newest key."""
    key = key_ring()[0]
    nonce = os.urandom(_NONCE_LENGTH)
    return FILE_MAGIC + key.key_id.encode() + nonce + key.aead.encrypt(nonce, plain, context.encode())


def bytes_key_id(stored: bytes) -> str:
    """The id of the key a file was encrypted under ('' for a file that is not encrypted)."""
    if not stored.startswith(FILE_MAGIC):
        return ""
    return stored[len(FILE_MAGIC) : len(FILE_MAGIC) + _KEY_ID_LENGTH].decode("ascii", "replace")


def decrypt_bytes(stored: bytes, *, context: str) -> bytes:
    """Decrypt a file's content; raise IdentityCipherError if it is not ours or no key opens it."""
    key_id = bytes_key_id(stored)
    if not key_id:
        raise IdentityCipherError(f"a {context} file is not encrypted")
    start = len(FILE_MAGIC) + _KEY_ID_LENGTH
    nonce, sealed = stored[start : start + _NONCE_LENGTH], stored[start + _NONCE_LENGTH :]
    try:
        return _key_for(key_id).aead.decrypt(nonce, sealed, context.encode())
    except InvalidTag:
        raise IdentityCipherError(f"a {context} file fails its authentication (tampered or wrong key)") from None
