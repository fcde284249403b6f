"""The audits page (docs/audits.md): each audit's schedule and runs, the findings, who handled them."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.roles import require_role
from console.forms.audits import AuditScheduleForm, ResolveFindingForm
from moderation import actions, permissions, queries
from moderation.audit_catalogue import audit_spec
from moderation.models import AuditRun, Finding

FINDING_ERRORS = {
    "conflict": _("Someone handled this finding first."),
    "not_found": _("No such finding."),
    "forbidden": _("Your role may not do this."),
}


@never_cache
@require_role(*permissions.roles_for("audit.read"))
def audits(request: HttpRequest) -> HttpResponse:
    """Show every audit with its schedule and latest run, the recent runs, and the findings."""
    status = request.GET.get("status", "unresolved")
    if status not in {"unresolved", *Finding.Status.values}:
        status = "unresolved"
    runs = list(queries.recent_audit_runs())
    return render(
        request,
        "console/audits.html",
        {
            "overview": queries.audits_overview(),
            "runs": runs,
            "running": any(not run.is_finished for run in runs),
            "findings": list(queries.findings_for_page(status=status)),
            "status": status,
            "statuses": [("unresolved", _("Unresolved")), *Finding.Status.choices],
            "may_run": permissions.may(request.user, "audit.run"),
            "may_schedule": permissions.may(request.user, "audit.schedule"),
            "may_handle": permissions.may(request.user, "audit.handle"),
        },
    )


@never_cache
@require_role(*permissions.roles_for("audit.read"))
def audit_run(request: HttpRequest, run_id: int) -> HttpResponse:
    """Show one run with its progress (JSON for the page's poll) and the findings it added."""
    run = AuditRun.objects.select_related("requested_by").filter(pk=run_id).first()
    if run is None:
        raise Http404
    if request.GET.get("format") == "json":
        return JsonResponse(
            {
                "id": run.pk,
                "outcome": run.outcome,
                "outcome_label": str(run.get_outcome_display()),
                "done": run.progress_done,
                "total": run.progress_total,
                "percent": run.progress_percent,
                "finished": run.is_finished,
            }
        )
    findings = Finding.objects.filter(first_run=run).select_related("stream", "acknowledged_by", "resolved_by")
    return render(
        request,
        "console/audit_run.html",
        {"run": run, "label": queries.audit_label(run.audit), "findings": list(findings.order_by("id")[:500])},
    )


@require_POST
@require_role(*permissions.roles_for("audit.run"))
def audit_run_now(request: HttpRequest, name: str) -> HttpResponse:
    """Queue a run of one audit now."""
    try:
        run = actions.queue_audit_run(name, actor=request.user)
    except actions.ModerationError as exc:
        if exc.code == "not_found":
            raise Http404 from None
        raise
    messages.success(request, _("The audit is queued."))
    return redirect("console:audit-run", run_id=run.pk)


@never_cache
@require_role(*permissions.roles_for("audit.schedule"))
def audit_schedule(request: HttpRequest, name: str) -> HttpResponse:
    """Edit when beat runs an audit (a crontab), or pause it; takes effect without a deploy."""
    spec = audit_spec(name)
    if spec is None:
        raise Http404
    current = next(row for row in queries.audits_overview() if row["spec"].name == spec.name)
    form = AuditScheduleForm(
        request.POST or None, initial={"crontab": current["crontab"], "enabled": current["enabled"]}
    )
    if request.method == "POST" and form.is_valid():
        actions.set_audit_schedule(
            spec.name, crontab=form.cleaned_data["crontab"], enabled=form.cleaned_data["enabled"], actor=request.user
        )
        messages.success(request, _("Schedule saved."))
        return redirect("console:audits")
    return render(
        request,
        "console/audit_schedule.html",
        {"spec": spec, "form": form},
        status=400 if form.errors else 200,
    )


@require_POST
@require_role(*permissions.roles_for("audit.handle"))
def finding_handle(request: HttpRequest, finding_id: int, step: str) -> HttpResponse:
    """Acknowledge or resolve a finding; the alert on every console follows."""
    wants_json = request.headers.get("X-Requested-With") == "fetch"
    form = ResolveFindingForm(request.POST)
    try:
        if step == "acknowledge":
            finding = actions.acknowledge_finding(finding_id, actor=request.user)
        elif step == "resolve" and form.is_valid():
            finding = actions.resolve_finding(finding_id, actor=request.user, note=form.cleaned_data["note"])
        elif step == "resolve":
            raise actions.ModerationError("bad note", code="bad_field")
        else:
            raise Http404
    except actions.ModerationError as exc:
        text = str(FINDING_ERRORS.get(exc.code, _("The note cannot be stored.")))
        if wants_json:
            return JsonResponse({"error": exc.code, "message": text}, status=404 if exc.code == "not_found" else 409)
        messages.error(request, text)
        return redirect("console:audits")
    if wants_json:
        return JsonResponse(queries.finding_alert(finding.pk))
    messages.success(request, _("Finding acknowledged.") if step == "acknowledge" else _("Finding resolved."))
    return redirect("console:audits")
