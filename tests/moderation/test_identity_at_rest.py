"""A raw dump of every table and of the var/ and media files shows no identity or secret in plain text (issue 12).

Publishers, an organisation, a manual review with its scans, a public report with a contact and an
image, and stream keys (issued by the API, published through the gate, and an unknown one refused
there) are created through the real API, pages and gate callbacks; then every column of every table is read by raw
SQL (on SQLite and on PostgreSQL, whichever the run uses) and every file under var/ and MEDIA_ROOT
is read byte for byte, looking for each value as given, normalised and JSON-escaped.
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse

import pytest

from moderation import identity_cipher
from moderation.identity import resident_id_check_digit
from moderation.models import PublicReport, Publisher, VerificationDocument
from tests.conftest import PASSWORD
from tests.moderation.test_api import platform  # noqa: F401
from tests.moderation.test_gate import on_publish
from tests.moderation.test_onboarding_api import register
from tests.moderation.test_reports import open_live, png_bytes, proof

pytestmark = pytest.mark.django_db

# DRF's token table keeps API tokens as issued until machine clients' tokens are stored hashed (h12d).


def random_digits(count: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(count))


def random_resident_id() -> str:
    first17 = "110105" + "19" + random_digits(2) + "0612" + random_digits(3)
    return first17 + resident_id_check_digit(first17)


def forms_of(value: str) -> set[str]:
    """A value as stored plainly might look: as given, JSON-escaped (Django's JSON on SQLite), upper-cased."""
    return {value, json.dumps(value)[1:-1], value.upper()}


def raw_rows() -> dict[str, list[tuple]]:
    """Every row of every table, every column, read by raw SQL."""
    dump = {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {quote(table)}")
            dump[table] = cursor.fetchall()
    return dump


def cell_text(value) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("latin-1")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False) + json.dumps(value)
    return str(value)


def found_in_tables(secrets_by_label: dict[str, set[str]]) -> list[tuple[str, str]]:
    hits = []
    for table, rows in raw_rows().items():
        text = "\n".join(cell_text(value) for row in rows for value in row)
        for label, forms in secrets_by_label.items():
            if any(form in text for form in forms):
                hits.append((label, table))
    return hits


# Reads the files in a child process: in this one, opening and closing the SQLite file the tests use
# would drop this process's POSIX locks on it (SQLite's documented pitfall) and break the database.
_SCAN_FILES = """
import json, os, sys
roots, needles = json.loads(sys.stdin.read())
hits = []
for root in roots:
    for directory, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            try:
                with open(path, "rb") as handle:
                    content = handle.read()
            except OSError:  # a socket, or a -wal or -journal gone meanwhile
                continue
            hits += [[label, path] for label, needle in needles if bytes.fromhex(needle) in content]
print(json.dumps(hits))
"""


def found_in_files(secrets_by_label: dict[str, set[str]], blobs: dict[str, bytes]) -> list[tuple[str, str]]:
    """Every file under var/ and MEDIA_ROOT that holds one of the values (any form) or blobs."""
    needles = [(label, form.encode().hex()) for label, forms in secrets_by_label.items() for form in forms]
    needles += [(label, blob.hex()) for label, blob in blobs.items()]
    roots = [str(settings.VAR_DIR), str(settings.MEDIA_ROOT)]
    scan = subprocess.run(
        [sys.executable, "-c", _SCAN_FILES],
        input=json.dumps([roots, needles]),
        capture_output=True,
        text=True,
        check=True,
    )
    return sorted({(label, path) for label, path in json.loads(scan.stdout)})


@pytest.fixture
def identities(platform, agreement, entertainment, nginx_node, stream_key, clear_cache):  # noqa: F811
    """Create identity through the API and the public page; return what must never be stored plain."""
    person = {
        "real_name": "欧阳" + secrets.choice("明远清华") + secrets.choice("志海云山"),
        "document_number": random_resident_id(),
        "phone": "139" + random_digits(8),
    }
    register(platform, platform_account_id="acct-at-rest-1", **person)
    licence = "91110105MA" + random_digits(8)
    organisation = {"real_name": "远山" + random_digits(4) + "文化传媒有限公司", "organisation_licence_number": licence}
    register(
        platform,
        platform_account_id="acct-at-rest-2",
        kind="organisation",
        document_type="business_licence",
        document_number=licence,
        phone="137" + random_digits(8),
        **organisation,
    )

    scan = b"%PDF-1.4\n" + b"ID-SCAN-" + secrets.token_hex(16).encode() + b"\n" + b"x" * 64
    document = {"name": "身份证.pdf", "content_base64": base64.b64encode(scan).decode()}
    review = platform.post(
        reverse("api-publisher-verification-reviews", args=["acct-at-rest-1"]),
        {"reference": "rv-at-rest", "documents": [document]},
        format="json",
    )
    assert review.status_code == 201, review.content

    contact = "136" + random_digits(8)
    image = png_bytes()
    live = open_live(stream_key, nginx_node)
    public = Client(REMOTE_ADDR="203.0.113.9")
    answer = public.post(
        "/report/",
        {
            "target_kind": "stream",
            "target": str(live.pk),
            "category": "pornography",
            "description": "主播有不雅行为",
            "contact": contact,
            "images": [SimpleUploadedFile("photo.png", image, content_type="image/png")],
        }
        | proof(),
    )
    assert answer.status_code == 302, answer.content

    issued = platform.post(
        reverse("api-publisher-stream-keys", args=["acct-1001"]), {"category": "entertainment"}, format="json"
    )
    assert issued.status_code == 201, issued.content
    issued_key = issued.json()["key"]
    assert on_publish(Client(), issued_key, client_id="at-rest-1").status_code == 200  # live: the node knows it
    unknown_key = secrets.token_urlsafe(24)
    assert on_publish(Client(), unknown_key, client_id="at-rest-2").status_code == 403

    values = {
        "real name": forms_of(person["real_name"]),
        "ID number": forms_of(person["document_number"]) | {person["document_number"][6:14]},
        "phone": forms_of(person["phone"]),
        "organisation name": forms_of(organisation["real_name"]),
        "licence number": forms_of(licence),
        "organisation phone": forms_of(Publisher.objects.get(platform_account_id="acct-at-rest-2").phone),
        "reporter's contact": forms_of(contact),
        "stream key issued by the API": {issued_key},
        "stream key of the fixture": {stream_key.issued_key},
        "stream key refused at the gate": {unknown_key},
    }
    blobs = {"identity scan": scan, "report image": image}
    return values, blobs


def test_no_identity_is_stored_plain_in_any_table_or_file(identities):
    values, blobs = identities

    # The dump sees the rows: a value kept plain on purpose (the public display name) is found.
    assert ("display name", "moderation_publisher") in found_in_tables({"display name": forms_of("山野行者")})
    assert found_in_tables(values) == []
    # The scan reads the files: a value written plain into MEDIA_ROOT is found.
    probe = Path(settings.MEDIA_ROOT) / f"probe-{secrets.token_hex(4)}.txt"
    probe.write_text("probe 探针")
    try:
        assert found_in_files({"probe": {"探针"}}, {}) == [("probe", str(probe))]
    finally:
        probe.unlink()
    assert found_in_files(values, blobs) == []
    # The stored forms are the encrypted ones, and the models still read them back.
    assert Publisher.objects.get(platform_account_id="acct-at-rest-1").real_name in values["real name"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT real_name, document_number, phone FROM moderation_publisher WHERE real_name <> ''")
        stored = [value for row in cursor.fetchall() for value in row]
    assert stored and all(identity_cipher.is_encrypted_text(value) for value in stored)
    for document in VerificationDocument.objects.all():
        assert Path(document.file.path).read_bytes().startswith(identity_cipher.FILE_MAGIC)
    assert PublicReport.objects.get().contact in values["reporter's contact"]


def test_staff_get_the_scans_and_images_decrypted_never_as_a_page(identities, client, admin):
    _values, blobs = identities
    client.login(username=admin.username, password=PASSWORD)

    document = VerificationDocument.objects.get()
    scan = client.get(reverse("console:verification-document", args=[document.pk]))
    image = client.get(reverse("console:report-image", args=[PublicReport.objects.get().images.get().pk]))

    for answer, blob in [(scan, blobs["identity scan"]), (image, blobs["report image"])]:
        assert answer.status_code == 200
        assert b"".join(answer.streaming_content) == blob
        assert answer["X-Content-Type-Options"] == "nosniff"
        assert "html" not in answer["Content-Type"]
        # Images are shown in the page; anything else (a PDF scan) only downloads (console/file_responses.py).
        shown = answer["Content-Type"].startswith("image/")
        assert answer["Content-Disposition"].startswith("inline" if shown else "attachment")


def test_a_scan_whose_bytes_were_changed_on_disk_is_refused_not_served(identities, client, admin):
    client.login(username=admin.username, password=PASSWORD)
    document = VerificationDocument.objects.get()
    path = Path(document.file.path)
    stored = bytearray(path.read_bytes())
    stored[-1] ^= 0x01
    path.write_bytes(bytes(stored))

    answer = client.get(reverse("console:verification-document", args=[document.pk]))

    assert answer.status_code == 404


def test_api_tokens_issued_are_not_stored_plain(platform):  # noqa: F811
    token = platform._credentials["HTTP_AUTHORIZATION"].split()[-1]
    # Machine clients' tokens are kept as a prefix and a SHA-256 (accounts.ApiToken); DRF's table stays empty.
    assert found_in_tables({"API token": {token}}) == []
