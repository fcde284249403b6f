"""The record chain (Art. 14, 16; docs/security.md): every chained record verifies from its anchor."""

from __future__ import annotations

from accounts import record_chain
from moderation.audits.context import AuditContext, Severity


def check(context: AuditContext) -> dict:
    """Walk each chain; report the first broken row of each as a critical finding."""
    summary: dict = {"broken": 0}
    models = record_chain.chained_models()
    for done, model in enumerate(models, start=1):
        report = record_chain.verify_chain(model)
        summary[report.chain] = report.rows
        if not report.intact:
            summary["broken"] += 1
            context.finding(
                key=f"chain:{report.chain}:{report.broken_id}",
                severity=Severity.CRITICAL,
                title=f"{report.chain} row {report.broken_id}: {report.problem}; the rows before it verify",
                data={"chain": report.chain, "row": report.broken_id, "verified_rows": report.rows},
            )
        context.progress(done, len(models))
    return summary
