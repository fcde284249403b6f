"""The sensitive-term filter and its list (Art. 9, 11): normalised matching, versions, import and export."""

from __future__ import annotations

import pytest

from accounts.models import StaffActionLog
from moderation import actions, sensitive_terms
from moderation.errors import ModerationError
from moderation.models import SensitiveTerm, TermListVersion

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "text",
    [
        "加微信",
        "加 微 信",
        "加微-信",
        "加微.信",
        "加微\u200b信",
        "加微！！！信",
        "加微😀信",
        "加微信".replace("信", "信\ufeff"),
    ],
)
def test_separators_invisible_characters_and_emoji_between_letters_are_ignored(text):
    assert "微信" in sensitive_terms.normalise(text)


def test_full_width_case_traditional_and_look_alikes_are_folded():
    assert sensitive_terms.normalise("ＶＸ：ＡＢＣ") == "vxabc"
    assert sensitive_terms.normalise("賭博網站") == "赌博网站"
    assert sensitive_terms.normalise("wеchаt") == "wechat"  # Cyrillic е and а
    assert sensitive_terms.normalise("QQ①②③") == "qq123"


def test_a_matcher_finds_every_term_and_the_strongest_action_wins():
    matcher = sensitive_terms.build_matcher(
        7,
        [("微信", "微信", "advertising", "block"), ("赌博", "赌博", "gambling", "hold"), ("傻", "傻", "abuse", "flag")],
    )
    matches = matcher.match("傻瓜才不加 微.信 去賭博")
    assert {hit.term for hit in matches.hits} == {"微信", "赌博", "傻"}
    assert (matches.action, matches.version) == ("block", 7)
    assert matcher.match("今天天气不错").hits == ()
    assert matcher.match("傻").action == "flag"


def test_the_test_box_explains_where_a_text_matches():
    matcher = sensitive_terms.build_matcher(1, [("微信", "微信", "advertising", "hold")])
    explained = matcher.explain("加 微 信")
    assert explained["normalised"] == "加微信"
    assert explained["spans"] == [
        {"start": 1, "end": 3, "term": "微信", "category": "advertising", "action": "hold", "normalised": "微信"}
    ]


def test_an_admin_adds_a_term_and_the_next_match_sees_it(admin, django_capture_on_commit_callbacks):
    assert sensitive_terms.current_matcher().match("加微信").hits == ()
    with django_capture_on_commit_callbacks(execute=True):  # the change drops this process's automaton
        actions.add_term("微 信", category="advertising", action="block", actor=admin)
    matches = sensitive_terms.current_matcher().match("加微信")
    assert matches.blocks and matches.version == 1
    assert SensitiveTerm.objects.get().normalised == "微信"
    assert StaffActionLog.objects.filter(verb="terms.added").count() == 1


def test_another_process_sees_a_change_once_its_refresh_interval_passed(admin, settings):
    settings.LIVEWARD_TERMS_REFRESH_SECONDS = 60
    assert sensitive_terms.current_matcher().version == 0
    # Another worker changes the list: this process's copy is not told, only the version moves.
    SensitiveTerm.objects.create(term="赌博", normalised="赌博", category="gambling", action="block")
    TermListVersion.objects.create(number=1, summary="+ 赌博")
    assert sensitive_terms.current_matcher().version == 0  # still within the interval
    settings.LIVEWARD_TERMS_REFRESH_SECONDS = 0
    assert sensitive_terms.current_matcher().match("来赌博").blocks


def test_a_disabled_term_matches_nothing_and_each_change_is_a_version(admin, settings):
    settings.LIVEWARD_TERMS_REFRESH_SECONDS = 0
    term = actions.add_term("赌博", category="gambling", action="block", actor=admin)
    actions.change_term(term, enabled=False, actor=admin)
    assert sensitive_terms.current_matcher().match("赌博").hits == ()
    assert list(TermListVersion.objects.values_list("number", "enabled_terms")) == [(2, 0), (1, 1)]


def test_only_compliance_admins_change_the_list(patroller, inspector):
    for user in (patroller, inspector):
        with pytest.raises(ModerationError) as refused:
            actions.add_term("赌博", category="gambling", action="block", actor=user)
        assert refused.value.code == "forbidden"
    assert not SensitiveTerm.objects.exists()


@pytest.mark.parametrize("term", ["", "   ", "！！！", "长" * 65, "a\x00b"])
def test_bad_terms_are_refused(admin, term):
    with pytest.raises(ModerationError):
        actions.add_term(term, category="gambling", action="block", actor=admin)
    assert not SensitiveTerm.objects.exists() and not TermListVersion.objects.exists()


