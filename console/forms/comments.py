"""Forms of the comment pages (sensitive terms, the hold queue's measures); actions do the rest."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from moderation.actions.terms import IMPORT_MAX_LINES, TERM_MAX
from moderation.models import SensitiveTerm
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
