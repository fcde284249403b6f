"""The forms of onboarding pages: the manual verification review (实名认证人工审核), the service agreement."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from moderation.actions.verification_review import NOTE_MAX
from moderation.text_input import TextInputForm


class VerificationDecisionForm(TextInputForm, forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve: the identity is verified")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Reason"), max_length=NOTE_MAX, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("decision") == "reject" and not (data.get("note") or "").strip():
            self.add_error("note", _("A rejection needs its reason."))
        return data


class AgreementForm(TextInputForm, forms.Form):
    """A new version of the service agreement (服务协议)."""

    version = forms.CharField(label=_("Version"), max_length=32)
    title = forms.CharField(label=_("Title"), max_length=200)
    effective_at = forms.DateTimeField(label=_("Effective from"), help_text=_("Not in the past."))
    grace_days = forms.IntegerField(
        label=_("Grace period (days)"),
        min_value=0,
        max_value=365,
        initial=30,
        help_text=_("Until then publishers who accepted the previous version may still broadcast."),
    )
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 8}))


class LiftForm(TextInputForm, forms.Form):
    """Lift a publisher's measure early (解除): which one, and why."""

    measure = forms.ChoiceField(
        label=_("Measure"),
        choices=[("cooling_off", _("Block cooling-off (every key)")), ("suspension", _("Suspension"))],
    )
    note = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
