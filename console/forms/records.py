"""The record lists' filters (django-filter): one FilterSet per list, each with the free-text ``q``
that moderation.queries matches (identities by keyed hash) and the fields of its records."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

import django_filters

from accounts.models import StaffActionLog
from moderation.models import Category, GateDecision, ModerationAction, NewsApplication, Publisher, Stream
from moderation.text_input import TextInputForm

SEARCH_MAX = 100


class RecordFilterForm(TextInputForm, forms.Form):
    """The filter form: the text rule of every console form (moderation/text_input.py)."""


def _search() -> django_filters.CharFilter:
    # Matched by the page's query (moderation.queries.*_matching); here it is only read and checked.
    return django_filters.CharFilter(
        label=_("Search"),
        method="keep",
        max_length=SEARCH_MAX,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


def _day(field: str, lookup: str, label) -> django_filters.DateFilter:
    return django_filters.DateFilter(
        field_name=field, lookup_expr=f"date__{lookup}", label=label, widget=forms.DateInput(attrs={"type": "date"})
    )


class RecordFilterSet(django_filters.FilterSet):
    q = _search()

    def keep(self, queryset, name, value):
        return queryset


class PublisherFilter(RecordFilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Publisher.Status.choices)
    verification = django_filters.ChoiceFilter(label=_("Verification"), choices=Publisher.Verification.choices)
    credit_level = django_filters.CharFilter(label=_("Credit level"), lookup_expr="iexact", max_length=8)

    class Meta:
        model = Publisher
        form = RecordFilterForm
        fields = ["q", "status", "verification", "credit_level"]


class StreamFilter(RecordFilterSet):
    state = django_filters.ChoiceFilter(
        label=_("State"), choices=[("live", _("Live")), ("ended", _("Ended"))], method="filter_state"
    )
    category = django_filters.ModelChoiceFilter(
        label=_("Category"), queryset=Category.objects.order_by("risk_tier", "name"), to_field_name="slug"
    )
    end_reason = django_filters.ChoiceFilter(label=_("End reason"), choices=Stream.EndReason.choices)
    from_day = _day("started_at", "gte", _("Started from"))
    to_day = _day("started_at", "lte", _("Started until"))

    class Meta:
        model = Stream
        form = RecordFilterForm
        fields = ["q", "state", "category", "end_reason", "from_day", "to_day"]

    def filter_state(self, queryset, name, value):
        return queryset.filter(ended_at__isnull=value == "live")


class ActionFilter(RecordFilterSet):
    kind = django_filters.ChoiceFilter(label=_("Action"), choices=ModerationAction.Kind.choices)
    reason = django_filters.ChoiceFilter(label=_("Reason"), choices=ModerationAction._meta.get_field("reason").choices)
    media_status = django_filters.ChoiceFilter(label=_("Media server"), choices=ModerationAction.MediaStatus.choices)
    from_day = _day("at", "gte", _("From"))
    to_day = _day("at", "lte", _("Until"))

    class Meta:
        model = ModerationAction
        form = RecordFilterForm
        fields = ["q", "kind", "reason", "media_status", "from_day", "to_day"]


class GateDecisionFilter(RecordFilterSet):
    allowed = django_filters.BooleanFilter(
        label=_("Decision"),
        widget=forms.Select(choices=[("", "---------"), ("true", _("Allowed")), ("false", _("Denied"))]),
    )
    reason = django_filters.ChoiceFilter(label=_("Reason"), choices=GateDecision.Reason.choices)
    hook = django_filters.ChoiceFilter(label=_("Hook"), choices=GateDecision.Hook.choices)
    from_day = _day("at", "gte", _("From"))
    to_day = _day("at", "lte", _("Until"))

    class Meta:
        model = GateDecision
        form = RecordFilterForm
        fields = ["q", "allowed", "reason", "hook", "from_day", "to_day"]


class NewsApplicationFilter(RecordFilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=NewsApplication.Status.choices)
    origin = django_filters.ChoiceFilter(label=_("Origin"), choices=NewsApplication.Origin.choices)
    from_day = _day("window_start", "gte", _("Window from"))
    to_day = _day("window_start", "lte", _("Window until"))

    class Meta:
        model = NewsApplication
        form = RecordFilterForm
        fields = ["q", "status", "origin", "from_day", "to_day"]


class StaffLogFilter(RecordFilterSet):
    verb = django_filters.CharFilter(label=_("Verb"), lookup_expr="startswith", max_length=64)
    from_day = _day("at", "gte", _("From"))
    to_day = _day("at", "lte", _("Until"))

    class Meta:
        model = StaffActionLog
        form = RecordFilterForm
        fields = ["q", "verb", "from_day", "to_day"]
