"""Forms of the audits page; they validate input, actions do the rest."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from moderation.actions.audits import parse_crontab
from moderation.errors import ModerationError
from moderation.text_input import TextInputForm


class AuditScheduleForm(TextInputForm, forms.Form):
    crontab = forms.CharField(
        label=_("Schedule (crontab)"),
        max_length=200,
        help_text=_("Five fields: minute hour day-of-month month day-of-week, in the console's time zone."),
    )
    enabled = forms.BooleanField(label=_("Enabled"), required=False)

    def clean_crontab(self) -> str:
        try:
            return " ".join(parse_crontab(self.cleaned_data["crontab"]))
        except ModerationError:
            raise forms.ValidationError(
                _("Not a valid crontab: give five fields, e.g. “*/5 * * * *” (every five minutes).")
            ) from None


class ResolveFindingForm(TextInputForm, forms.Form):
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
