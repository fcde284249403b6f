"""The identity key ring: encryption bound to its column, rotation by command, resumable, and refusals."""

from __future__ import annotations

from io import StringIO

from django.core.management import CommandError, call_command
from django.db import connection

import pytest

from accounts.models import StaffActionLog
from moderation import actions, identity_cipher, identity_rows
from moderation.models import Publisher, VerificationDocument
from moderation.models.fields import encrypted_storage
from tests.conftest import make_publisher

pytestmark = pytest.mark.django_db

OLD_KEY = "tests-only-identity-key-0123456789abcdefghijkl"  # tests/environment.py
NEW_KEY = "a-newer-identity-key-for-rotation-0123456789"
SCAN = b"%PDF-1.4 scan of an ID card"


def stored(column: str, account: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM moderation_publisher WHERE platform_account_id = %s", [account])
        return cursor.fetchone()[0]


def test_a_value_decrypts_only_in_its_own_column_and_a_changed_one_is_refused():
    sealed = identity_cipher.encrypt_text("110105199001011234", context="moderation.publisher.document_number")

    assert identity_cipher.decrypt_text(sealed, context="moderation.publisher.document_number") == "110105199001011234"
    with pytest.raises(identity_cipher.IdentityCipherError):
        identity_cipher.decrypt_text(sealed, context="moderation.publisher.phone")  # copied to another column
    middle = len(sealed) // 2  # a character of the ciphertext itself (the last ones may be base64 padding)
    tampered = sealed[:middle] + ("A" if sealed[middle] != "A" else "B") + sealed[middle + 1 :]
    with pytest.raises(identity_cipher.IdentityCipherError):
        identity_cipher.decrypt_text(tampered, context="moderation.publisher.document_number")
    with pytest.raises(identity_cipher.IdentityCipherError):
        identity_cipher.decrypt_text("110105199001011234", context="moderation.publisher.document_number")
    assert identity_cipher.encrypt_text("", context="x") == ""


def test_rotation_puts_every_value_and_scan_under_the_newest_key_and_old_data_stays_readable(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    first = make_publisher("acct-rot-1", "旋转一号")
    make_publisher("acct-rot-2", "旋转二号")
    old_id = identity_cipher.current_key_id()
    review = actions.submit_verification_review(first, reference="rv-rot", documents=[("id.pdf", SCAN)], actor=None)
    name = review.documents.get().file.name
    assert identity_cipher.bytes_key_id((tmp_path / name).read_bytes()) == old_id
    assert identity_cipher.text_key_id(stored("document_number", "acct-rot-1")) == old_id

    settings.LIVEWARD_IDENTITY_KEYS = [NEW_KEY, OLD_KEY]
    new_id = identity_cipher.current_key_id()
    assert new_id != old_id
    # Before rotation, values under the old key still read, and new writes use the new key.
    assert Publisher.objects.get(platform_account_id="acct-rot-1").document_number == "110105199001011234"
    make_publisher("acct-rot-3", "旋转三号")
    assert identity_cipher.text_key_id(stored("phone", "acct-rot-3")) == new_id

    output = StringIO()
    call_command("rotate_identity_key", "--batch", "1", stdout=output)

    for account in ("acct-rot-1", "acct-rot-2", "acct-rot-3"):
        for column in ("real_name", "document_number", "phone"):
            assert identity_cipher.text_key_id(stored(column, account)) == new_id
    assert identity_cipher.bytes_key_id((tmp_path / name).read_bytes()) == new_id
    assert "moderation_publisher.document_number: 2 re-encrypted" in output.getvalue()
    assert StaffActionLog.objects.filter(verb="identity.rotate_key").count() == 1
    # The old key can go now: everything reads under the new one alone.
    settings.LIVEWARD_IDENTITY_KEYS = [NEW_KEY]
    assert Publisher.objects.get(platform_account_id="acct-rot-2").real_name == "王小明"
    assert encrypted_storage.open(name).read() == SCAN
    # A second run finds nothing left to do.
    assert sum(identity_rows.reencrypt_everything(connection).values()) == 0


def test_a_rotation_stopped_half_way_carries_on_where_it_stopped(settings):
    for index in range(5):
        make_publisher(f"acct-half-{index}", f"半程{index}")
    settings.LIVEWARD_IDENTITY_KEYS = [NEW_KEY, OLD_KEY]
    new_id = identity_cipher.current_key_id()
    spec = identity_rows.ENCRYPTED_COLUMNS[1]  # document_number
    # A first run stopped after its first batch: those two rows are re-encrypted and committed.
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, document_number FROM moderation_publisher ORDER BY id LIMIT 2")
        for pk, value in cursor.fetchall():
            plain = identity_cipher.decrypt_text(value, context=spec.context)
            sealed = identity_cipher.encrypt_text(plain, context=spec.context)
            cursor.execute("UPDATE moderation_publisher SET document_number = %s WHERE id = %s", [sealed, pk])

    assert identity_rows.reencrypt_column(connection, spec, batch=2) == 3  # only the three left

    with connection.cursor() as cursor:
        cursor.execute("SELECT document_number FROM moderation_publisher")
        assert {identity_cipher.text_key_id(value) for (value,) in cursor.fetchall()} == {new_id}


def test_a_missing_old_key_stops_the_rotation_with_a_clear_error_and_changes_nothing(settings):
    make_publisher("acct-lost-1", "丢钥匙")
    before = stored("document_number", "acct-lost-1")
    settings.LIVEWARD_IDENTITY_KEYS = [NEW_KEY]  # the old key was dropped too early

    with pytest.raises(CommandError, match="is every older key still listed"):
        call_command("rotate_identity_key", stdout=StringIO())

    assert stored("document_number", "acct-lost-1") == before


def test_the_data_migration_encrypts_rows_and_scans_written_plain(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    publisher = make_publisher("acct-legacy", "旧数据")
    review = actions.submit_verification_review(
        publisher, reference="rv-legacy", documents=[("id.pdf", SCAN)], actor=None
    )
    path = tmp_path / review.documents.get().file.name
    with connection.cursor() as cursor:  # as a database from before the migration holds them
        cursor.execute(
            "UPDATE moderation_publisher SET real_name = %s, document_number = %s WHERE platform_account_id = %s",
            ["李四", "110105199001011234", "acct-legacy"],
        )
    path.write_bytes(SCAN)

    identity_rows.reencrypt_everything(connection)

    assert identity_cipher.is_encrypted_text(stored("real_name", "acct-legacy"))
    assert Publisher.objects.get(platform_account_id="acct-legacy").real_name == "李四"
    assert path.read_bytes().startswith(identity_cipher.FILE_MAGIC) and SCAN not in path.read_bytes()
    assert VerificationDocument.objects.get().file.open().read() == SCAN
