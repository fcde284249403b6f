"""The record lists (记录查询): search, filter, sort, page and export publishers, streams, moderation
actions, gate decisions, news applications (the news roles, compliance admins, inspectors) and
(compliance admins, inspectors) the staff action log. Read-only: no
list changes anything. django-filter reads the filters, django-tables2 sorts and pages; a filter
that does not parse is shown as a form error with no rows (400), never a 500."""

from __future__ import annotations

import csv
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

import django_tables2 as tables
from django_tables2 import RequestConfig

from accounts.models import StaffActionLog
from accounts.roles import require_role
from console.forms import records as filters
from moderation import permissions, queries
from moderation.identity import mask_phone
from moderation.models import GateDecision, ModerationAction, NewsApplication, Publisher, Stream
from moderation.text_input import for_export

PER_PAGE = 50
EXPORT_MAX_ROWS = 10_000
TIME_FORMAT = "Y-m-d H:i:s"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class RecordTable(tables.Table):
    """A record list's table: the console's table style, a sentence when nothing matches."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("attrs", {"class": "records"})
        kwargs.setdefault("empty_text", _("No records match."))
        kwargs.setdefault("template_name", "django_tables2/table.html")
        super().__init__(*args, **kwargs)


def _time(field: str, label) -> tables.DateTimeColumn:
    return tables.DateTimeColumn(accessor=field, verbose_name=label, format=TIME_FORMAT)


class PublisherTable(RecordTable):
    display_name = tables.Column(verbose_name=_("Display name"), linkify=("console:publisher", [tables.A("pk")]))
    platform_account_id = tables.Column(verbose_name=_("Platform account"))
    status = tables.Column(verbose_name=_("Status"))
    credit_level = tables.Column(verbose_name=_("Credit level"))
    credit_score = tables.Column(verbose_name=_("Credit score"))
    verification = tables.Column(verbose_name=_("Verification"))
    phone = tables.Column(verbose_name=_("Mobile number"), orderable=False)
    created_at = _time("created_at", _("Created"))

    def render_phone(self, value):
        return mask_phone(value)

    def value_phone(self, value):
        return mask_phone(value)


class StreamTable(RecordTable):
    id = tables.Column(verbose_name="#")
    title = tables.Column(verbose_name=_("Title"), linkify=("console:stream", [tables.A("pk")]))
    publisher = tables.Column(accessor="publisher__display_name", verbose_name=_("Publisher"))
    category = tables.Column(accessor="category__name", verbose_name=_("Category"))
    node = tables.Column(accessor="node__name", verbose_name=_("Node"))
    started_at = _time("started_at", _("Live since"))
    ended_at = _time("ended_at", _("Ended at"))
    end_reason = tables.Column(verbose_name=_("End reason"))
    last_patrolled_at = _time("last_patrolled_at", _("Last patrolled"))


class ActionTable(RecordTable):
    at = _time("at", _("At"))
    kind = tables.Column(verbose_name=_("Action"))
    stream = tables.Column(accessor="stream__title", verbose_name=_("Stream"))
    publisher = tables.Column(accessor="publisher__display_name", verbose_name=_("Publisher"))
    actor = tables.Column(verbose_name=_("By"), default="—")
    reason = tables.Column(verbose_name=_("Reason"))
    media_status = tables.Column(verbose_name=_("Media server"))
    note = tables.Column(verbose_name=_("Note"), orderable=False)

    def render_stream(self, value, record):
        return format_html('<a href="{}">{}</a>', reverse("console:stream", args=[record.stream_id]), value)


class GateDecisionTable(RecordTable):
    at = _time("at", _("At"))
    hook = tables.Column(verbose_name=_("Hook"))
    node = tables.Column(accessor="node__name", verbose_name=_("Node"), default="—")
    publisher = tables.Column(accessor="publisher__display_name", verbose_name=_("Publisher"), default="—")
    allowed = tables.BooleanColumn(verbose_name=_("Allowed"))
    reason = tables.Column(verbose_name=_("Reason"))
    detail = tables.Column(verbose_name=_("Detail"), orderable=False)
    addr = tables.Column(verbose_name=_("Address"))


class NewsApplicationTable(RecordTable):
    id = tables.Column(verbose_name="#")
    title = tables.Column(verbose_name=_("Title"), linkify=("console:news-application", [tables.A("pk")]))
    publisher = tables.Column(accessor="publisher__display_name", verbose_name=_("Publisher"))
    origin = tables.Column(verbose_name=_("Origin"))
    status = tables.Column(verbose_name=_("Status"))
    window_start = _time("window_start", _("Window start"))
    window_end = _time("window_end", _("Window end"))
    submitted_at = _time("submitted_at", _("Submitted at"))
    updated_at = _time("updated_at", _("Updated at"))


class StaffLogTable(RecordTable):
    at = _time("at", _("At"))
    actor_name = tables.Column(verbose_name=_("Staff"))
    verb = tables.Column(verbose_name=_("Verb"))
    target_type = tables.Column(verbose_name=_("Target type"))
    target_id = tables.Column(verbose_name=_("Target"))
    ip = tables.Column(verbose_name=_("IP address"), default="—")


@dataclass(frozen=True)
class RecordList:
    slug: str
    title: object
    capability: str
    filterset: type
    table: type
    rows: object  # text → queryset
    default_order: str


LISTS = [
    RecordList("publishers", _("Publishers"), "records.read", filters.PublisherFilter, PublisherTable,
               queries.publishers_matching, "platform_account_id"),
    RecordList("streams", _("Streams"), "records.read", filters.StreamFilter, StreamTable,
               queries.streams_matching, "-started_at"),
    RecordList("actions", _("Actions"), "records.read", filters.ActionFilter, ActionTable,
               queries.actions_matching, "-at"),
    RecordList("gate", _("Gate decisions"), "records.read", filters.GateDecisionFilter, GateDecisionTable,
               queries.gate_decisions_matching, "-at"),
    RecordList("news", _("News applications"), "news.read", filters.NewsApplicationFilter, NewsApplicationTable,
               queries.news_applications_matching, "-submitted_at"),
    RecordList("staff-log", _("Staff action log"), "records.staff_log", filters.StaffLogFilter, StaffLogTable,
               queries.staff_log_matching, "-at"),
]  # fmt: skip
_BY_SLUG = {record_list.slug: record_list for record_list in LISTS}
assert {Publisher, Stream, ModerationAction, GateDecision, NewsApplication, StaffActionLog}  # the models the lists read


@never_cache
@require_role(*permissions.roles_for("records.read"))
def records(request: HttpRequest, kind: str = "publishers") -> HttpResponse:
    """Show one record list with its filters; ``?export=csv`` downloads what the filters select."""
    record_list = _BY_SLUG.get(kind)
    if record_list is None or not permissions.may(request.user, record_list.capability):
        return render(request, "403.html", status=403)
    text = request.GET.get("q", "")
    filterset = record_list.filterset(request.GET or None, queryset=record_list.rows(text[: filters.SEARCH_MAX]))
    valid = filterset.is_bound is False or filterset.is_valid()
    rows = filterset.qs if valid else filterset.queryset.none()
    table = record_list.table(rows.order_by(record_list.default_order, "-pk"), order_by=request.GET.get("sort"))
    if valid and request.GET.get("export") == "csv":
        return _csv(table, record_list.slug)
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    tabs = [
        {"slug": other.slug, "title": other.title, "url": reverse("console:records", args=[other.slug])}
        for other in LISTS
        if permissions.may(request.user, other.capability)
    ]
    query = request.GET.copy()
    query.pop("page", None)
    query["export"] = "csv"
    return render(
        request,
        "console/records.html",
        {
            "record_list": record_list,
            "tabs": tabs,
            "filter_form": filterset.form,
            "table": table,
            "export_query": query.urlencode(),
            "time_zone": settings.TIME_ZONE,
            "utc_offset": timezone.localtime().strftime("%z"),
        },
        status=200 if valid else 400,
    )


def _cell(value) -> str:
    text = for_export("" if value is None else str(value))
    return "'" + text if text.startswith(_FORMULA_START) else text  # no formulas in a spreadsheet


def _csv(table: RecordTable, slug: str) -> HttpResponse:
    """The filtered rows as CSV (UTF-8 with BOM, for spreadsheets), times in the console's zone, labelled."""
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S%z")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="liveward-{slug}-{stamp}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    for index, row in enumerate(table.as_values()):
        if index > EXPORT_MAX_ROWS:
            break
        writer.writerow([_cell(value) for value in row])
    return response
