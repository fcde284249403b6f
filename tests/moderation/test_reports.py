"""Public reports (Art. 19): filing, the card's count and priority, limits, images, claim, resolve, dismiss, overdue."""

from __future__ import annotations

import struct
import zlib
from datetime import timedelta

from django.utils import timezone

import pytest

from moderation import actions, queries, report_intake, report_proof
from moderation.errors import ModerationError
from moderation.models import ModerationAction, PublicReport, Stream

pytestmark = pytest.mark.django_db


def png_bytes() -> bytes:
    """A real 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def proof() -> dict:
    """The public form's proof of work for one report, solved as the page's script does (a new challenge each)."""
    given = report_proof.new_challenge()
    return {"proof_challenge": given["challenge"], "proof_nonce": report_proof.solve(given["challenge"], given["bits"])}


def open_live(stream_key, node, client_id: str = "1", title: str = "深夜食堂直播") -> Stream:
    return actions.open_stream(
        stream_key,
        published_name=stream_key.issued_key,
        node=node,
        app="live",
        client_id=client_id,
        addr="10.0.0.1",
        title=title,
    )


def file(stream: Stream, **overrides) -> PublicReport:
    given = {
        "source": PublicReport.Source.WEB,
        "target_kind": PublicReport.Target.STREAM,
        "target": stream.pk,
        "category": "pornography",
        "description": "主播在直播中有不雅行为",
        "address": "203.0.113.9",
    }
    return actions.file_report(**(given | overrides))


@pytest.fixture
def live(stream_key, nginx_node):
    return open_live(stream_key, nginx_node)


def test_a_report_counts_on_the_card_and_raises_the_stream_above_riskier_tiers(
    live, nginx_node, news, agreement, settings
):
    from tests.conftest import make_publisher

    other = make_publisher("acct-2002", "新闻主播")
    other_key = actions.issue_stream_key(other, category=actions.create_category("games", name="游戏", risk_tier=1))
    riskier = open_live(other_key, nginx_node, client_id="2", title="游戏直播")
    _total, before = queries.queue_window()
    assert [card["id"] for card in before] == [riskier.pk, live.pk]
    assert before[1]["open_reports"] == 0

    file(live)
    file(live, category="minors")
    _total, after = queries.queue_window()
    assert [card["id"] for card in after] == [live.pk, riskier.pk]
    assert after[0]["open_reports"] == 2
    assert after[0]["priority"] > after[1]["priority"]


def test_reports_name_a_publisher_or_comment_and_find_its_live_stream(live, publisher):
    by_publisher = file(live, target_kind="publisher", target=publisher.platform_account_id)
    assert by_publisher.stream_id == live.pk and by_publisher.publisher_id == publisher.pk
    comment = actions.receive_comment(live, external_id="c-1", viewer_id="v-1", text="加我微信看更多", actor=None)
    by_comment = file(live, target_kind="comment", target=comment.external_id, category="fraud")
    assert by_comment.comment_id == comment.pk and by_comment.stream_id == live.pk


@pytest.mark.parametrize(
    ("kind", "target"),
    [
        ("stream", 999999),
        ("stream", "1; DROP TABLE"),
        ("publisher", "nobody"),
        ("comment", "nope"),
        ("url", "javascript:alert(1)"),
        ("planet", "x"),
    ],
)
def test_unknown_targets_are_refused_and_nothing_is_stored(live, kind, target):
    with pytest.raises(ModerationError) as refused:
        file(live, target_kind=kind, target=target)
    assert refused.value.code in {"unknown_target", "bad_field"}
    assert not PublicReport.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("category", "ufo"),
        ("description", ""),
        ("description", "x" * 2001),
        ("description", "a\x00b"),
        ("contact", "a\nb"),
    ],
)
def test_bad_fields_are_refused(live, field, value):
    with pytest.raises(ModerationError):
        file(live, **{field: value})
    assert not PublicReport.objects.exists()


def test_markup_is_stored_as_text(live):
    report = file(live, description="<script>alert(1)</script>", contact="<b>x</b>@example.com")
    assert report.description == "<script>alert(1)</script>"
    assert queries.report_rows([report.pk])[0]["contact"] == "<***@example.com"


def test_images_are_checked_by_their_bytes():
    good = report_intake.check_images([png_bytes()])
    assert good[0].content_type == "image/png" and len(good[0].sha256) == 64
    for not_an_image in [b"<html><script>alert(1)</script></html>" * 2, b"\x89PNG" + b"\x00" * 100, b"GIF89a<svg>"]:
        with pytest.raises(report_intake.ReportRefused) as refused:
            report_intake.check_images([not_an_image])
        assert refused.value.code == "not_an_image"
    with pytest.raises(report_intake.ReportRefused) as refused:
        report_intake.check_images([b"\xff\xd8\xff" + b"\x00" * report_intake.MAX_IMAGE_BYTES + b"\xff\xd9"])
    assert refused.value.code == "image_too_large"
    with pytest.raises(report_intake.ReportRefused) as refused:
        report_intake.check_images([png_bytes()] * 4)
    assert refused.value.code == "too_many_images"


def test_images_are_stored_with_their_digest(live):
    report = file(live, images=report_intake.check_images([png_bytes()]))
    image = report.images.get()
    assert image.file.name.startswith("reports/") and image.file.name.endswith(".png")
    assert image.content_type == "image/png" and image.size == len(png_bytes())


def test_limits_per_address_and_per_device(settings, clear_cache):
    settings.LIVEWARD_REPORT_LIMIT_PER_HOUR = 2
    report_intake.count_against_limits(address="198.51.100.1", device_id="")
    report_intake.count_against_limits(address="198.51.100.1", device_id="")
    with pytest.raises(report_intake.ReportRefused) as refused:
        report_intake.count_against_limits(address="198.51.100.1", device_id="")
    assert refused.value.status == 429
    report_intake.count_against_limits(address="198.51.100.2", device_id="phone-1")
    report_intake.count_against_limits(address="198.51.100.3", device_id="phone-1")
    with pytest.raises(report_intake.ReportRefused):
        report_intake.count_against_limits(address="198.51.100.4", device_id="phone-1")


def test_the_queue_is_never_filled_beyond_its_limit(live, settings):
    settings.LIVEWARD_REPORT_QUEUE_LIMIT = 2
    file(live)
    file(live)
    with pytest.raises(ModerationError) as refused:
        file(live)
    assert refused.value.code == "queue_full"
    assert PublicReport.objects.count() == 2


def test_the_deadline_is_per_category(live, settings):
    settings.LIVEWARD_REPORT_DEADLINES = {"minors": 30}
    ordinary, minors = file(live), file(live, category="minors")
    assert (ordinary.respond_by - ordinary.received_at).total_seconds() == 90
    assert (minors.respond_by - minors.received_at).total_seconds() == 30
    assert [report.pk for report in queries.reports_for_queue()] == [minors.pk, ordinary.pk]


def test_claiming_is_the_first_response_and_someone_elses_claim_holds(live, patroller, admin, inspector):
    report = file(live)
    with pytest.raises(ModerationError):
        actions.claim_report(report, actor=inspector)
    claimed = actions.claim_report(report, actor=patroller)
    assert claimed.status == PublicReport.Status.CLAIMED and claimed.first_response_at is not None
    with pytest.raises(ModerationError) as refused:
        actions.claim_report(report, actor=admin)
    assert refused.value.code == "claimed"
    with pytest.raises(ModerationError):
        actions.dismiss_report(report, actor=admin, note="不是违规")


def test_resolving_with_a_block_links_it_and_resolves_every_open_report_on_the_stream(live, patroller):
    first, second = file(live), file(live, category="minors")
    resolved = actions.resolve_report(first, actor=patroller, measure="block", reason="pornography", note="核实属实")
    block = ModerationAction.objects.get(kind=ModerationAction.Kind.BLOCK, stream=live)
    assert resolved.status == PublicReport.Status.RESOLVED and resolved.action_id == block.pk
    second.refresh_from_db()
    assert second.status == PublicReport.Status.RESOLVED and second.action_id == block.pk
    assert second.first_response_at is not None
    assert queries.cards_for_streams([live.pk])[live.pk]["open_reports"] == 0
    with pytest.raises(ModerationError) as refused:
        actions.dismiss_report(first, actor=patroller, note="again")
    assert refused.value.code == "handled"


def test_a_resolution_that_fails_changes_nothing(live, patroller):
    report = file(live)
    with pytest.raises(ModerationError):
        actions.resolve_report(report, actor=patroller, measure="block", reason="not-a-reason")
    with pytest.raises(ModerationError):
        actions.resolve_report(report, actor=patroller, measure="link", action_id=424242)
    report.refresh_from_db()
    assert report.status == PublicReport.Status.OPEN and not ModerationAction.objects.exists()


def test_a_measure_taken_already_can_be_linked(live, patroller):
    report = file(live)
    warning = actions.warn_publisher(live, actor=patroller, reason="pornography")
    resolved = actions.resolve_report(report, actor=patroller, measure="link", action_id=warning.pk)
    assert resolved.action_id == warning.pk


def test_a_dismissal_needs_a_reason(live, patroller):
    report = file(live)
    with pytest.raises(ModerationError):
        actions.dismiss_report(report, actor=patroller, note="  ")
    dismissed = actions.dismiss_report(report, actor=patroller, note="画面正常，未见违规")
    assert dismissed.status == PublicReport.Status.DISMISSED and dismissed.decided_by == patroller


def test_overdue_reports_are_found_once(live, patroller):
    late, answered, fresh = file(live), file(live), file(live)
    PublicReport.objects.filter(pk__in=[late.pk, answered.pk]).update(respond_by=timezone.now() - timedelta(seconds=1))
    actions.claim_report(answered, actor=patroller)
    assert actions.find_overdue_reports() == [late.pk]
    assert actions.find_overdue_reports() == []
    assert queries.report_rows([late.pk])[0]["overdue"] is True
    assert not PublicReport.objects.get(pk=fresh.pk).overdue_at


def test_the_audit_finds_each_overdue_report_once(live, patroller):
    from moderation import audits
    from moderation.models import Finding

    late, answered = file(live), file(live, category="minors")
    PublicReport.objects.filter(pk__in=[late.pk, answered.pk]).update(respond_by=timezone.now() - timedelta(seconds=5))
    actions.claim_report(answered, actor=patroller)
    summary = audits.run_audit("public_reports", task_id="audit-1")
    assert summary == {"overdue": 1, "newly_overdue": 1}
    finding = Finding.objects.get()
    assert finding.key == f"report:{late.pk}:overdue" and finding.stream_id == live.pk
    assert audits.run_audit("public_reports", task_id="audit-2") == {"overdue": 1, "newly_overdue": 0}
    assert Finding.objects.get().times_seen == 2
