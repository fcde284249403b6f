"""One name per action in each language (docs/glossary.md): the block's button, its record and its
key help say the same in Chinese and in English."""

from __future__ import annotations

from django.utils import translation

import pytest

from console.views.patrol import WALL_ACTIONS
from moderation.models import ModerationAction


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_block_has_one_name_on_its_button_and_its_record(language):
    with translation.override(language):
        button = {kind: str(label) for kind, _key, label in WALL_ACTIONS}["block"]
        record = str(ModerationAction.Kind.BLOCK.label)
    assert button == record
    assert record == {"zh-hans": "断流", "en": "Cut the stream"}[language]


def test_the_glossary_names_what_the_console_says():
    from pathlib import Path

    glossary = (Path(__file__).resolve().parents[2] / "docs" / "glossary.md").read_text(encoding="utf-8")
    with translation.override("zh-hans"):
        chinese = [str(label) for kind, _key, label in WALL_ACTIONS if kind != "mark_patrolled"]
    for name in [*chinese, "Cut the stream", "已断流", "断流中"]:
        assert name in glossary, name


def test_no_cut_is_called_anything_but_duanliu_in_chinese():
    import polib

    from tests.console.test_i18n import CATALOGUES

    catalogue = polib.pofile(str(CATALOGUES["zh_Hans"] / "django.po"))
    cuts = [entry for entry in catalogue if "cut" in entry.msgid.lower().split() or "cuts" in entry.msgid.lower()]
    assert cuts
    assert not [(entry.msgid, entry.msgstr) for entry in cuts if "阻断" in entry.msgstr or "封禁" in entry.msgstr]
    with translation.override("zh-hans"):
        names = {str(label) for _kind, _key, label in WALL_ACTIONS}
    assert names == {"标记已巡查", "警示", "断流", "暂停发布", "关闭账号", "上报"}
