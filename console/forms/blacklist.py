"""Forms of the blacklist pages; they validate input, actions do the rest."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from console.error_text import error_text
from moderation.identity import RESIDENT_ID, IdentityError, Kind, hash_of
from moderation.models import BlacklistEntry, ModerationAction, Publisher, ReasonCode
from moderation.text_input import TextInputForm


class EntryForm(TextInputForm, forms.Form):
    """Add an entry: the identity, why, and for how long."""

    kind = forms.ChoiceField(label=_("Identity kind"), choices=BlacklistEntry.Kind.choices)
    document_type = forms.ChoiceField(
        label=_("Document type"),
        choices=Publisher.DocumentType.choices,
        initial=RESIDENT_ID,
        required=False,
        help_text=_("Only for an identity document."),
    )
    value = forms.CharField(
        label=_("Identity"),
        max_length=140,
        required=False,
        help_text=_(
            "ID number, mobile number (+86 if no country code), device id or platform account. "
            "Leave empty to take it from the source action's publisher."
        ),
    )
    reason = forms.ChoiceField(
        label=_("Reason"), choices=[(v, label) for v, label in ReasonCode.choices if v != ReasonCode.PATROLLED]
    )
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000)
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for a permanent entry."),
    )
    source_action = forms.IntegerField(label=_("Source action (number)"), required=False, min_value=1)
    # The fingerprint of the preview the admin saw: a confirmation for another set of accounts is shown again.
    preview = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def clean_source_action(self):
        number = self.cleaned_data.get("source_action")
        if number is None:
            return None
        action = ModerationAction.objects.select_related("publisher").filter(pk=number).first()
        if action is None:
            raise forms.ValidationError(_("No moderation action has this number."))
        return action

    def clean(self):
        data = super().clean()
        kind, value, source = data.get("kind"), data.get("value"), data.get("source_action")
        if kind and not value:
            value = data["value"] = self._publisher_identity(kind, source)
            data["document_type"] = (
                source.publisher.document_type if value and kind == Kind.ID_DOCUMENT else (data.get("document_type"))
            )
            if not value:
                self.add_error("value", _("Give the identity, or a source action whose publisher holds one."))
        if kind and value:
            try:
                hash_of(kind, value, document_type=data.get("document_type") or RESIDENT_ID)
            except IdentityError as exc:
                self.add_error("value", error_text(exc))
        expires_on = data.get("expires_on")
        if expires_on is not None and expires_on <= timezone.localdate():
            self.add_error("expires_on", _("The expiry must be after today."))
        return data

    @staticmethod
    def _publisher_identity(kind: str, source: ModerationAction | None) -> str:
        """The source publisher's raw value of this kind: the admin blacklists it without seeing it."""
        publisher = source.publisher if source is not None else None
        if publisher is None:
            return ""
        return {
            Kind.ID_DOCUMENT: publisher.document_number,
            Kind.PHONE: publisher.phone,
            Kind.PLATFORM_ACCOUNT: publisher.platform_account_id,
        }.get(kind, "")


class RemovalRequestForm(TextInputForm, forms.Form):
    reason = forms.CharField(label=_("Reason for removal"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class ExportForm(TextInputForm, forms.Form):
    period_start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_("To (inclusive)"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The period ends before it starts."))
        if start and start > timezone.localdate():
            self.add_error("period_start", _("The period starts in the future."))
        return data
