"""The audits Liveward runs (docs/audits.md): each one's name, label and default schedule.

One entry per audit; its check lives in ``moderation/audits/<name>.py`` and is listed in
``moderation.audits.CHECKS`` under the same name (a test keeps the two tables equal). The schedule
here is only the default: the one in force is kept in the database (django-celery-beat) and edited
by compliance admins on the audits page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# The one task that runs every audit: its argument is the audit's name.
RUN_AUDIT_TASK = "moderation.tasks.audits.run_audit"


@dataclass(frozen=True)
class AuditSpec:
    """An audit as the schedule and the pages know it."""

    name: str
    label: str
    article: str  # the clause of the 2016 Provisions it proves
    default_crontab: str  # minute hour day-of-month month day-of-week

    @property
    def periodic_task_name(self) -> str:
        return f"audit:{self.name}"


AUDITS: tuple[AuditSpec, ...] = (
    AuditSpec("news_licences", _("News licences and approvals"), _("Art. 5"), "* * * * *"),
    AuditSpec("blacklist_sweep", _("Blacklisted identities under new accounts"), _("Art. 15"), "*/5 * * * *"),
    AuditSpec("patrol_coverage", _("Patrol coverage: every live stream watched in time"), _("Art. 7"), "* * * * *"),
    AuditSpec(
        "reconciliation", _("Reconciliation: the gate and the nodes agree on what is live"), _("Art. 8"), "* * * * *"
    ),
    AuditSpec("records", _("Records: the last sixty days whole, holds kept"), _("Art. 16"), "17 * * * *"),
    AuditSpec("retention_purge", _("Purge beyond retention"), _("Art. 16"), "30 3 * * *"),
    AuditSpec(
        "record_chain", _("Record chain: the staff log and moderation records unaltered"), _("Art. 16"), "47 * * * *"
    ),
    AuditSpec("staffing", _("Staffing: patrollers on duty for the streams live"), _("Art. 7"), "* * * * *"),
    AuditSpec("public_reports", _("Public reports answered in time"), _("Art. 19"), "* * * * *"),
)

BY_NAME: dict[str, AuditSpec] = {spec.name: spec for spec in AUDITS}


def audit_spec(name: str) -> AuditSpec | None:
    """Return the audit called ``name``, or None for a name that is not an audit."""
    return BY_NAME.get(name) if isinstance(name, str) else None
