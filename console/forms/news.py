"""Forms of the news pages; they validate input, actions do the rest."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from moderation.actions.news import NOTE_MAX
from moderation.models import LicenceScope
from moderation.text_input import TextInputForm

# Decisions in the order the page and the queue offer them, with their key.
DECISIONS: list[tuple[str, str, str]] = [
    ("approve", "a", _("Approve")),
    ("reject", "r", _("Reject")),
    ("recommend", "m", _("Recommend")),
    ("return", "t", _("Return")),
    ("revoke", "v", _("Revoke approval")),
]


class DecisionForm(TextInputForm, forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=[(kind, label) for kind, _key, label in DECISIONS])
    note = forms.CharField(
        label=_("Note"), required=False, max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )


class PlatformLicenceForm(TextInputForm, forms.Form):
    number = forms.CharField(label=_("Licence number"), max_length=64)
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=LicenceScope.choices, widget=forms.CheckboxSelectMultiple
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(label=_("Valid until"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("valid_from") and data.get("valid_until") and data["valid_until"] < data["valid_from"]:
            self.add_error("valid_until", _("A licence cannot end before it starts."))
        return data
