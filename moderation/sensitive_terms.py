"""The sensitive-term filter (Art. 9, 11): normalise a text, find the terms of the current list in it.

Matching runs on a normalised text, and every term is normalised the same way when the list is
built, so the two meet:

1. NFKC (full-width to half-width, compatibility forms such as ① to 1), then case folding;
2. look-alike characters folded to the letter they imitate (Cyrillic а → a, 〇 → 0, …);
3. everything that is not a letter or a digit dropped: spaces, punctuation however repeated,
   zero-width and other invisible characters, emoji (so 微 信, 微-信, 微.信 and 微​信 read 微信);
4. traditional characters to simplified by OpenCC (t2s).

One Aho–Corasick automaton (pyahocorasick) holds every enabled term of a list version. It is built
once per version and shared by every thread of the process; each process asks the database for the
current version at most every ``LIVEWARD_TERMS_REFRESH_SECONDS`` and rebuilds when it moved, so a
change reaches every worker within seconds without a restart. A process that cannot read the list
raises: callers fail closed (the ingest answers 503 instead of publishing unfiltered comments).

Letters run together once separators are gone, so a Latin term also matches inside a longer word;
the list is for Chinese chat, where there are no word boundaries to respect.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Max

import ahocorasick
import opencc

from moderation.models import SensitiveTerm, TermListVersion

Action = SensitiveTerm.Action
# Which action wins when a text matches terms of several (block over hold over flag).
_ACTION_RANK = {Action.BLOCK: 3, Action.HOLD: 2, Action.FLAG: 1}

_NOT_LETTER_OR_DIGIT = re.compile(r"[\W_]+")
# Characters that stand in for a letter or digit to dodge a filter, folded to what they imitate.
LOOK_ALIKES = {
    # Cyrillic and Greek letters drawn like Latin ones
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
    "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ο": "o", "α": "a", "ν": "v", "ι": "i", "κ": "k",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
    # the Chinese zero drawn as a letter o in contact details
    "〇": "0",
}  # fmt: skip
_LOOK_ALIKE_CHARACTERS = frozenset(LOOK_ALIKES)
_LOOK_ALIKE_TABLE = str.maketrans(LOOK_ALIKES)
_converter = opencc.OpenCC("t2s")
# The CJK blocks whose characters OpenCC may change (traditional to simplified).
_CJK_BLOCKS = ((0x2E80, 0x2FDF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2A6DF))
_traditional: frozenset[str] | None = None


def _traditional_characters() -> frozenset[str]:
    """The characters t2s changes on their own, found once per process (~0.2 s): a text without any
    is simplified already, and most chat is, so most texts skip the conversion."""
    global _traditional
    if _traditional is None:
        changed = set()
        for first, last in _CJK_BLOCKS:
            for start in range(first, last + 1, 256):
                block = "".join(chr(code) for code in range(start, min(start + 256, last + 1)))
                converted = _converter.convert("\n".join(block)).split("\n")
                changed.update(original for original, new in zip(block, converted, strict=False) if original != new)
        _traditional = frozenset(changed)
    return _traditional


def normalise(text: str) -> str:
    """Return the form of ``text`` the matcher reads (see the module docstring).

    Each costly step runs only when the text needs it: NFKC when the text is not in that form, the
    look-alike table when one is present, OpenCC when a traditional character is.
    """
    if text.isascii():
        return _NOT_LETTER_OR_DIGIT.sub("", text.lower())
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    text = text.casefold()
    if not _LOOK_ALIKE_CHARACTERS.isdisjoint(text):
        text = text.translate(_LOOK_ALIKE_TABLE)
    text = _NOT_LETTER_OR_DIGIT.sub("", text)
    if not _traditional_characters().isdisjoint(text):
        text = _converter.convert(text)
    return text


def highlight_spans(text: str, terms: list[str]) -> list[list[int]]:
    """Return [start, end) stretches of ``text`` where these terms match, for a reviewer's highlight.

    Each character is normalised on its own and the terms searched in the result, so 微 信 or 微信
    written in traditional characters is marked across its separators. Overlapping stretches merge.
    """
    if not terms or not text:
        return []
    folded, owner = [], []
    for index, character in enumerate(text):
        for piece in normalise(character):
            folded.append(piece)
            owner.append(index)
    haystack = "".join(folded)
    stretches = []
    for term in {normalise(term) for term in terms}:
        start = haystack.find(term) if term else -1
        while start >= 0:
            stretches.append([owner[start], owner[start + len(term) - 1] + 1])
            start = haystack.find(term, start + 1)
    merged: list[list[int]] = []
    for start, end in sorted(stretches):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


@dataclass(frozen=True)
class TermHit:
    """A term found in a text."""

    term: str
    category: str
    action: str

    def as_dict(self) -> dict:
        return {"term": self.term, "category": self.category, "action": self.action}


@dataclass(frozen=True)
class Matches:
    """The terms a text matched, and the strongest action among them ('' for none)."""

    hits: tuple[TermHit, ...] = ()
    action: str = ""
    version: int = 0

    @property
    def blocks(self) -> bool:
        return self.action == Action.BLOCK

    @property
    def holds(self) -> bool:
        return self.action == Action.HOLD

    @property
    def flags(self) -> bool:
        return bool(self.hits)

    def as_list(self) -> list[dict]:
        return [hit.as_dict() for hit in self.hits]


NO_MATCHES = Matches()


@dataclass
class Matcher:
    """One version of the term list as an automaton."""

    version: int
    automaton: ahocorasick.Automaton | None
    size: int = 0
    built_at: float = field(default_factory=time.monotonic)

    def match(self, text: str) -> Matches:
        """Return the terms found in ``text`` (normalised first)."""
        if self.automaton is None:
            return Matches(version=self.version)
        return self.match_normalised(normalise(text))

    def match_normalised(self, normalised: str) -> Matches:
        if self.automaton is None or not normalised:
            return Matches(version=self.version)
        found: dict[str, TermHit] = {}
        for _end, hit in self.automaton.iter(normalised):
            found.setdefault(hit.term, hit)
        if not found:
            return Matches(version=self.version)
        hits = tuple(found.values())
        action = max((hit.action for hit in hits), key=_ACTION_RANK.__getitem__)
        return Matches(hits=hits, action=action, version=self.version)

    def explain(self, text: str) -> dict:
        """Tell what ``text`` becomes and which terms it matches where: the test box of the terms page."""
        normalised = normalise(text)
        spans = []
        if self.automaton is not None and normalised:
            for end, hit in self.automaton.iter(normalised):
                start = end - len(hit.normalised) + 1
                spans.append({"start": start, "end": end + 1, **hit.as_dict(), "normalised": hit.normalised})
        matches = self.match_normalised(normalised)
        return {"normalised": normalised, "spans": spans, "action": matches.action, "version": self.version}


@dataclass(frozen=True)
class _Entry(TermHit):
    normalised: str = ""


def build_matcher(version: int, terms) -> Matcher:
    """Build the automaton of ``terms``: (term, normalised, category, action) tuples."""
    _traditional_characters()  # found now, not on the first comment after a change
    automaton = ahocorasick.Automaton()
    size = 0
    for term, normalised, category, action in terms:
        if not normalised:
            continue
        previous = automaton.get(normalised, None)
        entry = _Entry(term=term, category=category, action=action, normalised=normalised)
        if previous is None or _ACTION_RANK[action] > _ACTION_RANK[previous.action]:
            automaton.add_word(normalised, entry)
        size += 1
    if size == 0:
        return Matcher(version=version, automaton=None)
    automaton.make_automaton()
    return Matcher(version=version, automaton=automaton, size=size)


def stored_version() -> int:
    """Return the current term-list version in the database (0 before the first change)."""
    return TermListVersion.objects.aggregate(number=Max("number"))["number"] or 0


def _load(version: int) -> Matcher:
    terms = SensitiveTerm.objects.filter(enabled=True).values_list("term", "normalised", "category", "action")
    return build_matcher(version, terms.iterator(chunk_size=5000))


class _Cache:
    """The process's matcher, checked against the stored version at most every few seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._matcher: Matcher | None = None
        self._checked_at = 0.0

    def get(self) -> Matcher:
        matcher = self._matcher
        now = time.monotonic()
        if matcher is not None and now - self._checked_at < settings.LIVEWARD_TERMS_REFRESH_SECONDS:
            return matcher
        with self._lock:
            matcher = self._matcher
            if matcher is not None and time.monotonic() - self._checked_at < settings.LIVEWARD_TERMS_REFRESH_SECONDS:
                return matcher
            version = stored_version()
            if matcher is None or matcher.version != version:
                matcher = _load(version)
                self._matcher = matcher
            self._checked_at = time.monotonic()
            return matcher

    def forget(self) -> None:
        with self._lock:
            self._matcher = None
            self._checked_at = 0.0


_cache = _Cache()


def current_matcher() -> Matcher:
    """Return the matcher of the current list version (built at most once per version per process)."""
    return _cache.get()


def forget_matcher() -> None:
    """Drop this process's matcher; the next call reads the list again (after a change, in tests)."""
    _cache.forget()
