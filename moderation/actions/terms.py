"""The sensitive-term list (Art. 9, 11): add, change, import; every change makes a new list version.

A new version is a row with the next number; every process compares its automaton's version with it
(moderation/sensitive_terms.py), so a change reaches every worker within seconds. The process that
made the change drops its automaton on commit and sees it at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction

from accounts.actions import log_staff_action
from accounts.models import User
from moderation import events, permissions, sensitive_terms, text_input
from moderation.actions.queue_priority import refresh_queue_priority
from moderation.database_threads import DatabaseThreads
from moderation.errors import ModerationError
from moderation.models import SensitiveTerm, Stream, TermListVersion

logger = logging.getLogger(__name__)

TERM_MAX = 64
IMPORT_MAX_LINES = 50_000
Category = SensitiveTerm.Category
Action = SensitiveTerm.Action


class TermFileRefused(ModerationError):
    """A term file with errors: nothing of it was written; ``problems`` lists (line number, message)."""

    code = "bad_file"

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        shown = "; ".join(f"line {line}: {message}" for line, message in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__(f"the file was not imported: {shown}{more}")
        self.problems = problems


def _checked_term(term: str) -> tuple[str, str]:
    """Return the term trimmed and its normalised form, or refuse it."""
    if not isinstance(term, str):
        raise ModerationError("the term must be text", code="bad_field")
    term = term.strip()
    if not term:
        raise ModerationError("the term is empty", code="bad_field")
    if len(term) > TERM_MAX:
        raise ModerationError(f"the term is longer than {TERM_MAX} characters", code="bad_field")
    refused = text_input.refusal(term)
    if refused is not None:
        raise ModerationError(refused.describe("the term"), code="bad_text")
    normalised = sensitive_terms.normalise(term)
    if not normalised:
        raise ModerationError("the term has no letter or digit to match", code="bad_field")
    if len(normalised) > TERM_MAX:
        raise ModerationError(f"the term is longer than {TERM_MAX} characters", code="bad_field")
    return term, normalised


def _checked_choice(value: str, choices, name: str) -> str:
    if value not in choices.values:
        raise ModerationError(f"{name} must be one of {', '.join(choices.values)}", code="bad_field")
    return value


def _new_version(actor: User | None, summary: str) -> int:
    """Write the next version of the list (the caller holds the lock on the version rows)."""
    latest = TermListVersion.objects.select_for_update().order_by("-number").first()
    number = (latest.number if latest else 0) + 1
    TermListVersion.objects.create(number=number, created_by=actor, summary=summary[:300])
    transaction.on_commit(sensitive_terms.forget_matcher)
    return number


def _record_terms(number: int) -> None:
    """Keep the enabled terms as they are now in version ``number`` (what a comment of that version met)."""
    rows = SensitiveTerm.objects.filter(enabled=True).order_by("normalised").values_list("term", "category", "action")
    lines = [f"{text_input.for_export(term)}\t{category}\t{action}" for term, category, action in rows.iterator(2000)]
    TermListVersion.objects.filter(number=number).update(
        enabled_terms=len(lines), terms_file="\n".join(lines) + ("\n" if lines else "")
    )


def add_term(term: str, *, category: str, action: str, actor: User, enabled: bool = True) -> SensitiveTerm:
    """Add a term to the list (a new version); a term whose normalised form is listed already is a conflict."""
    permissions.check(actor, "terms.manage")
    term, normalised = _checked_term(term)
    category = _checked_choice(category, Category, "category")
    action = _checked_choice(action, Action, "action")
    with transaction.atomic():
        existing = SensitiveTerm.objects.select_for_update().filter(normalised=normalised).first()
        if existing is not None:
            raise ModerationError(f"{existing.term!r} is listed already and matches the same text", code="conflict")
        row = SensitiveTerm.objects.create(
            term=term, normalised=normalised, category=category, action=action, enabled=enabled, added_by=actor
        )
        row.changed_in_version = _new_version(actor, f"+ {term} ({category}, {action})")
        row.save(update_fields=["changed_in_version"])
        _record_terms(row.changed_in_version)
        log_staff_action(actor, "terms.added", target=row, data={"version": row.changed_in_version})
    return row


def change_term(
    term: SensitiveTerm, *, actor: User, category: str | None = None, action: str | None = None,
    enabled: bool | None = None,
) -> SensitiveTerm:  # fmt: skip
    """Change a term's category, action or whether it is enabled (a new version)."""
    permissions.check(actor, "terms.manage")
    with transaction.atomic():
        row = SensitiveTerm.objects.select_for_update().filter(pk=term.pk).first()
        if row is None:
            raise ModerationError("no such term", code="not_found")
        changes = {}
        if category is not None and category != row.category:
            changes["category"] = _checked_choice(category, Category, "category")
        if action is not None and action != row.action:
            changes["action"] = _checked_choice(action, Action, "action")
        if enabled is not None and enabled != row.enabled:
            changes["enabled"] = bool(enabled)
        if not changes:
            return row
        for name, value in changes.items():
            setattr(row, name, value)
        row.save(update_fields=list(changes))
        described = ", ".join(f"{name}={value}" for name, value in changes.items())
        row.changed_in_version = _new_version(actor, f"~ {row.term}: {described}")
        row.save(update_fields=["changed_in_version"])
        _record_terms(row.changed_in_version)
        log_staff_action(actor, "terms.changed", target=row, data={**changes, "version": row.changed_in_version})
    return row


@dataclass(frozen=True)
class ImportOutcome:
    version: int
    added: int
    changed: int
    unchanged: int


