"""The package of a report to the authorities (Art. 14): a zip with its files, a manifest and its signature.

``report.json`` holds the report (the stream, the publisher's masked identity and filing status, the
measures taken with their evidence digests, the summary), each JSON evidence item is a file of its
own under ``evidence/``, and ``manifest.json`` lists every file with its SHA-256 and size.
``manifest.sig`` is the HMAC-SHA256 of manifest.json's bytes under LIVEWARD_AUTHORITY_SIGNING_KEY
(unset: a key derived from SECRET_KEY), in hex, with the key's id in the manifest. ``verify_package``
checks a package the way the receiving side would. The content is fixed when the report is filed,
so every download of one report is the same package, byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import zipfile

from django.conf import settings

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
_FIXED_TIME = (2016, 12, 1, 0, 0, 0)  # zip entries carry no clock: the same content gives the same bytes


class PackageInvalid(Exception):
    """The package does not verify: a file changed, is missing or extra, or the signature is wrong."""


def signing_key() -> bytes:
    configured = settings.LIVEWARD_AUTHORITY_SIGNING_KEY
    if configured:
        return configured.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"liveward-authority-package", hashlib.sha256).digest()


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"key-id:" + key).hexdigest()[:16]


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2).encode()


def build_package(content: dict) -> bytes:
    """Return the zip of a report's content: its files, the manifest and the manifest's signature."""
    files: dict[str, bytes] = {"report.json": _json(content["report"])}
    for item in content.get("evidence", []):
        files[f"evidence/{item['action']}-{item['kind']}.json"] = _json(item["content"])
    key = signing_key()
    manifest = _json(
        {
            "reference": content["report"]["reference"],
            "algorithm": "HMAC-SHA256",
            "key_id": key_id(key),
            "files": [
                {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                for name, data in sorted(files.items())
            ],
        }
    )
    files[MANIFEST] = manifest
    files[SIGNATURE] = hmac.new(key, manifest, hashlib.sha256).hexdigest().encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=_FIXED_TIME), data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def verify_package(package: bytes, *, key: bytes | None = None) -> dict:
    """Check the signature and every file against the manifest; return the manifest or raise PackageInvalid."""
    key = signing_key() if key is None else key
    try:
        with zipfile.ZipFile(io.BytesIO(package)) as archive:
            files = {name: archive.read(name) for name in archive.namelist()}
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise PackageInvalid(f"not a package: {exc}") from None
    manifest_bytes, signature = files.pop(MANIFEST, None), files.pop(SIGNATURE, None)
    if manifest_bytes is None or signature is None:
        raise PackageInvalid("the manifest or its signature is missing")
    expected = hmac.new(key, manifest_bytes, hashlib.sha256).hexdigest().encode()
    if not hmac.compare_digest(expected, signature.strip()):
        raise PackageInvalid("the manifest's signature does not verify")
    manifest = json.loads(manifest_bytes)
    listed = {entry["name"]: entry for entry in manifest["files"]}
    if set(listed) != set(files):
        raise PackageInvalid("the package's files differ from the manifest's list")
    for name, data in files.items():
        if hashlib.sha256(data).hexdigest() != listed[name]["sha256"] or len(data) != listed[name]["size"]:
            raise PackageInvalid(f"{name} does not match its digest")
    return manifest
