from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = _("Moderation")

    def ready(self) -> None:
        from accounts.actions import shift_ended
        from moderation.actions.claims import release_claims_at_shift_end

        shift_ended.connect(release_claims_at_shift_end, dispatch_uid="moderation.release_claims_at_shift_end")
        from moderation.actions.audits import audit_staffing_after_shift

        shift_ended.connect(audit_staffing_after_shift, dispatch_uid="moderation.audit_staffing_after_shift")
        from accounts.staff_sessions import staff_access_revoked
        from moderation.events import end_staff_sockets

        staff_access_revoked.connect(end_staff_sockets, dispatch_uid="moderation.end_staff_sockets")
        post_migrate.connect(_ensure_audit_schedules, sender=self, dispatch_uid="moderation.ensure_audit_schedules")


def _ensure_audit_schedules(**kwargs) -> None:
    # Every audit gets its default schedule in the database once; compliance admins edit it from there.
    from moderation.actions.audits import ensure_audit_schedules

    ensure_audit_schedules()
