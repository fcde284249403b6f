"""axe-core in the browser tests: the copy vendored in tests/vendor/axe-core (its MPL-2.0 licence
beside it; `npm pack axe-core`, version in the file's header), evaluated in the page (page.evaluate
is not subject to the console's CSP, which forbids inline scripts) and run for one rule set."""

from __future__ import annotations

from functools import cache
from pathlib import Path

AXE_FILE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"


@cache
def axe_source() -> str:
    return AXE_FILE.read_text(encoding="utf-8")


def violations(page, rules: list[str]) -> list[str]:
    """Each node that fails one of ``rules`` on the page as shown now: its selector and axe's summary."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    return page.evaluate(
        """async (rules) => {
            const results = await window.axe.run(document, { runOnly: rules });
            return results.violations.flatMap(v => v.nodes.map(
                n => JSON.stringify(n.target) + ": " + (n.failureSummary || "").slice(0, 160)));
        }""",
        rules,
    )


def contrast_violations(page) -> list[str]:
    """Text whose contrast is under 4.5:1 (3:1 for large text), as axe-core's color-contrast rule finds it."""
    return violations(page, ["color-contrast"])
