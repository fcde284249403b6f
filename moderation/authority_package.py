"""The package of a report to the authorities (Art. 14): a zip with its files, a manifest and its signature.

``report.json`` holds the report (the stream, the publisher's masked identity and filing status, the
measures taken with their evidence digests, the summary), each JSON evidence item is a file of its
own under ``evidence/``, ``public_key.pem`` is the signing key's public half, and ``manifest.json``
lists every file with its SHA-256 and size, the algorithm and the key's id. ``manifest.sig`` is the
Ed25519 signature of manifest.json's bytes (64 raw bytes), so the regulator verifies a package with
the public key alone (``openssl pkeyutl -verify -pubin -inkey … -rawin``, docs/reports.md), never
with a secret of ours. The public key inside the package only says which key signed it: the receiving
side verifies against the key it obtained from us beforehand (the console's download of it).

The signing key: LIVEWARD_AUTHORITY_SIGNING_KEY (or _FILE), an Ed25519 private key in PEM; unset, the
file LIVEWARD_AUTHORITY_SIGNING_KEY_PATH (var/authority_signing_key.pem), made with mode 0600 on
first use. Ed25519 signatures are deterministic and the content is fixed when the report is filed,
so every download of one report is the same package, byte for byte (under the same key).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import zipfile
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "public_key.pem"
ALGORITHM = "Ed25519"
_FIXED_TIME = (2016, 12, 1, 0, 0, 0)  # zip entries carry no clock: the same content gives the same bytes
_MAX_ENTRY = 64 * 1024 * 1024  # a file of a package that claims more is not ours (zip bombs)


class PackageInvalid(Exception):
    """The package does not verify: a file changed, is missing or extra, or the signature is wrong."""


def _private_key_from_pem(pem: bytes, *, source: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{source} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"{source} must be an Ed25519 private key (openssl genpkey -algorithm ed25519)")
    return key


def _pem_of(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _key_from_file(path: Path) -> Ed25519PrivateKey:
    """Read the key file, or make it (mode 0600) when it does not exist; two processes make only one."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.new")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(_pem_of(Ed25519PrivateKey.generate()))
            with contextlib.suppress(FileExistsError):  # another process made it first: theirs is kept
                os.link(draft, path)
        finally:
            draft.unlink(missing_ok=True)
    return _private_key_from_pem(path.read_bytes(), source=str(path))


@lru_cache(maxsize=4)
def _signing_key(configured: str, path: str) -> Ed25519PrivateKey:
    if configured:
        return _private_key_from_pem(configured.encode(), source="LIVEWARD_AUTHORITY_SIGNING_KEY")
    return _key_from_file(Path(path))


def signing_key() -> Ed25519PrivateKey:
    """The configured private key (made in var/ on first use when none is configured)."""
    return _signing_key(settings.LIVEWARD_AUTHORITY_SIGNING_KEY, str(settings.LIVEWARD_AUTHORITY_SIGNING_KEY_PATH))


def public_key_pem(key: Ed25519PublicKey | None = None) -> bytes:
    """The public key (SubjectPublicKeyInfo PEM), what the regulator verifies packages with."""
    key = signing_key().public_key() if key is None else key
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_id(key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of the SHA-256 of the raw public key: its fingerprint, said on the phone."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """Read a public key in PEM; PackageInvalid when it is not an Ed25519 public key."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise PackageInvalid(f"not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise PackageInvalid("the public key is not an Ed25519 key")
    return key


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2).encode()


def build_package(content: dict) -> bytes:
    """Return the zip of a report's content: its files, the public key, the manifest and its signature."""
    key = signing_key()
    public = key.public_key()
    files: dict[str, bytes] = {"report.json": _json(content["report"])}
    for item in content.get("evidence", []):
        files[f"evidence/{item['action']}-{item['kind']}.json"] = _json(item["content"])
    files[PUBLIC_KEY] = public_key_pem(public)
    manifest = _json(
        {
            "reference": content["report"]["reference"],
            "algorithm": ALGORITHM,
            "key_id": key_id(public),
            "files": [
                {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                for name, data in sorted(files.items())
            ],
        }
    )
    files[MANIFEST] = manifest
    files[SIGNATURE] = key.sign(manifest)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=_FIXED_TIME), data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _read_files(package: bytes) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(package)) as archive:
            entries = archive.infolist()
            if len({entry.filename for entry in entries}) != len(entries):
                raise PackageInvalid("the package names a file twice")
            if any(entry.file_size > _MAX_ENTRY for entry in entries):
                raise PackageInvalid("a file of the package is too large")
            return {entry.filename: archive.read(entry) for entry in entries}
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError, OSError, NotImplementedError) as exc:
        raise PackageInvalid(f"not a package: {exc}") from None


def verify_package(package: bytes, *, public_key: Ed25519PublicKey | bytes | None = None) -> dict:
    """Check the signature and every file against the manifest; return the manifest or raise PackageInvalid.

    ``public_key`` (a key or its PEM) is the key the receiving side trusts; None: our own signing key's.
    The public key inside the package is never trusted for the check.
    """
    if public_key is None:
        public_key = signing_key().public_key()
    elif isinstance(public_key, bytes):
        public_key = load_public_key(public_key)
    files = _read_files(package)
    manifest_bytes, signature = files.pop(MANIFEST, None), files.pop(SIGNATURE, None)
    if manifest_bytes is None or signature is None:
        raise PackageInvalid("the manifest or its signature is missing")
    try:
        public_key.verify(signature, manifest_bytes)
    except InvalidSignature:
        raise PackageInvalid("the manifest's signature does not verify with this public key") from None
    try:
        manifest = json.loads(manifest_bytes)
        listed = {entry["name"]: entry for entry in manifest["files"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise PackageInvalid(f"the manifest cannot be read: {exc}") from None
    if set(listed) != set(files):
        raise PackageInvalid("the package's files differ from the manifest's list")
    for name, data in files.items():
        if hashlib.sha256(data).hexdigest() != listed[name]["sha256"] or len(data) != listed[name]["size"]:
            raise PackageInvalid(f"{name} does not match its digest")
    return manifest
