"""Forms of the public report page and of the report queue; they validate input, actions do the rest."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from moderation.actions.reports import NOTE_MAX
from moderation.models import PublicReport, ReasonCode, ReportCategory
from moderation.report_intake import CONTACT_MAX, DESCRIPTION_MAX
from moderation.text_input import TextInputForm


class PublicReportForm(TextInputForm, forms.Form):
    target_kind = forms.ChoiceField(label=_("What are you reporting?"), choices=PublicReport.Target.choices)
    target = forms.CharField(
        label=_("Which one"),
        max_length=300,
        help_text=_("The room number, the publisher's account, the comment's number, or a link to the platform."),
    )
    category = forms.ChoiceField(label=_("What is wrong"), choices=ReportCategory.choices)
    description = forms.CharField(
        label=_("Describe what you saw"), max_length=DESCRIPTION_MAX, widget=forms.Textarea(attrs={"rows": 5})
    )
    contact = forms.CharField(
        label=_("Contact (optional)"),
        max_length=CONTACT_MAX,
        required=False,
        help_text=_("A phone number or e-mail, if you want us to be able to reach you. Staff see it masked."),
    )

    def clean(self):
        data = super().clean()
        if data.get("target_kind") == PublicReport.Target.STREAM and data.get("target"):
            if not data["target"].isdigit() or len(data["target"]) > 12:
                self.add_error("target", _("A live room is named by its number."))
            else:
                data["target"] = int(data["target"])
        return data


class ClaimForm(forms.Form):
    pass


class ResolveForm(TextInputForm, forms.Form):
    measure = forms.ChoiceField(
        label=_("Measure"),
        choices=[("block", _("Cut the stream")), ("warn", _("Warn the publisher")), ("link", _("A measure taken"))],
    )
    reason = forms.ChoiceField(
        label=_("Reason"), required=False, choices=[(c, label) for c, label in ReasonCode.choices if c != "patrolled"]
    )
    action = forms.IntegerField(label=_("Measure number (for a measure taken)"), required=False, min_value=1)
    note = forms.CharField(
        label=_("Note"), required=False, max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )


class DismissForm(TextInputForm, forms.Form):
    note = forms.CharField(
        label=_("Why no measure is needed"), max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )
