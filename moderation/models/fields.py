"""Model fields that keep identity encrypted at rest (moderation/identity_cipher.py)."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils.deconstruct import deconstructible

from moderation import identity_cipher


class EncryptedTextField(models.TextField):
    """Text stored encrypted (AES-256-GCM, the column's name as associated data), plain in Python.

    ``max_length`` limits the plain value (forms, validation); the column is text, since the stored
    form is longer. Look-ups by value cannot work (each write has a fresh nonce): search the keyed
    hash kept beside the value instead (moderation/identity.py). Only ``''`` compares, as ``''``.
    """

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        self.cipher_context = f"{cls._meta.app_label}.{cls._meta.model_name}.{self.attname}"

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return identity_cipher.decrypt_text(value, context=self.cipher_context)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return identity_cipher.encrypt_text(value, context=self.cipher_context)


@deconstructible(path="moderation.models.fields.EncryptedFileStorage")
class EncryptedFileStorage(FileSystemStorage):
    """Files under MEDIA_ROOT stored encrypted; opening one gives the plain content (staff views only)."""

    context = "identity-file"

    def _save(self, name, content):
        content.seek(0)
        sealed = identity_cipher.encrypt_bytes(content.read(), context=self.context)
        return super()._save(name, ContentFile(sealed))

    def _open(self, name, mode="rb"):
        with super()._open(name, "rb") as handle:
            stored = handle.read()
        return ContentFile(identity_cipher.decrypt_bytes(stored, context=self.context), name=name)


encrypted_storage = EncryptedFileStorage()


def identity_file_storage() -> EncryptedFileStorage:
    """The storage of identity scans and report images (a callable, so migrations name it, not its state)."""
    return encrypted_storage
