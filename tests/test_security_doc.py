"""docs/security.md's tables of roles and scopes are the permission table's, cell for cell."""

from __future__ import annotations

import re
from pathlib import Path

from django.utils import translation

from accounts.roles import MACHINE_KINDS, MACHINE_SCOPES, Role, Scope
from moderation import permissions

DOC = Path(__file__).resolve().parents[1] / "docs" / "security.md"
COLUMNS = [*Role.values, *MACHINE_KINDS]


def roles_table() -> str:
    """The table of capabilities × roles and machine clients, as docs/security.md shows it."""
    header = "| Capability | " + " | ".join(f"`{column}`" for column in COLUMNS) + " |"
    lines = [header, "|---|" + "---|" * len(COLUMNS)]
    for capability, holders in permissions.PERMISSIONS.items():
        cells = ["✓" if column in holders else "" for column in COLUMNS]
        lines.append(f"| `{capability}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def scopes_table() -> str:
    """The table of machine-client scopes and which kind of client may hold each."""
    lines = ["| Scope | What it opens | " + " | ".join(f"`{kind}`" for kind in MACHINE_KINDS) + " |"]
    lines.append("|---|---|" + "---|" * len(MACHINE_KINDS))
    for scope in Scope:
        cells = ["✓" if scope.value in MACHINE_SCOPES[kind] else "" for kind in MACHINE_KINDS]
        with translation.override("en"):  # the docs are in English
            label = str(scope.label)
        lines.append(f"| `{scope.value}` | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _block(name: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(rf"<!-- {name}:start -->\n(.*?)\n<!-- {name}:end -->", text, re.S)
    assert found, f"docs/security.md has no <!-- {name}:start --> … <!-- {name}:end --> block"
    return found.group(1)


def test_the_roles_table_in_the_docs_is_the_permission_table():
    expected = roles_table()
    assert _block("roles") == expected, "replace the roles block of docs/security.md with:\n" + expected


def test_the_scopes_table_in_the_docs_is_the_scopes_in_the_code():
    expected = scopes_table()
    assert _block("scopes") == expected, "replace the scopes block of docs/security.md with:\n" + expected


def test_the_docs_list_every_unguarded_endpoint():
    text = DOC.read_text(encoding="utf-8")
    missing = [name for name in permissions.UNGUARDED_ENDPOINTS if f"`{name}`" not in text]
    assert missing == []
