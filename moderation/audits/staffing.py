"""Staffing (Art. 7, staff in proportion to the service's scale): live streams per patroller on duty.

The load is the live streams weighted by tier and audience (moderation/queries/coverage.py) per
member of staff on duty, against ``LIVEWARD_STAFFING_MAX_LOAD``. Nobody on duty while streams are
live is critical; the end of the last shift runs this audit at once.
"""

from __future__ import annotations

from django.conf import settings

from moderation import queries
from moderation.audits.context import AuditContext, Severity


def check(context: AuditContext) -> dict:
    """Compare the weighted live streams with the staff on duty; report nobody, or too few."""
    load = queries.staffing_load()
    staff = load["on_duty"]
    limit = settings.LIVEWARD_STAFFING_MAX_LOAD
    ratio = load["weighted_streams"] / len(staff) if staff else None
    summary = {**load, "on_duty": len(staff), "load_per_patroller": ratio, "max_load": limit}
    if load["live_streams"] and not staff:
        context.finding(
            key="staffing:nobody-on-duty",
            severity=Severity.CRITICAL,
            title=f"nobody on duty while {load['live_streams']} streams are live",
            data=summary,
        )
    elif ratio is not None and ratio > limit:
        context.finding(
            key="staffing:over-threshold",
            severity=Severity.WARNING,
            title=(
                f"{load['weighted_streams']} weighted live streams for {len(staff)} on duty: "
                f"{ratio:.1f} each, above {limit:g}"
            ),
            data={**summary, "names": staff},
        )
    return summary
