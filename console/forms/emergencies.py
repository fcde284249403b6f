"""Forms of the emergency pages; they validate input, actions do the rest (moderation/actions/emergencies.py)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from moderation.actions.emergencies import REASON_MAX
from moderation.models import Category, Emergency, ReasonCode
from moderation.text_input import TextInputForm


def _lines(text: str) -> list[str]:
    return [item.strip() for line in text.splitlines() for item in line.split(",") if item.strip()]


class EmergencyForm(TextInputForm, forms.Form):
    everything = forms.BooleanField(label=_("Everything (needs a second admin's confirmation)"), required=False)
    categories = forms.MultipleChoiceField(
        label=_("Categories"), required=False, choices=[], widget=forms.CheckboxSelectMultiple
    )
    tiers = forms.TypedMultipleChoiceField(
        label=_("Tiers"), required=False, coerce=int, choices=[(t, t) for t in range(1, 10)],
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    words = forms.CharField(
        label=_("Words in titles or comments"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}), help_text=_("One per line or separated by commas."),
    )  # fmt: skip
    publishers = forms.CharField(
        label=_("Publishers (platform account ids)"), required=False, max_length=20000,
        widget=forms.Textarea(attrs={"rows": 2}), help_text=_("One per line or separated by commas."),
    )  # fmt: skip
    measures = forms.MultipleChoiceField(
        label=_("Measures"), choices=Emergency.Measure.choices, widget=forms.CheckboxSelectMultiple
    )
    reason_code = forms.ChoiceField(
        label=_("Reason code of the cuts"),
        choices=[(code, label) for code, label in ReasonCode.choices if code != ReasonCode.PATROLLED],
        initial=ReasonCode.OTHER_ILLEGAL,
    )
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["categories"].choices = list(Category.objects.values_list("slug", "name"))

    def scope(self) -> dict:
        data = self.cleaned_data
        return {
            "everything": bool(data["everything"]),
            "categories": list(data["categories"]),
            "tiers": list(data["tiers"]),
            "words": _lines(data["words"]),
            "publishers": _lines(data["publishers"]),
        }


class EndEmergencyForm(TextInputForm, forms.Form):
    reason = forms.CharField(label=_("Why it ends"), max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 2}))
