"""What a check gets: its run, and the two calls through which it reports."""

from __future__ import annotations

from moderation import actions
from moderation.models import AuditRun, Finding, MediaServer, Publisher, Stream

Severity = Finding.Severity


class AuditContext:
    """The run of one audit, as its check sees it."""

    def __init__(self, run: AuditRun) -> None:
        self.run = run
        self.new_findings = 0

    def finding(
        self,
        *,
        key: str,
        severity: str,
        title: str,
        data: dict | None = None,
        stream: Stream | None = None,
        publisher: Publisher | None = None,
        node: MediaServer | None = None,
    ) -> Finding:
        """Report a problem, keyed by what it is about (``stream:42:unwatched``); the same key is the same finding."""
        finding, created = actions.record_finding(
            self.run, key=key, severity=severity, title=title, data=data, stream=stream, publisher=publisher, node=node
        )
        self.new_findings += int(created)
        return finding

    def findings(self, reports: list[actions.FindingReport]) -> int:
        """Report many problems at once (a chunked bulk write); each is what ``finding`` would make of it."""
        created = actions.record_findings(self.run, reports)
        self.new_findings += created
        return created

    def progress(self, done: int, total: int) -> None:
        """Tell how far the check got (shown on the audits page while it runs)."""
        actions.report_audit_progress(self.run, done=done, total=total)
