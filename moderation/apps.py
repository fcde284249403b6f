from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = _("Moderation")

    def ready(self) -> None:
        from accounts.actions import shift_ended
        from moderation.actions.claims import release_claims_at_shift_end

        shift_ended.connect(release_claims_at_shift_end, dispatch_uid="moderation.release_claims_at_shift_end")
