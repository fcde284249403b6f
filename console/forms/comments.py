"""Forms of the comment pages (sensitive terms, the hold queue's measures); actions do the rest."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from moderation.actions.terms import IMPORT_MAX_LINES, TERM_MAX
from moderation.actions.viewers import DELETE_WINDOW_MAX_MINUTES, MUTE_MAX_MINUTES
from moderation.models import ReasonCode, SensitiveTerm
from moderation.text_input import TextInputForm

TERM_FILE_MAX_BYTES = 2 * 1024 * 1024


class TermForm(TextInputForm, forms.Form):
    """Add one term."""

    term = forms.CharField(label=_("Term"), max_length=TERM_MAX)
    category = forms.ChoiceField(label=_("Category"), choices=SensitiveTerm.Category.choices)
    action = forms.ChoiceField(label=_("Action"), choices=SensitiveTerm.Action.choices)


class TermChangeForm(TextInputForm, forms.Form):
    """Change one term's category, action or whether it is enabled."""

    category = forms.ChoiceField(label=_("Category"), choices=SensitiveTerm.Category.choices)
    action = forms.ChoiceField(label=_("Action"), choices=SensitiveTerm.Action.choices)
    enabled = forms.BooleanField(label=_("Enabled"), required=False)


class TermImportForm(TextInputForm, forms.Form):
    """Import a term file."""

    file = forms.FileField(
        label=_("Term file"),
        help_text=_("UTF-8 text, one term a line, optionally term<TAB>category<TAB>action; # starts a comment."),
    )
    default_category = forms.ChoiceField(
        label=_("Category where a line gives none"), choices=SensitiveTerm.Category.choices, initial="other"
    )
    default_action = forms.ChoiceField(
        label=_("Action where a line gives none"), choices=SensitiveTerm.Action.choices, initial="block"
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > TERM_FILE_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(megabytes)s MB.") % {"megabytes": TERM_FILE_MAX_BYTES // (1024 * 1024)}
            )
        return upload

    @staticmethod
    def limits() -> dict:
        return {"lines": IMPORT_MAX_LINES, "term": TERM_MAX}


class TermTestForm(TextInputForm, forms.Form):
    """The test box: what does a sample text match, and why."""

    sample = forms.CharField(label=_("Sample text"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class MuteForm(TextInputForm, forms.Form):
    """Mute a viewer on a stream or everywhere."""

    viewer_id = forms.CharField(label=_("Viewer id"), max_length=64)
    stream = forms.IntegerField(
        label=_("Stream (number)"), required=False, min_value=1, help_text=_("Leave empty to mute on every stream.")
    )
    minutes = forms.IntegerField(label=_("Minutes"), min_value=1, max_value=MUTE_MAX_MINUTES, initial=60)
    reason = forms.ChoiceField(
        label=_("Reason"), choices=[(v, label) for v, label in ReasonCode.choices if v != ReasonCode.PATROLLED]
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class UnmuteForm(TextInputForm, forms.Form):
    """Lift a mute, saying why."""

    note = forms.CharField(label=_("Why it is lifted"), max_length=300)


class DeleteCommentsForm(TextInputForm, forms.Form):
    """Delete a viewer's recent comments on one stream."""

    viewer_id = forms.CharField(label=_("Viewer id"), max_length=64)
    minutes = forms.IntegerField(
        label=_("From the last minutes"), min_value=1, max_value=DELETE_WINDOW_MAX_MINUTES, initial=60
    )
    reason = forms.ChoiceField(
        label=_("Reason"), choices=[(v, label) for v, label in ReasonCode.choices if v != ReasonCode.PATROLLED]
    )
