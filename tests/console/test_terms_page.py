"""The sensitive-term page: compliance admins keep the list, inspectors read it, anyone with it tests a text."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

import pytest

from moderation import actions
from moderation.models import SensitiveTerm, TermListVersion

pytestmark = pytest.mark.django_db
PAGE = "/comments/terms/"


def test_an_admin_adds_a_term_and_sees_it_listed_with_its_version(client, admin):
    client.force_login(admin)
    response = client.post(PAGE, {"term": "微 信", "category": "advertising", "action": "block"})
    assert response.status_code == 302
    page = client.get(PAGE).content.decode()
    assert "微 信" in page and "v1" in page
    assert SensitiveTerm.objects.get().normalised == "微信"


def test_a_duplicate_term_is_a_form_error_and_nothing_changes(client, admin):
    actions.add_term("微信", category="advertising", action="block", actor=admin)
    client.force_login(admin)
    response = client.post(PAGE, {"term": "微-信", "category": "advertising", "action": "hold"})
    assert response.status_code == 200 and "matches the same text" in response.content.decode()
    assert TermListVersion.objects.count() == 1


def test_the_test_box_shows_what_a_sample_matches_and_why(client, admin, settings):
    settings.LIVEWARD_TERMS_REFRESH_SECONDS = 0
    actions.add_term("赌博", category="gambling", action="hold", actor=admin)
    client.force_login(admin)
    page = client.get(PAGE, {"sample": "一起來 賭-博 吧"}).content.decode()
    assert "<mark>赌博</mark>" in page and "gambling" in page and "hold" in page


def test_an_admin_disables_a_term(client, admin):
    term = actions.add_term("赌博", category="gambling", action="hold", actor=admin)
    client.force_login(admin)
    client.post(f"{PAGE}{term.pk}/", {"category": "gambling", "action": "block"})  # the checkbox left empty
    term.refresh_from_db()
    assert (term.enabled, term.action, term.changed_in_version) == (False, "block", 2)


def test_import_and_export_through_the_page(client, admin):
    client.force_login(admin)
    upload = SimpleUploadedFile("terms.txt", "微信\tadvertising\tblock\n代孕\n".encode())
    client.post(f"{PAGE}import/", {"file": upload, "default_category": "other", "default_action": "hold"})
    assert set(SensitiveTerm.objects.values_list("term", "action")) == {("微信", "block"), ("代孕", "hold")}
    exported = client.get(f"{PAGE}export/")
    assert exported["Content-Disposition"].startswith("attachment;")
    assert "代孕\tother\thold" in exported.content.decode()


def test_a_bad_file_is_refused_with_its_lines_named(client, admin):
    client.force_login(admin)
    upload = SimpleUploadedFile("terms.txt", "微信\n\n微信\n".encode())
    response = client.post(f"{PAGE}import/", {"file": upload, "default_category": "other", "default_action": "hold"})
    page = client.get(response["Location"]).content.decode()
    assert "the term is empty" in page and "the same term as line 1" in page
    assert not SensitiveTerm.objects.exists()


def test_an_inspector_reads_but_cannot_change(client, inspector, admin):
    actions.add_term("赌博", category="gambling", action="hold", actor=admin)
    client.force_login(inspector)
    page = client.get(PAGE)
    assert page.status_code == 200 and "赌博" in page.content.decode() and 'name="term"' not in page.content.decode()
    assert client.post(PAGE, {"term": "x", "category": "other", "action": "flag"}).status_code == 403
    assert client.post(f"{PAGE}import/", {}).status_code == 403


def test_a_patroller_does_not_see_the_list(client, patroller):
    client.force_login(patroller)
    assert client.get(PAGE).status_code == 403


def test_the_hold_queue_page_lists_held_comments_by_stream_for_patrollers(
    client, patroller, admin, nginx_node, stream_key
):
    from moderation.gate import rules
    from moderation.models import Stream

    actions.add_term("赌博", category="gambling", action="hold", actor=admin)
    outcome = rules.decide_publish(
        rules.PublishRequest(node=nginx_node, key_name=stream_key.issued_key, app="live", client_id="p-1")
    )
    stream = Stream.objects.get(pk=outcome.stream_id)
    actions.receive_comment(
        stream, external_id="h-1", viewer_id="v", text="赌博吗", viewer_phone_verified=True, actor=None
    )
    client.force_login(patroller)
    page = client.get("/comments/held/").content.decode()
    assert "赌博吗" in page and f'data-stream="{stream.pk}"' in page and "hold-config" in page


def test_an_outsider_has_no_hold_queue(client, outsider):
    client.force_login(outsider)
    assert client.get("/comments/held/").status_code in (302, 403)
