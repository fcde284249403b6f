"""Domain errors on Chinese pages are Chinese: every known sentence and pattern has a translation,
and the blacklist form says what is wrong with an ID number in the page's language."""

from __future__ import annotations

import re

from django.urls import reverse
from django.utils import translation

import pytest

from console.error_text import PATTERNS, SENTENCES, error_text

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("sentence", sorted(SENTENCES))
def test_every_known_sentence_is_chinese_on_a_chinese_page(sentence):
    with translation.override("zh-hans"):
        assert CJK.search(error_text(sentence)), sentence
    with translation.override("en"):
        assert error_text(sentence)[0].isupper()  # the English page gets a proper sentence


def test_sentences_with_values_keep_them():
    with translation.override("zh-hans"):
        text = error_text("level B: the threshold must lie on the scale")
        assert "B" in text and CJK.search(text)
        assert "news, shows" in error_text("level C: unknown categories news, shows")
    assert len(PATTERNS) >= 5


def test_an_unknown_sentence_is_shown_as_it_is():
    assert error_text("something new") == "something new"


@pytest.mark.django_db
def test_a_wrong_id_check_digit_is_explained_in_chinese_on_the_blacklist_form(client, admin):
    client.force_login(admin)
    response = client.post(
        reverse("console:blacklist-add"),
        {"kind": "id_document", "value": "110105199001011234", "document_type": "resident_id", "reason": "fraud"},
    )
    body = response.content.decode()
    assert "身份证号码的校验码不正确" in body
    assert "check digit" not in body