def parse_term_file(
    content: bytes, *, default_category: str, default_action: str
) -> list[tuple[str, str, str, str]]:  # fmt: skip
    """Read a term file: one term a line, optionally ``term<TAB>category<TAB>action``; ``#`` starts a comment.

    Return (term, normalised, category, action) for each line, or raise TermFileRefused listing every
    bad line: not UTF-8, empty, too long, an unknown category or action, a term twice.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TermFileRefused([(content[: exc.start].count(b"\n") + 1, "not valid UTF-8")]) from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the file's final line break
    if len(lines) > IMPORT_MAX_LINES:
        raise TermFileRefused([(IMPORT_MAX_LINES + 1, f"a file holds at most {IMPORT_MAX_LINES} lines")])
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    parsed = []
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\r")
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) > 3:
            problems.append((number, "at most three fields: term, category, action"))
            continue
        term, category, action = (*fields, "", "")[:3]
        try:
            term, normalised = _checked_term(term)
            category = _checked_choice(category.strip() or default_category, Category, "category")
            action = _checked_choice(action.strip() or default_action, Action, "action")
        except ModerationError as exc:
            problems.append((number, str(exc)))
            continue
        if normalised in seen:
            problems.append((number, f"the same term as line {seen[normalised]}"))
            continue
        seen[normalised] = number
        parsed.append((term, normalised, category, action))
    if problems:
        raise TermFileRefused(problems)
    if not parsed:
        raise TermFileRefused([(1, "the file holds no term")])
    return parsed


def import_terms(
    content: bytes, *, actor: User, default_category: str = Category.OTHER, default_action: str = Action.BLOCK
) -> ImportOutcome:  # fmt: skip
    """Import a term file (see ``parse_term_file``): new terms added, listed ones updated; all or nothing."""
    permissions.check(actor, "terms.manage")
    _checked_choice(default_category, Category, "category")
    _checked_choice(default_action, Action, "action")
    parsed = parse_term_file(content, default_category=default_category, default_action=default_action)
    added = changed = unchanged = 0
    with transaction.atomic():
        existing = SensitiveTerm.objects.select_for_update().in_bulk(
            [normalised for _term, normalised, _category, _action in parsed], field_name="normalised"
        )
        new_rows, changed_rows = [], []
        for term, normalised, category, action in parsed:
            row = existing.get(normalised)
            if row is None:
                new_rows.append(
                    SensitiveTerm(term=term, normalised=normalised, category=category, action=action, added_by=actor)
                )
            elif (row.category, row.action, row.enabled) != (category, action, True):
                row.category, row.action, row.enabled = category, action, True
                changed_rows.append(row)
            else:
                unchanged += 1
        added, changed = len(new_rows), len(changed_rows)
        version = _new_version(actor, f"import: {added} added, {changed} changed, {unchanged} unchanged")
        for row in [*new_rows, *changed_rows]:
            row.changed_in_version = version
        SensitiveTerm.objects.bulk_create(new_rows, batch_size=1000)
        SensitiveTerm.objects.bulk_update(
            changed_rows, ["category", "action", "enabled", "changed_in_version"], batch_size=1000
        )
        _record_terms(version)
        log_staff_action(actor, "terms.imported", data={"version": version, "added": added, "changed": changed})
    return ImportOutcome(version=version, added=added, changed=changed, unchanged=unchanged)


def export_terms(*, actor: User) -> bytes:
    """Return the list as a term file (every term, enabled or not, with its category and action), logged."""
    permissions.check(actor, "terms.read")
    version = sensitive_terms.stored_version()
    lines = [f"# Liveward sensitive terms, version {version}: term<TAB>category<TAB>action (disabled terms last)"]
    rows = SensitiveTerm.objects.order_by("-enabled", "normalised").values_list("term", "category", "action", "enabled")
    for term, category, action, enabled in rows.iterator(chunk_size=5000):
        lines.append(f"{'' if enabled else '# disabled: '}{text_input.for_export(term)}\t{category}\t{action}")
    log_staff_action(actor, "terms.exported", data={"version": version, "terms": len(lines) - 1})
    return ("\n".join(lines) + "\n").encode("utf-8")


# Titles are checked off the gate's threads: the decision never waits on the term list.
_title_threads = DatabaseThreads("title-checks", lambda: 1)


def check_title_soon(stream_id: int) -> None:
    """Queue the check of a just-opened stream's title (the gate calls this on commit)."""
    try:
        _title_threads.submit(flag_stream_title, stream_id)
    except RuntimeError:  # the pool is shutting down with the process
        logger.warning("stream %s: title not checked, the process is stopping", stream_id)


def shutdown_title_checks() -> None:
    """Close the title checker's database connection (tests, before the database goes)."""
    _title_threads.shutdown()


def flag_stream_title(stream_id: int) -> list[dict]:
    """Match a stream's title against the term list; flag the stream (its card) when it matches."""
    with transaction.atomic():
        stream = Stream.objects.select_for_update().filter(pk=stream_id).first()
        if stream is None or not stream.title:
            return []
        matches = sensitive_terms.current_matcher().match(stream.title)
        found = matches.as_list()
        if found == stream.title_matched_terms:
            return found
        stream.title_matched_terms = found
        fields = ["title_matched_terms"]
        if found and not stream.review_flag:
            stream.review_flag = f"title: {', '.join(hit['term'] for hit in found)}"[:64]
            fields.append("review_flag")
        stream.save(update_fields=fields)
        if "review_flag" in fields:
            refresh_queue_priority(stream_ids=[stream_id])
        transaction.on_commit(lambda: events.stream_updated(stream_id))
    return found
