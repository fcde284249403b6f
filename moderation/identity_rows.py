"""Where identity is stored encrypted, and re-encrypting it in batches (moderation/identity_cipher.py).

The data migration that first encrypted the rows (0017) and the key rotation
(``manage.py rotate_identity_key``) share these functions. They read and write the columns by raw
SQL, in primary-key order, a batch per transaction, so a run stopped half-way resumes where it was:
a value already under the newest key is left alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from moderation import identity_cipher


@dataclass(frozen=True)
class EncryptedColumn:
    table: str
    column: str
    context: str  # EncryptedTextField.cipher_context: app_label.model_name.attname


@dataclass(frozen=True)
class EncryptedFiles:
    table: str
    column: str


ENCRYPTED_COLUMNS = (
    EncryptedColumn("moderation_publisher", "real_name", "moderation.publisher.real_name"),
    EncryptedColumn("moderation_publisher", "document_number", "moderation.publisher.document_number"),
    EncryptedColumn("moderation_publisher", "phone", "moderation.publisher.phone"),
    EncryptedColumn(
        "moderation_publisher", "organisation_licence_number", "moderation.publisher.organisation_licence_number"
    ),
    EncryptedColumn("moderation_publicreport", "contact", "moderation.publicreport.contact"),
)
ENCRYPTED_FILES = (
    EncryptedFiles("moderation_verificationdocument", "file"),
    EncryptedFiles("moderation_reportimage", "file"),
)
FILE_CONTEXT = "identity-file"  # EncryptedFileStorage.context
BATCH = 500


def _batches(connection, table: str, column: str, batch: int) -> Iterator[list[tuple[int, str]]]:
    quote = connection.ops.quote_name
    last = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, {quote(column)} FROM {quote(table)} WHERE id > %s AND {quote(column)} <> '' "
                f"ORDER BY id LIMIT %s",
                [last, batch],
            )
            rows = cursor.fetchall()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def reencrypt_column(connection, spec: EncryptedColumn, *, batch: int = BATCH) -> int:
    """Encrypt a column's plain values and re-encrypt those under an older key; return how many changed."""
    current = identity_cipher.current_key_id()
    quote = connection.ops.quote_name
    changed = 0
    for rows in _batches(connection, spec.table, spec.column, batch):
        updates = []
        for pk, stored in rows:
            if identity_cipher.text_key_id(stored) == current:
                continue
            plain = (
                identity_cipher.decrypt_text(stored, context=spec.context)
                if identity_cipher.is_encrypted_text(stored)
                else stored
            )
            updates.append((identity_cipher.encrypt_text(plain, context=spec.context), pk))
        if updates:
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.executemany(f"UPDATE {quote(spec.table)} SET {quote(spec.column)} = %s WHERE id = %s", updates)
            changed += len(updates)
    return changed


def decrypt_column(connection, spec: EncryptedColumn, *, batch: int = BATCH) -> int:
    """Store a column's values plain again (the data migration's reverse)."""
    quote = connection.ops.quote_name
    changed = 0
    for rows in _batches(connection, spec.table, spec.column, batch):
        updates = [
            (identity_cipher.decrypt_text(stored, context=spec.context), pk)
            for pk, stored in rows
            if identity_cipher.is_encrypted_text(stored)
        ]
        if updates:
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.executemany(f"UPDATE {quote(spec.table)} SET {quote(spec.column)} = %s WHERE id = %s", updates)
            changed += len(updates)
    return changed


def _write_private(path: Path, content: bytes) -> None:
    temporary = path.with_name(path.name + ".rotating")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    os.replace(temporary, path)


def reencrypt_files(connection, spec: EncryptedFiles, *, batch: int = BATCH, decrypt: bool = False) -> int:
    """Encrypt the plain files of a file column, re-encrypt those under an older key; return how many changed.

    A file missing on disk is skipped (the records audit reports it). With ``decrypt`` the files are
    stored plain again (the data migration's reverse).
    """
    current = identity_cipher.current_key_id()
    root = Path(settings.MEDIA_ROOT)
    changed = 0
    for rows in _batches(connection, spec.table, spec.column, batch):
        for _pk, name in rows:
            path = root / name
            try:
                stored = path.read_bytes()
            except FileNotFoundError:
                continue
            key_id = identity_cipher.bytes_key_id(stored)
            plain = identity_cipher.decrypt_bytes(stored, context=FILE_CONTEXT) if key_id else stored
            if decrypt:
                if key_id:
                    _write_private(path, plain)
                    changed += 1
            elif key_id != current:
                _write_private(path, identity_cipher.encrypt_bytes(plain, context=FILE_CONTEXT))
                changed += 1
    return changed


def reencrypt_everything(connection, *, batch: int = BATCH) -> dict[str, int]:
    """Bring every encrypted column and file under the newest key; return the changes per column."""
    counts = {}
    for column in ENCRYPTED_COLUMNS:
        counts[f"{column.table}.{column.column}"] = reencrypt_column(connection, column, batch=batch)
    for spec in ENCRYPTED_FILES:
        counts[f"{spec.table}.{spec.column} (files)"] = reencrypt_files(connection, spec, batch=batch)
    return counts
