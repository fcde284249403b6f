# Stream keys stored as their SHA-256 (and first characters); a stream keeps the name it was
# published under encrypted; gate decisions keep the presented key's first characters and hash.

import hashlib

from django.db import migrations, models

import moderation.models.fields
from moderation import identity_cipher

BATCH = 500
PREFIX = 6
PUBLISHED_NAME = "moderation.stream.published_name"  # EncryptedTextField.cipher_context


def _sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def _rows(cursor, sql, last):
    cursor.execute(sql, [last, BATCH])
    return cursor.fetchall()


def hash_the_keys(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        last = 0
        while rows := _rows(cursor, "SELECT id, \"key\" FROM moderation_streamkey WHERE id > %s ORDER BY id LIMIT %s", last):
            cursor.executemany(
                "UPDATE moderation_streamkey SET key_hash = %s, key_prefix = %s WHERE id = %s",
                [(_sha256(key), key[:PREFIX], pk) for pk, key in rows],
            )
            last = rows[-1][0]
        last = 0
        while rows := _rows(
            cursor,
            "SELECT s.id, k.\"key\" FROM moderation_stream s JOIN moderation_streamkey k ON k.id = s.key_id"
            " WHERE s.id > %s ORDER BY s.id LIMIT %s",
            last,
        ):
            cursor.executemany(
                "UPDATE moderation_stream SET published_name = %s WHERE id = %s",
                [(identity_cipher.encrypt_text(key, context=PUBLISHED_NAME), pk) for pk, key in rows],
            )
            last = rows[-1][0]
        last = 0
        while rows := _rows(
            cursor,
            "SELECT id, key_name FROM moderation_gatedecision WHERE id > %s AND key_name <> '' ORDER BY id LIMIT %s",
            last,
        ):
            cursor.executemany(
                "UPDATE moderation_gatedecision SET key_hash = %s, key_name = %s WHERE id = %s",
                [(_sha256(name), name[:PREFIX], pk) for pk, name in rows],
            )
            last = rows[-1][0]


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0021_identity_encrypted_at_rest"),
    ]

    operations = [
        migrations.AddField(
            model_name="streamkey",
            name="key_hash",
            field=models.CharField(default="", max_length=64, verbose_name="key hash"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="streamkey",
            name="key_prefix",
            field=models.CharField(blank=True, max_length=6, verbose_name="key prefix"),
        ),
        migrations.AddField(
            model_name="stream",
            name="published_name",
            field=moderation.models.fields.EncryptedTextField(blank=True, max_length=128, verbose_name="published name"),
        ),
        migrations.AddField(
            model_name="gatedecision",
            name="key_hash",
            field=models.CharField(blank=True, db_index=True, max_length=64, verbose_name="key presented (SHA-256)"),
        ),
        # Irreversible: the keys are not kept.
        migrations.RunPython(hash_the_keys, elidable=False),
        migrations.AlterField(
            model_name="gatedecision",
            name="key_name",
            field=models.CharField(blank=True, max_length=8, verbose_name="key presented (first characters)"),
        ),
        migrations.RemoveField(
            model_name="streamkey",
            name="key",
        ),
        migrations.AlterField(
            model_name="streamkey",
            name="key_hash",
            field=models.CharField(max_length=64, unique=True, verbose_name="key hash"),
        ),
    ]
