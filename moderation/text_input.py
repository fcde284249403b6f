"""What text Liveward takes from outside: the one rule for control characters, lone surrogates and JSON.

Every boundary asks this module: the console's forms (``TextInputForm``), its middleware for paths,
query strings and form bodies (console/middleware.py), the REST API's JSON parser and text fields,
the console's WebSocket, the gate's callbacks and the registration check.

The rule (docs/architecture.md, "Text from outside"):

- control characters (U+0000–U+001F, U+007F–U+009F) are refused; multi-line text (a note, a
  statement, an outline) may hold tab, line feed and carriage return, one-line text none of them;
- lone surrogates (U+D800–U+DFFF) are refused: they are not text and no database stores them;
- JSON is nested at most ``MAX_JSON_DEPTH`` levels; where no serializer names the fields (the
  WebSocket, the gate) every string in it, keys included, follows the multi-line rule, and a field
  then applies its own, stricter one; the REST API leaves the strings to its serializers' fields, so
  their errors name the field;
- nothing is stripped silently except what each boundary already trims: leading and trailing
  whitespace of one-line form and API fields (so a trailing newline there is dropped, not stored).

What was stored before this rule, or by a path that bypasses it, is written to files through
``for_export``, which replaces what a file format cannot hold and leaves the stored value alone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy, gettext_noop

MAX_JSON_DEPTH = 32

_REFUSED_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_REFUSED_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# What a file (XML 1.0 inside XLSX, and the spreadsheets reading a CSV) cannot hold.
_NOT_FOR_FILES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

CONTROL_CHARACTER = gettext_noop("This field contains the control character %(character)s, which is not allowed.")
LINE_BREAK = gettext_noop("This field must be a single line.")
LONE_SURROGATE = gettext_noop("This field contains %(character)s, a lone surrogate, which is not text.")


@dataclass(frozen=True)
class Refusal:
    """Why a text is refused: the first offending character and what kind it is."""

    code: str  # control_character, line_break, lone_surrogate
    character: str

    @property
    def code_point(self) -> str:
        return f"U+{ord(self.character):04X}"

    def describe(self, name: str) -> str:
        """Say in English (for machine clients and records) why ``name`` is refused."""
        if self.code == "line_break":
            return f"{name} must be a single line"
        if self.code == "lone_surrogate":
            return f"{name} contains a lone surrogate ({self.code_point})"
        return f"{name} contains the control character {self.code_point}"

    def validation_error(self) -> ValidationError:
        """The refusal as a translated form or serializer error."""
        message = {"line_break": LINE_BREAK, "lone_surrogate": LONE_SURROGATE}.get(self.code, CONTROL_CHARACTER)
        return ValidationError(gettext_lazy(message), code=self.code, params={"character": self.code_point})


class TextRefused(ValueError):
    """A text broke the rule; the message names the field and the character."""

    def __init__(self, name: str, refusal: Refusal) -> None:
        super().__init__(refusal.describe(name))
        self.refusal = refusal


class JSONRefused(ValueError):
    """A JSON document from outside is malformed, too deeply nested, or holds refused text."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code  # bad_json, too_deep, bad_text


def refusal(text: str, *, multiline: bool = False) -> Refusal | None:
    """Return why this text is refused, or None when it may be taken."""
    match = (_REFUSED_MULTILINE if multiline else _REFUSED_SINGLE_LINE).search(text)
    if match is None:
        return None
    character = match.group()
    if "\ud800" <= character <= "\udfff":
        return Refusal("lone_surrogate", character)
    if character in "\n\r":
        return Refusal("line_break", character)
    return Refusal("control_character", character)


def check_text(text: str, name: str, *, multiline: bool = False) -> str:
    """Return the text unchanged, or raise TextRefused naming ``name``."""
    found = refusal(text, multiline=multiline)
    if found is not None:
        raise TextRefused(name, found)
    return text


