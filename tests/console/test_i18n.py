"""Chinese first, English second: the language chosen per request, and complete, compiled catalogues."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

from django.conf import settings

import pytest

LOGIN = "/accounts/login/"
LOCALE = Path(settings.BASE_DIR) / "locale"
CATALOGUES = {language: LOCALE / language / "LC_MESSAGES" for language in ("zh_Hans", "en")}
FIX = "run manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=var, translate, then compilemessages"


def read_po(path: Path) -> dict[str, str]:
    """Return msgid → msgstr of a .po file (no plurals or contexts: Liveward uses neither)."""
    entries: dict[str, str] = {}
    current: dict[str, list[str]] = {}
    field = None

    def flush() -> None:
        if "msgid" in current:
            msgid = "".join(current["msgid"])
            if msgid:  # the header
                entries[msgid] = "".join(current.get("msgstr", []))
        current.clear()

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("#~"):  # obsolete entries are not compiled
            continue
        if not line:
            flush()
            field = None
        elif line.startswith(("msgid_plural", "msgctxt", "msgstr[")):
            raise AssertionError(f"{path}: plural or context entries need a better parser: {line}")
        elif line.startswith(("msgid ", "msgstr ")):
            field, literal = line.split(" ", 1)
            if field == "msgid" and "msgstr" in current:
                flush()
            current[field] = [ast.literal_eval(literal)]
        elif line.startswith('"') and field:
            current[field].append(ast.literal_eval(line))
    flush()
    return entries


# --- the language of a request ---------------------------------------------------------------


def test_default_language_is_simplified_chinese():
    assert settings.LANGUAGE_CODE == "zh-hans"


@pytest.mark.django_db
def test_login_page_is_chinese_by_default(client):
    body = client.get(LOGIN).content.decode()
    assert '<html lang="zh-hans">' in body
    assert "员工登录" in body and "用户名" in body and "密码" in body
    assert "Staff login" not in body


@pytest.mark.django_db
def test_login_page_is_english_for_a_browser_asking_for_english(client):
    body = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="en">' in body
    assert "Staff login" in body and "Username" in body
    assert "员工登录" not in body


@pytest.mark.django_db
def test_a_chinese_browser_gets_chinese(client):
    body = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert "员工登录" in body


@pytest.mark.django_db
def test_the_language_switcher_changes_the_language_and_goes_back(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": LOGIN})
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert "Staff login" in client.get(LOGIN).content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": LOGIN})
    assert "员工登录" in client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.django_db
def test_a_failed_login_is_explained_in_the_chosen_language(client, patroller):
    zh = client.post(LOGIN, {"username": "patroller", "password": "wrong-password"}).content.decode()
    en = client.post(
        LOGIN, {"username": "patroller", "password": "wrong-password"}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "请输入一个正确的用户名和密码" in zh
    assert "Please enter a correct username and password" in en


# --- the catalogues ---------------------------------------------------------------------------


def test_every_message_has_a_chinese_translation():
    entries = read_po(CATALOGUES["zh_Hans"] / "django.po")
    assert len(entries) > 50
    untranslated = [msgid for msgid, msgstr in entries.items() if not msgstr.strip()]
    assert not untranslated, f"untranslated in zh_Hans: {untranslated}"


def test_python_format_placeholders_survive_translation():
    for msgid, msgstr in read_po(CATALOGUES["zh_Hans"] / "django.po").items():
        placeholders = sorted(re.findall(r"%\(\w+\)[sd]", msgid))
        assert sorted(re.findall(r"%\(\w+\)[sd]", msgstr)) == placeholders, msgid


def test_english_catalogue_holds_the_same_messages_untranslated():
    english = read_po(CATALOGUES["en"] / "django.po")
    assert set(english) == set(read_po(CATALOGUES["zh_Hans"] / "django.po")), FIX
    assert not [msgid for msgid, msgstr in english.items() if msgstr], "English is the source: leave msgstr empty"


@pytest.mark.parametrize("language", sorted(CATALOGUES))
def test_compiled_catalogue_matches_its_po_file(language):
    """The committed .mo is what the .po says, so a fresh clone needs no gettext."""
    entries = read_po(CATALOGUES[language] / "django.po")
    with open(CATALOGUES[language] / "django.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for msgid, msgstr in entries.items():
        assert compiled.gettext(msgid) == (msgstr or msgid), f"{language}: stale .mo for {msgid!r}; {FIX}"
    translated = {msgid for msgid, msgstr in entries.items() if msgstr}
    assert set(compiled._catalog) - {""} == translated, f"{language}: .mo and .po differ; {FIX}"


def _literal_messages() -> set[str]:
    """Single-line literals marked in templates ({% translate "…" %}) and Python (_("…"))."""
    found: set[str] = set()
    template_pattern = re.compile(r"""{%\s*translate\s+(["'])(.+?)\1""")
    for template in (Path(settings.BASE_DIR) / "templates").rglob("*.html"):
        found.update(match.group(2) for match in template_pattern.finditer(template.read_text(encoding="utf-8")))
    python_pattern = re.compile(r"""\b_\("((?:[^"\\]|\\.)*)"\)""")
    for app in ("accounts", "console", "moderation"):
        for module in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            if "migrations" in module.parts:
                continue
            found.update(ast.literal_eval(f'"{m}"') for m in python_pattern.findall(module.read_text(encoding="utf-8")))
    return found


def test_every_marked_literal_is_in_the_catalogue():
    missing = _literal_messages() - set(read_po(CATALOGUES["zh_Hans"] / "django.po"))
    assert not missing, f"marked but not in locale/zh_Hans: {sorted(missing)}; {FIX}"