def test_two_spellings_of_one_term_are_a_conflict(admin):
    actions.add_term("微信", category="advertising", action="block", actor=admin)
    with pytest.raises(ModerationError) as refused:
        actions.add_term("微 信", category="advertising", action="hold", actor=admin)
    assert refused.value.code == "conflict"


def test_import_adds_and_updates_and_export_gives_the_file_back(admin):
    actions.add_term("赌博", category="gambling", action="hold", actor=admin)
    outcome = actions.import_terms(
        "微信\tadvertising\tblock\n赌博\tgambling\tblock\n# a comment\n代孕\n".encode(), actor=admin
    )
    assert (outcome.added, outcome.changed, outcome.unchanged, outcome.version) == (2, 1, 0, 2)
    assert SensitiveTerm.objects.get(term="赌博").action == "block"
    assert SensitiveTerm.objects.get(term="代孕").category == "other"
    exported = actions.export_terms(actor=admin).decode()
    assert "微信\tadvertising\tblock" in exported and exported.startswith("# Liveward sensitive terms, version 2")
    again = actions.import_terms(exported.encode(), actor=admin)
    assert (again.added, again.changed, again.unchanged) == (0, 0, 3)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("微信\n微 信\n".encode(), "line 2: the same term as line 1"),
        ("微信\n\n赌博\n".encode(), "line 2: the term is empty"),
        (("长" * 65 + "\n").encode(), "line 1: the term is longer than 64"),
        ("微信\tnonsense\n".encode(), "line 1: category must be one of"),
        ("微信\n".encode() + b"\xff\xfe\n", "line 2: not valid UTF-8"),
        (b"", "the file holds no term"),
    ],
)
def test_a_bad_term_file_is_refused_whole_and_names_its_lines(admin, content, problem):
    with pytest.raises(actions.TermFileRefused) as refused:
        actions.import_terms(content, actor=admin)
    assert problem in str(refused.value)
    assert not SensitiveTerm.objects.exists() and not TermListVersion.objects.exists()


def test_a_stream_title_with_a_term_flags_the_stream(admin, nginx_node, publisher, entertainment, settings):
    from moderation.gate import rules
    from moderation.models import Stream

    settings.LIVEWARD_TERMS_REFRESH_SECONDS = 0
    actions.import_terms("赌博\tgambling\thold\n".encode(), actor=admin)
    key = actions.issue_stream_key(publisher, category=entertainment, default_title="今晚一起賭 博")
    outcome = rules.decide_publish(
        rules.PublishRequest(node=nginx_node, key_name=key.issued_key, app="live", client_id="t-1")
    )
    assert outcome.allowed  # the title never holds up the gate's answer
    found = actions.flag_stream_title(outcome.stream_id)
    stream = Stream.objects.get(pk=outcome.stream_id)
    assert found == stream.title_matched_terms == [{"term": "赌博", "category": "gambling", "action": "hold"}]
    assert stream.review_flag == "title: 赌博"


def test_a_clean_title_is_not_flagged(admin, nginx_node, stream_key):
    from moderation.gate import rules
    from moderation.models import Stream

    actions.import_terms("赌博\n".encode(), actor=admin)
    outcome = rules.decide_publish(
        rules.PublishRequest(node=nginx_node, key_name=stream_key.issued_key, app="live", client_id="t-2")
    )
    assert actions.flag_stream_title(outcome.stream_id) == []
    assert Stream.objects.get(pk=outcome.stream_id).review_flag == ""


def test_each_version_keeps_its_terms(admin, client):
    term = actions.add_term("赌博", category="gambling", action="hold", actor=admin)
    actions.add_term("微信", category="advertising", action="block", actor=admin)
    actions.change_term(term, enabled=False, actor=admin)
    files = dict(TermListVersion.objects.values_list("number", "terms_file"))
    assert files[1] == "赌博\tgambling\thold\n"
    assert files[2] == "微信\tadvertising\tblock\n赌博\tgambling\thold\n"  # in normalised order
    assert files[3] == "微信\tadvertising\tblock\n"
    client.force_login(admin)
    download = client.get("/comments/terms/versions/1.txt")
    assert download.status_code == 200 and "赌博\tgambling\thold" in download.content.decode()
    assert client.get("/comments/terms/versions/99.txt").status_code == 404
