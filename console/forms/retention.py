"""Forms of the records pages (exports for inspections, retention, legal holds); actions do the rest."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from moderation.actions.inspection_exports import validate_export_request
from moderation.errors import ModerationError
from moderation.models import MINIMUM_RETENTION_DAYS, InspectionExport, LegalHold, RecordKind
from moderation.text_input import TextInputForm

EXPORT_ERRORS = {
    "unbounded": _("Give both the start and the end of the period."),
    "reversed": _("The period ends before it starts."),
    "too_long": _("A period is at most 366 days."),
    "future": _("The period starts in the future."),
    "no_kinds": _("Choose at least one kind of record."),
    "beyond_retention": _("The period starts before what is kept: %(detail)s"),
}


class InspectionExportForm(TextInputForm, forms.Form):
    period_start = forms.DateTimeField(
        label=_("From"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    period_end = forms.DateTimeField(
        label=_("Until"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    kinds = forms.MultipleChoiceField(
        label=_("Records"), choices=InspectionExport.Kind.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            cleaned["kinds"] = validate_export_request(
                period_start=cleaned.get("period_start"),
                period_end=cleaned.get("period_end"),
                kinds=cleaned.get("kinds") or [],
            )
        except ModerationError as exc:
            raise forms.ValidationError(str(EXPORT_ERRORS.get(exc.code, "%(detail)s")) % {"detail": exc}) from None
        return cleaned


class RetentionForm(TextInputForm, forms.Form):
    kind = forms.ChoiceField(label=_("Records"), choices=RecordKind.choices)
    days = forms.IntegerField(label=_("Days kept"), min_value=MINIMUM_RETENTION_DAYS, max_value=3650)


class LegalHoldForm(TextInputForm, forms.Form):
    scope = forms.ChoiceField(label=_("Hold"), choices=LegalHold.Scope.choices)
    publisher = forms.IntegerField(label=_("Publisher id"), required=False, min_value=1)
    stream = forms.IntegerField(label=_("Stream id"), required=False, min_value=1)
    period_start = forms.DateTimeField(
        label=_("From"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    period_end = forms.DateTimeField(
        label=_("Until"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