def single_line(value: str) -> None:
    """Validator (Django forms, DRF fields): one line of text, no control characters."""
    found = refusal(value)
    if found is not None:
        raise found.validation_error()


def multiline(value: str) -> None:
    """Validator (Django forms, DRF fields): text that may hold tabs and line breaks, no other controls."""
    found = refusal(value, multiline=True)
    if found is not None:
        raise found.validation_error()


class TextInputForm:
    """Form mixin: every text field follows the rule; a Textarea's is multi-line, any other one line."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                field.validators.append(multiline if isinstance(field.widget, forms.Textarea) else single_line)


def load_json(data: str | bytes, *, max_depth: int = MAX_JSON_DEPTH, strings: bool = True) -> Any:
    """Parse a JSON document from outside, or raise JSONRefused: its depth and (``strings``) every string checked."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise JSONRefused("too_deep", f"JSON is nested deeper than {max_depth} levels") from None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise JSONRefused("bad_json", "the body is not JSON") from None
    check_json(value, max_depth=max_depth, strings=strings)
    return value


def check_json(value: Any, *, max_depth: int = MAX_JSON_DEPTH, strings: bool = True) -> None:
    """Raise JSONRefused when parsed JSON nests deeper than ``max_depth`` or (``strings``) a string breaks the rule.

    Walks without recursion, so a deep document cannot exhaust the stack here either.
    """
    if _depth_within(value, max_depth, strings=strings):
        return
    pending: list[tuple[Any, int, str]] = [(value, 0, "")]
    while pending:
        item, depth, path = pending.pop()
        if isinstance(item, str):
            found = refusal(item, multiline=True) if strings else None
            if found is not None:
                raise JSONRefused("bad_text", found.describe(path or "the document"))
            continue
        if not isinstance(item, dict | list):
            continue
        if depth >= max_depth:
            raise JSONRefused("too_deep", f"JSON is nested deeper than {max_depth} levels")
        if isinstance(item, list):
            pending.extend((child, depth + 1, f"{path}[{index}]") for index, child in enumerate(item))
            continue
        for key, child in item.items():
            found = refusal(key, multiline=True) if strings else None
            if found is not None:
                raise JSONRefused("bad_text", found.describe(f"a key in {path or 'the document'}"))
            pending.append((child, depth + 1, f"{path}.{key}" if path else key))


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def _containers_within(value: Any, max_depth: int) -> bool:
    """Tell whether the document's containers nest at most ``max_depth`` deep (``check_json`` without strings).

    Looks at each value's class before asking isinstance: the comment batch's hundreds of objects of
    scalars cost a third of the general walk (profiled).
    """
    if value.__class__ in _JSON_SCALARS or not isinstance(value, dict | list):
        return True
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if depth >= max_depth:
            return False
        depth += 1
        for child in item.values() if isinstance(item, dict) else item:
            kind = child.__class__
            if kind is dict or kind is list or (kind not in _JSON_SCALARS and isinstance(child, dict | list)):
                pending.append((child, depth))
    return True


def _depth_within(value: Any, max_depth: int, *, strings: bool) -> bool:
    """Tell whether the document passes ``check_json`` (the walk without the paths, which only a refusal needs)."""
    if not strings:
        return _containers_within(value, max_depth)
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if strings and refusal(item, multiline=True) is not None:
                return False
            continue
        if not isinstance(item, dict | list):
            continue
        if depth >= max_depth:
            return False
        depth += 1
        if isinstance(item, dict):
            if strings:
                for key in item:
                    if refusal(key, multiline=True) is not None:
                        return False
            item = item.values()
        for child in item:
            if strings or isinstance(child, dict | list):  # without strings, only containers can break the rule
                pending.append((child, depth))
    return True


def for_export(text: str) -> str:
    """Return text a file can hold: each character XLSX or a spreadsheet cannot take becomes U+FFFD."""
    return _NOT_FOR_FILES.sub("\ufffd", text)
