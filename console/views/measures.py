"""Measures and what the platform is told: lifting a cooling-off or a suspension, the webhook deliveries."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.roles import require_role
from console.forms.verification import LiftForm
from moderation import actions, permissions
from moderation.models import Publisher, WebhookDelivery


@require_POST
@require_role(*permissions.roles_for("action.lift"))
def lift_measure(request: HttpRequest, publisher_id: int) -> HttpResponse:
    """Lift the publisher's cooling-off (every key) or suspension now; the platform is told (publisher.lifted)."""
    publisher = Publisher.objects.filter(pk=publisher_id).first()
    if publisher is None:
        raise Http404
    form = LiftForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Lifting a measure needs the measure and a reason (at most 300 characters)."))
        return redirect("console:publisher", publisher_id=publisher.pk)
    measure, note = form.cleaned_data["measure"], form.cleaned_data["note"].strip()
    try:
        if measure == "cooling_off":
            key = publisher.stream_keys.order_by("-denied_until", "pk").first()
            if key is None or publisher.cooling_off_ends(key, timezone.now()) is None:
                raise actions.ModerationError(str(_("No cooling-off is running.")), code="invalid")
            actions.lift_block(key, actor=request.user, note=note)
        else:
            actions.lift_suspension(publisher, actor=request.user, note=note)
    except actions.ModerationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Measure lifted; the platform is notified."))
    return redirect("console:publisher", publisher_id=publisher.pk)


# --- notifications to the platform (docs/webhooks.md) -----------------------------------------------


@never_cache
@require_role(*permissions.roles_for("webhooks.read"))
def webhook_deliveries(request: HttpRequest) -> HttpResponse:
    """List notifications to the platform by status (pending, failed, delivered); retry one now."""
    if request.method == "POST":
        if not permissions.may(request.user, "webhooks.manage"):
            return HttpResponse(status=403)
        delivery_id = request.POST.get("delivery") or ""
        delivery = WebhookDelivery.objects.filter(pk=delivery_id).first() if delivery_id.isdigit() else None
        if delivery is None:
            raise Http404
        try:
            actions.retry_webhook_now(delivery, actor=request.user)
        except actions.ModerationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Notification %(id)s is sent again now.") % {"id": delivery.pk})
        return redirect(f"{request.path}?status={request.GET.get('status', '')}")
    status = request.GET.get("status") or ""
    if status not in WebhookDelivery.Status.values:
        status = ""
    deliveries = WebhookDelivery.objects.order_by("-created_at", "-id")
    if status:
        deliveries = deliveries.filter(status=status)
    counts = dict(WebhookDelivery.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    return render(
        request,
        "console/webhooks.html",
        {
            "deliveries": list(deliveries[:200]),
            "status": status,
            "statuses": [(value, label, counts.get(value, 0)) for value, label in WebhookDelivery.Status.choices],
            "may_retry": permissions.may(request.user, "webhooks.manage"),
        },
    )
