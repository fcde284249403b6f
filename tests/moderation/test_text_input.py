"""The one rule for text from outside (moderation/text_input.py), and the export that writes whatever was stored."""

from __future__ import annotations

import csv
import io
import json

from django import forms
from django.utils import timezone

import pytest
from openpyxl import load_workbook

from moderation import actions, text_input
from moderation.identity import Kind
from moderation.models import BlacklistEntry, Publisher, ReasonCode

C0_CONTROLS = [chr(code) for code in range(0x20) if chr(code) not in "\t\n\r"]
REFUSED_EVERYWHERE = ["\x00", *C0_CONTROLS, "\x7f", "\x85", "\x9f", "\ud800", "\udfff"]


# --- the rule -----------------------------------------------------------------------------------


@pytest.mark.parametrize("character", REFUSED_EVERYWHERE, ids=lambda c: f"U+{ord(c):04X}")
def test_control_characters_and_lone_surrogates_are_refused_in_any_text(character):
    for multiline in (False, True):
        found = text_input.refusal(f"a{character}b", multiline=multiline)
        assert found is not None and found.character == character
    assert text_input.refusal(f"a{character}b").code == (
        "lone_surrogate" if "\ud800" <= character <= "\udfff" else "control_character"
    )


@pytest.mark.parametrize("character", ["\t", "\n", "\r"], ids=["tab", "line feed", "carriage return"])
def test_tab_and_line_breaks_pass_only_in_multi_line_text(character):
    assert text_input.refusal(f"第一行{character}第二行", multiline=True) is None
    assert text_input.refusal(f"第一行{character}第二行") is not None


def test_ordinary_text_passes():
    for text in ["", "美食小当家 🍜", "O'Brien & Co. <b>", "\u00a0non-breaking", "تست"]:
        assert text_input.refusal(text) is None


def test_a_refusal_names_the_field_and_the_character():
    with pytest.raises(text_input.TextRefused, match=r"^title contains the control character U\+0000$"):
        text_input.check_text("a\x00b", "title")
    with pytest.raises(text_input.TextRefused, match=r"^note contains a lone surrogate \(U\+D800\)$"):
        text_input.check_text("a\ud800", "note", multiline=True)
    with pytest.raises(text_input.TextRefused, match=r"^name must be a single line$"):
        text_input.check_text("a\nb", "name")


def test_the_form_mixin_refuses_in_every_text_field_and_line_breaks_in_one_line_fields():
    class NoteForm(text_input.TextInputForm, forms.Form):
        name = forms.CharField()
        note = forms.CharField(widget=forms.Textarea, required=False)

    assert NoteForm({"name": "小王", "note": "第一行\r\n第二行\t完"}).is_valid()
    nul = NoteForm({"name": "小王", "note": "a\x00b"})
    bell = NoteForm({"name": "a\x07b", "note": ""})
    two_lines = NoteForm({"name": "a\nb", "note": ""})
    assert not nul.is_valid() and not bell.is_valid() and not two_lines.is_valid()
    assert "U+0007" in bell.errors["name"][0]
    assert two_lines.errors["name"] == ["此字段只能填写一行。"]
    # A trailing newline in a one-line field is trimmed as all surrounding whitespace is, not stored.
    trailing = NoteForm({"name": "小王\n", "note": ""})
    assert trailing.is_valid() and trailing.cleaned_data["name"] == "小王"


# --- JSON -----------------------------------------------------------------------------------------


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_json_nested_32_levels_is_taken_33_and_1000_are_refused():
    assert text_input.load_json(nested(32)) is not None
    assert text_input.load_json(json.dumps({"a": json.loads(nested(31))})) is not None
    for document in (nested(33), nested(1000), nested(100_000), '{"a":' * 40 + "1" + "}" * 40):
        with pytest.raises(text_input.JSONRefused) as refused:
            text_input.load_json(document)
        assert refused.value.code == "too_deep"
        assert "32 levels" in str(refused.value)


def test_json_strings_and_keys_are_held_to_the_multi_line_rule():
    assert text_input.load_json('{"note": "a\\nb\\tc"}') == {"note": "a\nb\tc"}
    for document, where in [
        ('{"note": "a\\u0000b"}', "note"),
        ('{"list": ["ok", "\\ud800"]}', "list[1]"),
        ('{"a": {"b": "\\u001b[31m"}}', "a.b"),
        ('{"k\\u0000": 1}', "a key in the document"),
    ]:
        with pytest.raises(text_input.JSONRefused) as refused:
            text_input.load_json(document)
        assert refused.value.code == "bad_text" and str(refused.value).startswith(where)


def test_malformed_json_is_refused_as_such():
    for document in ("{", b"\xff\xfe\x00", "", "NaN-ish"):
        with pytest.raises(text_input.JSONRefused) as refused:
            text_input.load_json(document)
        assert refused.value.code == "bad_json"


# --- files ----------------------------------------------------------------------------------------


def test_for_export_replaces_what_files_cannot_hold_and_keeps_the_rest():
    assert text_input.for_export("a\x00b\x07c\x1bd\ufffee") == "a\ufffdb\ufffdc\ufffdd\ufffde"
    assert text_input.for_export("第一行\r\n第二行\t完") == "第一行\r\n第二行\t完"


@pytest.mark.django_db
def test_an_export_writes_a_control_character_in_a_note_and_a_display_name(admin, agreement):
    # The platform API accepted such names before the rule, and rows stored then are still there.
    publisher = actions.register_publisher(
        "acct-ctl", display_name="主播\x07小\x1b王", phone="+8613911112222", agreement_version="2026-01"
    )
    entry = actions.add_blacklist_entry(
        Kind.PHONE,
        "13911112222",
        actor=admin,
        reason=ReasonCode.FRAUD,
        note="第一行\x01\x0b第二行\n第三行",
        source_publisher=publisher,
    )
    today = timezone.localdate()

    export = actions.export_blacklist(actor=admin, period_start=today, period_end=today)

    assert export.entry_count == 1
    rows = list(csv.reader(io.StringIO(export.csv_file.read().decode("utf-8-sig"))))
    row = dict(zip([title.split(" ")[0] for title in rows[0]], rows[1], strict=True))
    assert row["主播名称"] == "主播\ufffd小\ufffd王"
    assert row["说明"] == "第一行\ufffd\ufffd第二行\n第三行"
    sheet = load_workbook(io.BytesIO(export.xlsx_file.read())).active
    assert sheet.cell(row=2, column=6).value == "主播\ufffd小\ufffd王"
    assert sheet.cell(row=2, column=9).value == "第一行\ufffd\ufffd第二行\n第三行"
    # The stored values are what was given; only the files carry the replacement.
    assert Publisher.objects.get(pk=publisher.pk).display_name == "主播\x07小\x1b王"
    assert BlacklistEntry.objects.get(pk=entry.pk).note == "第一行\x01\x0b第二行\n第三行"
