"""The manual verification review's form (实名认证人工审核)."""

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
