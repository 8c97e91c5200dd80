"""HTML views (thin) of the service app: tickets (list, new, page with htmx status changes and
comments, edit), the lazily loaded card on the customer page, settings (SLA and surveys), the two
reports, and the public survey pages (no login: signed links)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from tradecrm.core import money
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.core.ids import parse_id
from tradecrm.core.paging import BadCursor
from tradecrm.customers.forms import assignable_users
from tradecrm.customers.selectors import company_get_for_user
from tradecrm.customers.views import _concurrent_message

from . import links, selectors, services
from .models import SCALE_RANGE, Category, Kind, RootCause, Scale, Severity, Status

TICKET_FIELDS = ("title", "description", "category", "kind", "severity", "owner", "order", "order_line", "product",
                 "supplier", "root_cause", "root_cause_note", "solution", "compensation_amount",
                 "compensation_currency", "replacement", "replacement_note", "discount_percent")  # fmt: skip


def _errors_of(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


def _choices_ctx(user, company=None, ticket=None) -> dict:
    extra = [ticket.owner_id] if ticket and ticket.owner_id else []
    orders = []
    if company is not None:
        from tradecrm.orders.models import Order

        orders = list(Order.objects.filter(company=company).order_by("-document_date", "-id")
                      .values("id", "number", "document_date")[:100])  # fmt: skip
    return {"categories": Category.choices, "kinds": Kind.choices, "severities": Severity.choices[::-1],
            "root_causes": RootCause.choices, "owners": assignable_users(user, extra), "orders": orders,
            "currencies": money.currency_choices()}  # fmt: skip


def _data_from_post(post, keys=TICKET_FIELDS) -> dict:
    data = {k: post.get(k, "") for k in keys if k in post}
    if "replacement" in keys:
        data["replacement"] = post.get("replacement") == "on"
    return data


# --- tickets ----------------------------------------------------------------------------------------


@login_required
def ticket_list(request):
    f, errors = selectors.filters_from_params(request.GET)
    for message in errors.values():
        messages.warning(request, message)
    try:
        rows, nxt, prev = selectors.ticket_list(request.user, f, cursor=request.GET.get("cursor") or None)
    except BadCursor:
        return redirect(request.path)
    query = request.GET.copy()
    query.pop("cursor", None)
    ctx = {"nav": "service", "rows": rows, "next_cursor": nxt, "prev_cursor": prev, "f": f,
           "query": query.urlencode(), "statuses": Status.choices, "severities": Severity.choices[::-1],
           "owners": assignable_users(request.user)}  # fmt: skip
    return render(request, "service/ticket_list.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def ticket_create(request):
    source = request.POST if request.method == "POST" else request.GET
    company = company_get_for_user(request.user, source.get("company") or 0)
    values: dict = {"order": source.get("order", ""), "order_line": source.get("order_line", ""),
                    "severity": Severity.MEDIUM, "category": Category.COMPLAINT,
                    "owner": company.owner_id or request.user.pk}  # fmt: skip
    errors: dict = {}
    if request.method == "POST":
        keys = (
            "title",
            "description",
            "category",
            "kind",
            "severity",
            "owner",
            "order",
            "order_line",
            "supplier",
        )
        data = _data_from_post(request.POST, keys)
        values.update(data)
        files = request.FILES.getlist("files")
        try:
            with transaction.atomic():  # the ticket with its files, or nothing
                ticket = services.ticket_create(actor=request.user, company=company, data=data)
                if files:
                    services.ticket_files_add(actor=request.user, ticket=ticket, files=files)
        except ValidationError as exc:
            errors = _errors_of(exc)
        else:
            messages.success(request, _("Ticket %(number)s opened.") % {"number": ticket.number})
            return redirect(reverse("service:ticket_detail", args=[ticket.pk]))
    lines = []
    order_id = parse_id(values.get("order"))
    if order_id:
        from tradecrm.orders.models import OrderLine

        lines = list(OrderLine.objects.filter(order_id=order_id, order__company=company)
                     .values("id", "position", "name", "sku"))  # fmt: skip
    ctx = {"nav": "service", "company": company, "values": values, "errors": errors, "lines": lines,
           **_choices_ctx(request.user, company)}  # fmt: skip
    return render(request, "service/ticket_form.html", ctx, status=422 if errors else 200)


def _detail_ctx(request, ticket, **extra) -> dict:
    now = timezone.now()
    ctx = {"nav": "service", "t": ticket, "events": selectors.ticket_events(ticket),
           "files": selectors.ticket_files(ticket), "file_limit": services.ticket_file_limit(),
           "allowed": [(s, Status(s).label) for s in services.allowed_statuses(ticket)],
           "overdue": ticket.status not in ("resolved", "closed") and (
               ticket.resolution_due < now or (ticket.first_response_at is None and ticket.first_response_due < now)),
           "root_causes": RootCause.choices, "errors": {}, "values": {}, **extra}  # fmt: skip
    return ctx


@login_required
def ticket_detail(request, pk: int):
    ticket = selectors.ticket_get_for_user(request.user, pk)
    return render(request, "service/ticket_detail.html", _detail_ctx(request, ticket))


@login_required
@require_POST
def ticket_status(request, pk: int):
    """The status buttons (htmx: answers with the status card only)."""
    ticket = selectors.ticket_get_for_user(request.user, pk)
    data = {k: request.POST[k] for k in ("solution", "root_cause", "root_cause_note") if k in request.POST}
    version = parse_id(request.POST.get("version"))
    errors: dict = {}
    try:
        ticket = services.ticket_set_status(actor=request.user, ticket=ticket, status=request.POST.get("status", ""),
                                            note=request.POST.get("note", ""), version=version, data=data)  # fmt: skip
    except ValidationError as exc:
        errors = _errors_of(exc)
    except ConcurrentEditError as exc:
        errors = {"__all__": [_concurrent_message(request.user, exc)]}
    ticket = selectors.ticket_get_for_user(request.user, pk)
    if request.htmx:
        ctx = _detail_ctx(request, ticket, errors=errors, values=request.POST)
        response = render(request, "service/_ticket_status.html", ctx, status=422 if errors else 200)
        if not errors:
            response["HX-Trigger"] = "ticket-changed"
        return response
    for msgs in errors.values():
        for m in msgs:
            messages.error(request, m)
    return redirect(reverse("service:ticket_detail", args=[pk]))


@login_required
def ticket_timeline(request, pk: int):
    ticket = selectors.ticket_get_for_user(request.user, pk)
    return render(request, "service/_timeline.html", {"events": selectors.ticket_events(ticket), "t": ticket})


@login_required
@require_POST
def ticket_comment(request, pk: int):
    ticket = selectors.ticket_get_for_user(request.user, pk)
    try:
        services.ticket_comment(actor=request.user, ticket=ticket, text=request.POST.get("text", ""))
    except ValidationError as exc:
        for msgs in _errors_of(exc).values():
            for m in msgs:
                messages.error(request, m)
    return redirect(reverse("service:ticket_detail", args=[pk]) + "#timeline")


@login_required
@require_http_methods(["GET", "POST"])
def ticket_edit(request, pk: int):
    ticket = selectors.ticket_get_for_user(request.user, pk)
    errors: dict = {}
    values = {k: getattr(ticket, k + "_id", None) if k in ("owner", "order", "order_line", "product")
              else getattr(ticket, k) for k in TICKET_FIELDS}  # fmt: skip
    if request.method == "POST":
        data = _data_from_post(request.POST)
        data.pop("product", None)
        values.update(data)
        try:
            services.ticket_update(actor=request.user, ticket=ticket, version=parse_id(request.POST.get("version")) or 0,
                                   data=data)  # fmt: skip
        except ValidationError as exc:
            errors = _errors_of(exc)
        except ConcurrentEditError as exc:
            errors = {"__all__": [_concurrent_message(request.user, exc)]}
        else:
            messages.success(request, _("Saved."))
            return redirect(reverse("service:ticket_detail", args=[pk]))
    lines = []
    if ticket.order_id:
        lines = list(ticket.order.lines.values("id", "position", "name", "sku")) if ticket.order else []
    ctx = {"nav": "service", "t": ticket, "company": ticket.company, "values": values, "errors": errors,
           "lines": lines, "edit": True, **_choices_ctx(request.user, ticket.company, ticket)}  # fmt: skip
    return render(request, "service/ticket_form.html", ctx, status=422 if errors else 200)


@login_required
def company_panel(request, company_pk: int):
    company = company_get_for_user(request.user, company_pk)
    ctx = {"company": company, "tickets": selectors.company_tickets(company.pk),
           "sat": selectors.company_satisfaction(company.pk)}  # fmt: skip
    return render(request, "service/_panel_body.html", ctx)


# --- settings and reports ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def service_settings(request):
    """Administrators: the SLA hours per severity and the survey settings per tier."""
    from tradecrm.pool.rules import tier_codes

    if not request.user.is_admin:
        raise PermissionDenied(_("Only administrators may change these settings."))
    errors: dict = {}
    if request.method == "POST":
        try:
            if request.POST.get("form") == "sla":
                data = {
                    s: {
                        "first_response_hours": request.POST.get(f"{s}_response", ""),
                        "resolution_hours": request.POST.get(f"{s}_resolution", ""),
                    }
                    for s in Severity.values
                }
                services.sla_update(actor=request.user, data=data)
            else:
                for tier in ["", *tier_codes()]:
                    prefix = f"t_{tier or 'default'}_"
                    if prefix + "days" not in request.POST:
                        continue
                    services.survey_config_save(actor=request.user, tier=tier, data={
                        "enabled": request.POST.get(prefix + "enabled") == "on",
                        "days_after_delivery": request.POST.get(prefix + "days", ""),
                        "scale": request.POST.get(prefix + "scale", "")})  # fmt: skip
        except ValidationError as exc:
            errors = _errors_of(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(reverse("service:settings"))
    configs = {c.tier: c for c in selectors.survey_configs()}
    tiers = [{"tier": t, "key": t or "default", "config": configs.get(t)} for t in ["", *tier_codes()]]
    ctx = {"nav": "service", "sla": selectors.sla_policies(), "tiers": tiers, "scales": Scale.choices,
           "errors": errors}  # fmt: skip
    return render(request, "service/settings.html", ctx, status=422 if errors else 200)


def _period(request) -> tuple[dt.date | None, dt.date | None]:
    out = []
    for key in ("since", "until"):
        try:
            out.append(dt.date.fromisoformat(request.GET.get(key) or ""))
        except ValueError:
            out.append(None)
    return out[0], out[1]


@login_required
def causes_report(request):
    since, until = _period(request)
    by = "supplier" if request.GET.get("by") == "supplier" else "product"
    rows = selectors.causes_report(request.user, since=since, until=until, by=by)
    labels = dict(RootCause.choices)
    for r in rows:
        r["cause_label"] = labels.get(r["root_cause"], _("Not found yet"))
    ctx = {"nav": "service", "rows": rows, "by": by, "since": since, "until": until}
    return render(request, "service/report_causes.html", ctx)


@login_required
def survey_report(request):
    since, until = _period(request)
    ctx = {"nav": "service", "r": selectors.survey_report(request.user, since=since, until=until),
           "since": since, "until": until}  # fmt: skip
    return render(request, "service/report_surveys.html", ctx)


@login_required
def survey_list(request):
    answered = {"1": True, "0": False}.get(request.GET.get("answered", ""))
    try:
        rows, nxt, prev = selectors.survey_list(
            request.user, answered=answered, cursor=request.GET.get("cursor") or None
        )
    except BadCursor:
        return redirect(request.path)
    query = request.GET.copy()
    query.pop("cursor", None)
    ctx = {"nav": "service", "rows": rows, "next_cursor": nxt, "prev_cursor": prev, "answered": answered,
           "query": query.urlencode()}  # fmt: skip
    return render(request, "service/survey_list.html", ctx)


# --- public survey pages (no login) ---------------------------------------------------------------


def _public(request, template: str, ctx: dict, language: str, status: int = 200) -> HttpResponse:
    with translation.override(language):
        response = render(request, template, {**ctx, "language": language}, status=status)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    response["Content-Language"] = language
    return response


def _url_language(lang: str) -> str:
    from django.conf import settings

    return lang if lang in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _message(request, language: str, kind: str, status: int, survey=None) -> HttpResponse:
    return _public(
        request,
        "service/public/survey_message.html",
        {"kind": kind, "survey": survey},
        language,
        status=status,
    )


def _form(request, survey, *, just_scored: bool = False, errors: dict | None = None, status: int = 200):
    low, high = SCALE_RANGE[survey.scale]
    ctx = {"survey": survey, "scores": list(range(low, high + 1)), "nps": survey.scale == Scale.NPS,
           "token": links.make_token(survey), "just_scored": just_scored, "errors": errors or {},
           "change_until": services.change_until(survey), "company_name": survey.company.name,
           "order_number": survey.order.number if survey.order else ""}  # fmt: skip
    return _public(request, "service/public/survey_page.html", ctx, survey.language, status=status)


@never_cache
@require_http_methods(["GET"])
def survey_score(request, lang: str, token: str, score: int):
    """The one-click link of the email: records the score (first click only), then the page for a
    comment. Tampered: 400; expired or final: its page."""
    survey = links.read_token(token)
    if survey is None:
        return _message(request, _url_language(lang), "invalid", 400)
    state = services.survey_state(survey)
    if state in ("expired", "answered"):
        return _message(request, survey.language, state, 410 if state == "expired" else 200, survey)
    first = survey.answered_at is None
    try:
        survey = services.survey_answer(survey=survey, score=score, first_only=True)
    except ValidationError:
        return _message(request, survey.language, "bad_score", 400, survey)
    except services.SurveyClosed as exc:
        return _message(request, survey.language, exc.reason, 200, survey)
    return _form(request, survey, just_scored=first)


@never_cache
@require_http_methods(["GET", "POST"])
def survey_page(request, lang: str, token: str):
    """The page with the score and a comment box; POST saves both (within the change window)."""
    survey = links.read_token(token)
    if survey is None:
        return _message(request, _url_language(lang), "invalid", 400)
    state = services.survey_state(survey)
    if state in ("expired", "answered"):
        return _message(request, survey.language, state, 410 if state == "expired" else 200, survey)
    if request.method == "GET":
        return _form(request, survey)
    try:
        with translation.override(survey.language):
            survey = services.survey_answer(survey=survey, score=request.POST.get("score", ""),
                                            comment=request.POST.get("comment", ""))  # fmt: skip
    except ValidationError as exc:
        with translation.override(survey.language):
            errors = _errors_of(exc)
        return _form(request, survey, errors=errors, status=422)
    except services.SurveyClosed as exc:
        return _message(request, survey.language, exc.reason, 200, survey)
    return _message(request, survey.language, "thanks", 200, survey)


# --- ticket files ------------------------------------------------------------------------------------

INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"})


@login_required
@require_POST
def ticket_files_upload(request, pk: int):
    ticket = selectors.ticket_get_for_user(request.user, pk)
    try:
        added = services.ticket_files_add(actor=request.user, ticket=ticket, files=request.FILES.getlist("files"))
    except ValidationError as exc:
        for msgs in _errors_of(exc).values():
            for m in msgs:
                messages.error(request, m)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(n)s file(s) added.") % {"n": len(added)})
    return redirect(reverse("service:ticket_detail", args=[pk]) + "#files")


@login_required
def ticket_file_download(request, pk: int):
    """The file, decrypted; photos and PDFs open in the browser, anything else is downloaded.
    404 for a file of a ticket the user cannot see."""
    att = selectors.ticket_file_get_for_user(request.user, pk)
    try:
        data = services.ticket_file_read(att)
    except FileNotFoundError:
        return HttpResponse(_("This file is missing from the server's storage."), status=410,
                            content_type="text/plain; charset=utf-8")  # fmt: skip
    inline = att.content_type in INLINE_TYPES and request.GET.get("download") != "1"
    response = HttpResponse(data, content_type=att.content_type or "application/octet-stream")
    name = att.name.replace('"', "").replace("\r", "").replace("\n", "")
    response["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def ticket_file_delete(request, pk: int):
    att = selectors.ticket_file_get_for_user(request.user, pk)
    ticket_id = att.ticket_id
    try:
        services.ticket_file_delete(actor=request.user, attachment=att)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("File removed."))
    return redirect(reverse("service:ticket_detail", args=[ticket_id]) + "#files")
