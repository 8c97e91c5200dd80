"""HTML views (thin) of integrations: webhook endpoints with their delivery log and redelivery
(administrators; anyone else gets 404), the phone page that captures a business card, and the PWA
files served from the site's root (manifest, service worker, offline page)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from tradecrm.core import geo
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.core.paging import BadCursor, Sort, keyset_page

from . import services
from .forms import CaptureForm, EndpointForm
from .models import EVENTS, DeliveryStatus, WebhookDelivery, WebhookEndpoint


def _messages_of(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


def _admin_only(user) -> None:
    if not services.can_manage(user):
        raise Http404


def _endpoint_data(form: EndpointForm) -> dict:
    d = form.cleaned_data
    data = {"name": d["name"], "url": d["url"], "events": d["events"], "active": d["active"]}
    if d["secret"]:
        data["secret"] = d["secret"]
    return data


@login_required
def endpoint_list(request):
    _admin_only(request.user)
    errors: dict = {}
    form = EndpointForm(request.POST or None, initial={"active": True})
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.endpoint_create(actor=request.user, data=_endpoint_data(form))
        except ValidationError as exc:
            errors = _messages_of(exc)
        else:
            messages.success(request, _("Endpoint “%(name)s” added. Its signing secret: %(secret)s — keep it in the "
                                        "receiving system.") % {"name": endpoint.name, "secret": endpoint.secret})  # fmt: skip
            return redirect("integrations:endpoint_detail", endpoint.pk)
    endpoints = list(WebhookEndpoint.objects.order_by("name", "id"))
    ctx = {"nav": "integrations", "endpoints": endpoints, "form": form, "errors": errors, "events": EVENTS}
    return render(request, "integrations/endpoint_list.html", ctx, status=422 if errors else 200)


@login_required
def endpoint_detail(request, pk: int):
    endpoint = services.endpoint_get_for_user(request.user, pk)
    errors: dict = {}
    if request.method == "POST":
        form = EndpointForm(request.POST)
        if form.is_valid():
            try:
                version = int(request.POST.get("version") or 0)
                endpoint = services.endpoint_update(actor=request.user, endpoint=endpoint, version=version,
                                                    data=_endpoint_data(form))  # fmt: skip
            except ValidationError as exc:
                errors = _messages_of(exc)
            except ConcurrentEditError:
                errors = {
                    "__all__": [_("Someone changed this endpoint since you opened it; reload and try again.")]
                }
            else:
                messages.success(request, _("Saved."))
                return redirect("integrations:endpoint_detail", endpoint.pk)
    else:
        form = EndpointForm(initial={"name": endpoint.name, "url": endpoint.url, "events": endpoint.events,
                                     "active": endpoint.active})  # fmt: skip
    status = request.GET.get("status", "")
    qs = WebhookDelivery.objects.filter(endpoint=endpoint)
    if status in DeliveryStatus.values:
        qs = qs.filter(status=status)
    fields = ("id", "event", "status", "attempts", "next_attempt_at", "last_attempt_at", "response_code",
              "error", "duration_ms", "created_at")  # fmt: skip
    try:
        rows, nxt, prev = keyset_page(qs, Sort("created_at", True, "datetime"), request.GET.get("cursor") or None,
                                      50, fields)  # fmt: skip
    except BadCursor:
        return redirect(request.path)
    labels = dict(DeliveryStatus.choices)
    for r in rows:
        r["status_label"] = labels.get(r["status"], r["status"])
    ctx = {"nav": "integrations", "endpoint": endpoint, "form": form, "errors": errors, "rows": rows,
           "next_cursor": nxt, "prev_cursor": prev, "status": status, "statuses": DeliveryStatus.choices}  # fmt: skip
    return render(request, "integrations/endpoint_detail.html", ctx, status=422 if errors else 200)


@login_required
@require_POST
def endpoint_delete(request, pk: int):
    endpoint = services.endpoint_get_for_user(request.user, pk)
    services.endpoint_delete(actor=request.user, endpoint=endpoint)
    messages.success(request, _("Endpoint “%(name)s” deleted.") % {"name": endpoint.name})
    return redirect("integrations:endpoint_list")


@login_required
def delivery_detail(request, pk: int):
    delivery = services.delivery_get_for_user(request.user, pk)
    import json

    ctx = {
        "nav": "integrations",
        "d": delivery,
        "payload": json.dumps(delivery.payload, indent=2, ensure_ascii=False),
    }
    return render(request, "integrations/delivery_detail.html", ctx)


@login_required
@require_POST
def delivery_redeliver(request, pk: int):
    delivery = services.delivery_get_for_user(request.user, pk)
    copy = services.delivery_redeliver(actor=request.user, delivery=delivery)
    messages.success(request, _("Sent again as delivery %(id)s.") % {"id": copy.pk})
    return redirect("integrations:delivery_detail", copy.pk)


# --- business-card capture ---------------------------------------------------------------------------


@login_required
def capture(request):
    countries = geo.country_choices(get_language() or "en")
    errors: dict = {}
    if request.method == "POST":
        form = CaptureForm(request.POST, request.FILES, countries=countries)
        if form.is_valid():
            try:
                done = services.card_capture(actor=request.user, data=form.cleaned_data,
                                             photo=form.cleaned_data.get("photo") or None)  # fmt: skip
            except ValidationError as exc:
                errors = _messages_of(exc)
            except PermissionDenied as exc:
                errors = {"__all__": [str(exc)]}
            else:
                if done.created:
                    text = _("Saved: new customer “%(company)s”.") % {"company": done.company.name}
                else:
                    text = _("Saved: added to “%(company)s”, already in your customers (duplicate check).") % {
                        "company": done.company.name}  # fmt: skip
                messages.success(request, text)
                # the next card is usually from the same show
                request.session["capture_show"] = form.cleaned_data.get("show") or ""
                url = reverse("integrations:capture") + f"?saved={done.company.pk}"
                return redirect(url)
        else:
            errors = form.errors
    else:
        form = CaptureForm(countries=countries, initial={"show": request.session.get("capture_show", "")})
    saved = None
    if request.GET.get("saved"):
        from tradecrm.customers.selectors import company_get_for_user

        try:
            saved = company_get_for_user(request.user, request.GET["saved"])
        except Http404:
            saved = None
    ctx = {"nav": "capture", "form": form, "errors": errors, "saved": saved}
    return render(request, "integrations/capture.html", ctx, status=422 if errors else 200)


# --- PWA ---------------------------------------------------------------------------------------------


@require_GET
@cache_control(max_age=3600, public=True)
def manifest(request):
    data = {
        "name": "TradeCRM",
        "short_name": "TradeCRM",
        "description": _("Customers, follow-ups and orders of your export business."),
        "start_url": "/?source=pwa",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f6f8fb",
        "theme_color": "#206bc4",
        "lang": get_language() or "en",
        "icons": [
            {"src": static("pwa/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": static("pwa/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {
                "src": static("pwa/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
        "shortcuts": [{"name": _("Capture a business card"), "url": reverse("integrations:capture")}],
    }
    return JsonResponse(
        data, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False}
    )


@require_GET
def service_worker(request):
    """static/pwa/sw.js served from the root so that its scope is the whole site."""
    path = finders.find("pwa/sw.js") or str(settings.STATIC_ROOT / "pwa" / "sw.js")
    try:
        response = FileResponse(open(path, "rb"), content_type="text/javascript")  # noqa: SIM115
    except OSError:
        raise Http404 from None
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
@cache_control(max_age=3600, public=True)
def offline(request):
    return render(request, "integrations/offline.html")
