"""Forms of the console's credit and appeal pages; they validate input, actions do the rest."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from moderation.actions.credit import CHARGEABLE_KINDS, LevelSpec
from moderation.credit_policy import PolicyRules
from moderation.models import Category, ModerationAction
from moderation.text_input import TextInputForm


class CreditAdjustmentForm(TextInputForm, forms.Form):
    points = forms.IntegerField(
        label=_("Points"), min_value=-1000, max_value=1000, help_text=_("Negative takes points, positive gives.")
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_points(self) -> int:
        points = self.cleaned_data["points"]
        if points == 0:
            raise forms.ValidationError(_("Give a non-zero number of points."))
        return points

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("A manual adjustment needs a reason."))
        return reason


class AppealDecisionForm(TextInputForm, forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("uphold", _("Uphold: reverse the event and its effects")), ("dismiss", _("Dismiss"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("Note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_note(self) -> str:
        note = self.cleaned_data["note"].strip()
        if not note:
            raise forms.ValidationError(_("A decision needs a note."))
        return note


class CreditPolicyForm(TextInputForm, forms.Form):
    """The scale, the costs per action kind and the earn-back of a new policy version."""

    score_min = forms.IntegerField(label=_("Lowest score"), min_value=-10000, max_value=10000)
    score_max = forms.IntegerField(label=_("Highest score"), min_value=-10000, max_value=10000)
    earn_back_points_per_hour = forms.IntegerField(
        label=_("Points earned per clean broadcasting hour"), min_value=0, max_value=1000
    )
    earn_back_nightly_cap = forms.IntegerField(
        label=_("Most points earned back per night"), min_value=0, max_value=1000
    )
    note = forms.CharField(
        label=_("What changed and why"),
        max_length=300,
        error_messages={"required": _("Say what changed and why: the version's reason is kept with it.")},
    )
    # The reason first: it is required, and the longest form on the console should not bury it.
    field_order = ["note", "score_min", "score_max", "earn_back_points_per_hour", "earn_back_nightly_cap"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(ModerationAction.Kind.choices)
        for kind in CHARGEABLE_KINDS:
            self.fields[f"cost_{kind}"] = forms.IntegerField(
                label=_("Points a “%(kind)s” costs") % {"kind": labels[kind]}, min_value=0, max_value=10000
            )

    def action_costs(self) -> dict[str, int]:
        return {kind: self.cleaned_data[f"cost_{kind}"] for kind in CHARGEABLE_KINDS}

    def clean(self) -> dict:
        data = super().clean()
        low, high = data.get("score_min"), data.get("score_max")
        if low is not None and high is not None and low >= high:
            self.add_error("score_max", _("The lowest score must be below the highest."))
        return data

    @staticmethod
    def initial_from(policy: PolicyRules) -> dict:
        initial = {
            "score_min": policy.score_min,
            "score_max": policy.score_max,
            "earn_back_points_per_hour": policy.earn_back_points_per_hour,
            "earn_back_nightly_cap": policy.earn_back_nightly_cap,
        }
        initial.update({f"cost_{kind}": policy.cost_of(kind) for kind in CHARGEABLE_KINDS})
        return initial


class CreditLevelForm(TextInputForm, forms.Form):
    code = forms.RegexField(
        label=_("Code"),
        regex=r"\A[A-Z][A-Z0-9]{0,7}\Z",
        max_length=8,
        error_messages={"invalid": _("A capital letter, then up to 7 capitals or digits.")},
    )
    name = forms.CharField(label=_("Name"), max_length=64, required=False)
    min_score = forms.IntegerField(label=_("From score"), min_value=-10000, max_value=10000)
    may_broadcast = forms.BooleanField(label=_("May broadcast"), required=False)
    allowed_categories = forms.MultipleChoiceField(
        label=_("Allowed categories (none ticked: all)"), required=False, widget=forms.CheckboxSelectMultiple
    )
    requires_pre_review = forms.BooleanField(label=_("Every stream needs pre-review"), required=False)
    patrol_weight = forms.IntegerField(label=_("Patrol priority weight"), min_value=-1000, max_value=1000)
    snapshot_interval_seconds = forms.IntegerField(
        label=_("Snapshot interval (s)"), min_value=1, max_value=86400, required=False
    )
    audience_cap = forms.IntegerField(label=_("Audience cap"), min_value=0, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["allowed_categories"].choices = [
            (slug, name) for slug, name in Category.objects.order_by("risk_tier", "slug").values_list("slug", "name")
        ]

    def spec(self) -> LevelSpec:
        data = self.cleaned_data
        return LevelSpec(
            code=data["code"],
            name=data["name"],
            min_score=data["min_score"],
            may_broadcast=data["may_broadcast"],
            allowed_categories=tuple(data["allowed_categories"]),
            requires_pre_review=data["requires_pre_review"],
            patrol_weight=data["patrol_weight"],
            snapshot_interval_seconds=data["snapshot_interval_seconds"],
            audience_cap=data["audience_cap"],
        )


class BaseLevelFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        kept = self.kept_forms()
        if not kept:
            raise forms.ValidationError(_("A policy needs at least one level."))
        # A clash is said at the field of the later level, next to what to change.
        codes, scores = set(), set()
        for form in kept:
            code, score = form.cleaned_data["code"], form.cleaned_data["min_score"]
            if code in codes:
                form.add_error("code", _("Level codes must differ."))
            if score in scores:
                form.add_error("min_score", _("Each level needs its own threshold."))
            codes.add(code)
            scores.add(score)
        if any(form.errors for form in kept):
            raise forms.ValidationError(_("Some levels need a correction (see below)."))

    def kept_forms(self) -> list[CreditLevelForm]:
        # The current levels are kept unless deleted; an extra row only when something was typed in it.
        return [
            form
            for index, form in enumerate(self.forms)
            if (index < self.initial_form_count() or form.has_changed()) and not self._should_delete_form(form)
        ]

    def specs(self) -> list[LevelSpec]:
        return [form.spec() for form in self.kept_forms()]


CreditLevelFormSet = forms.formset_factory(
    CreditLevelForm, formset=BaseLevelFormSet, extra=1, can_delete=True, max_num=12, validate_max=True
)


def level_initial(policy: PolicyRules) -> list[dict]:
    return [{**level.as_dict(), "allowed_categories": sorted(level.allowed_categories)} for level in policy.levels]


class RevealIdentityForm(TextInputForm, forms.Form):
    """A compliance admin asks for one full identity value of a publisher, saying why."""

    field = forms.ChoiceField(
        label=_("Value"),
        choices=[
            ("real_name", _("Real name")),
            ("document_number", _("Document number")),
            ("phone", _("Mobile number")),
            ("organisation_licence_number", _("Organisation licence number")),
        ],
    )
    reason = forms.CharField(
        label=_("Reason"),
        min_length=4,
        max_length=300,
        help_text=_("Kept in the staff action log with your name."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
