"""The Content-Security-Policy in Chromium: the console's main pages run and report no violation (issue 12)."""

from __future__ import annotations

import pytest

from tests.browser import _asgi_server_process, asgi_server, browser, browser_page, log_in, new_page  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Collected before any of the page's own scripts run; the browser fires this event for each blocked load.
COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  var where = event.sourceFile + ":" + event.lineNumber;
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline") + " " + where);
});
"""

ADMIN_PAGES = (
    "/news/", "/credit/", "/records/", "/records/retention/", "/comments/terms/", "/blacklist/", "/dashboard/",
    "/reports/", "/emergencies/", "/audits/", "/verification/", "/escalations/",
)  # fmt: skip
PATROLLER_PAGES = ("/", "/comments/held/")


def visit(page, server, paths) -> list[str]:
    problems = []
    for path in paths:
        page.goto(f"{server.url}{path}")
        page.wait_for_load_state("networkidle")
        problems += [f"{path}: {violation}" for violation in page.evaluate("window.__cspViolations")]
    return problems


def watched_page(open_page):
    page = open_page()
    page.add_init_script(COLLECT_VIOLATIONS)
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    return page, messages


def test_the_main_pages_report_no_policy_violation(asgi_server, new_page, admin, patroller):  # noqa: F811
    page, messages = watched_page(new_page)
    problems = visit(page, asgi_server, ["/accounts/login/", "/report/"])
    log_in(page, asgi_server, admin)
    problems += visit(page, asgi_server, ADMIN_PAGES)
    page, more_messages = watched_page(new_page)
    log_in(page, asgi_server, patroller)
    problems += visit(page, asgi_server, PATROLLER_PAGES)
    # The wall's scripts ran (its WebSocket connected and said so), so script-src 'self' let them.
    page.goto(f"{asgi_server.url}/")
    page.wait_for_function("() => !document.getElementById('wall-status').textContent.includes('连接中')")
    messages += more_messages
    assert not problems, problems
    assert not [text for text in messages if "Content Security Policy" in text], messages


def test_an_inline_script_is_refused_and_reported(asgi_server, new_page, admin):  # noqa: F811
    # The watcher itself can see a violation: the clean run above is not a deaf one.
    page, _messages = watched_page(new_page)
    page.goto(f"{asgi_server.url}/accounts/login/")
    page.evaluate("""() => { const s = document.createElement("script"); s.textContent = "window.ran = 1";
                             document.body.appendChild(s); }""")
    assert page.evaluate("window.ran") is None
    assert any("script-src" in violation for violation in page.evaluate("window.__cspViolations"))
