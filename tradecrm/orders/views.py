"""HTML views of orders: the list, the order page (lines, status chain, shipments, receivables,
payments), the forms, overdue receivables, the FX-difference report, the customer's purchase
history and the lazily loaded card on the customer page. Thin: every object is loaded through a
`*_get_for_user` helper ("missing" and "not yours" are the same 404), every change goes through a
service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tradecrm.core.errors import ConcurrentEditError
from tradecrm.core.fx_validation import FieldProblem
from tradecrm.core.ids import parse_id
from tradecrm.core.paging import BadCursor
from tradecrm.customers.forms import assignable_users
from tradecrm.customers.selectors import companies_for_user, company_get_for_user
from tradecrm.customers.views import _concurrent_message

from . import selectors, services
from .forms import (
    OrderForm,
    PaymentForm,
    ShipmentForm,
    StatusForm,
    WriteOffForm,
    container_formset,
    container_rows,
    formset_rows,
    line_formset,
)
from .models import OrderStatus, ReceivableStatus
from .validation import parse_date

COMPANY_CHOICES = 500  # customers offered in the direct-order form (the customer page pre-selects one)


def _date_param(request, name: str):
    raw = request.GET.get(name) or ""
    if not raw:
        return None
    try:
        return parse_date(raw)
    except FieldProblem:
        return None


def _back(request, fallback: str) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return fallback


def _failed(form) -> bool:
    return bool(form.errors or getattr(form, "list_errors", None))


def _warn(request, obj) -> None:
    for w in getattr(obj, "warnings", []):
        messages.warning(request, w)


# --- list ---------------------------------------------------------------------------------------


@login_required
def order_list(request):
    user = request.user
    f = selectors.OrderFilters(
        status=request.GET.get("status") if request.GET.get("status") in OrderStatus.values else "",
        company=parse_id(request.GET.get("company")),
        owner=user.id if request.GET.get("owner") == "me" else parse_id(request.GET.get("owner")),
        date_from=_date_param(request, "date_from"),
        date_to=_date_param(request, "date_to"),
        q=(request.GET.get("q") or "").strip()[:100],
    )
    try:
        rows, nxt, prev = selectors.order_list(user, f, cursor=request.GET.get("cursor") or None)
    except BadCursor:
        return redirect(request.path)
    labels = dict(OrderStatus.choices)
    for r in rows:
        r["status_label"] = labels.get(r["status"], r["status"])
    query = request.GET.copy()
    query.pop("cursor", None)
    owners = assignable_users(user)
    ctx = {"nav": "orders", "rows": rows, "next_cursor": nxt, "prev_cursor": prev, "f": f,
           "statuses": OrderStatus.choices, "query": query.urlencode(), "owners": owners,
           "owner_param": request.GET.get("owner") or ""}  # fmt: skip
    return render(request, "orders/order_list.html", ctx)


# --- the order page -----------------------------------------------------------------------------


def _detail_context(request, order, *, status_form=None, payment_form=None, stale=False) -> dict:
    detail = selectors.order_detail(order)
    today = services.today_for(request.user)
    statuses = selectors.next_statuses(order) + (
        [OrderStatus.CANCELLED] if selectors.can_cancel(order) else []
    )
    open_receivables = [r for r in detail.receivables if r.status in services.OPEN_RECEIVABLE]
    return {
        "nav": "orders", "order": order, "d": detail, "today": today, "stale": stale,
        "status_form": status_form or StatusForm(
            statuses=statuses, initial={"status": statuses[0] if statuses else "", "effective_on": today.isoformat(),
                                        "version": order.version}),
        "payment_form": payment_form or PaymentForm(order=order, receivables=open_receivables, today=today),
        "can_pay": order.status != OrderStatus.CANCELLED and detail.open_balance > 0,
        "can_write_off": services.can_write_off(request.user),
        "can_edit_lines": order.status == OrderStatus.CONFIRMED,
        "base_currency": order.base_currency or services.fx.base_currency(),
        "written_off": ReceivableStatus.WRITTEN_OFF,
    }  # fmt: skip


@login_required
def order_detail(request, pk: int):
    order = selectors.order_get_for_user(request.user, pk)
    return render(request, "orders/order_detail.html", _detail_context(request, order))


@login_required
@require_POST
def order_status(request, pk: int):
    order = selectors.order_get_for_user(request.user, pk)
    statuses = selectors.next_statuses(order) + (
        [OrderStatus.CANCELLED] if selectors.can_cancel(order) else []
    )
    form = StatusForm(request.POST, statuses=statuses)
    stale = False
    if form.is_valid():
        try:
            order = services.order_set_status(
                actor=request.user, order=order, status=form.cleaned_data["status"],
                effective_on=form.cleaned_data.get("effective_on") or None, note=form.cleaned_data.get("note") or "",
                version=form.cleaned_data.get("version"),
            )  # fmt: skip
        except ValidationError as exc:
            form.apply_errors(exc)
        except ConcurrentEditError as exc:
            form.add_error(None, _concurrent_message(request.user, exc))
            stale = True
        else:
            messages.success(request, _("%(number)s is now %(status)s.") % {
                "number": order.number, "status": services.status_label(order.status)})  # fmt: skip
            _warn(request, order)
            return redirect("orders:order_detail", pk=order.pk)
    order = selectors.order_get_for_user(request.user, pk)
    ctx = _detail_context(request, order, status_form=form, stale=stale)
    return render(request, "orders/order_detail.html", ctx, status=409 if stale else 422)


@login_required
@require_POST
def create_from_proforma(request, proforma_pk: int):
    """The button on a proforma invoice's page: make its order and open it."""
    proforma = selectors.proforma_get_for_user(request.user, proforma_pk)
    try:
        order = services.order_from_proforma(actor=request.user, proforma=proforma)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_back(request, reverse("orders:order_list")))
    messages.success(
        request, _("Order %(number)s made from %(pi)s.") % {"number": order.number, "pi": proforma.number}
    )
    return redirect("orders:order_detail", pk=order.pk)


# --- direct order and editing -------------------------------------------------------------------


def _company_choices(user, company):
    rows = list(companies_for_user(user).order_by("name", "id").only("id", "name")[:COMPANY_CHOICES])
    if company is not None and all(c.pk != company.pk for c in rows):
        rows.insert(0, company)
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def order_create(request):
    user = request.user
    company = None
    raw_company = request.POST.get("company") or request.GET.get("company")
    if raw_company:
        try:
            company = company_get_for_user(user, raw_company)
        except Http404:  # the service names the field
            company = None
    data = request.POST if request.method == "POST" else None
    form = OrderForm(data, user=user, company=company, companies=_company_choices(user, company))
    lines = line_formset(data, extra=5)
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        payload = {**form.service_data(), "lines": formset_rows(lines)}
        try:
            order = services.order_create(actor=user, data=payload)
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("Order %(number)s created.") % {"number": order.number})
            return redirect("orders:order_detail", pk=order.pk)
    ctx = {"nav": "orders", "form": form, "lines": lines, "order": None, "company": company}
    return render(request, "orders/order_form.html", ctx, status=422 if _failed(form) else 200)


@login_required
@require_http_methods(["GET", "POST"])
def order_edit(request, pk: int):
    order = selectors.order_get_for_user(request.user, pk)
    data = request.POST if request.method == "POST" else None
    form = OrderForm(data, user=request.user, order=order)
    can_edit_lines = order.status == OrderStatus.CONFIRMED
    lines = (
        line_formset(data, lines=list(order.lines.order_by("position", "id")), extra=2)
        if can_edit_lines
        else None
    )
    stale = False
    if request.method == "POST" and form.is_valid() and (lines is None or lines.is_valid()):
        payload = form.service_data()
        if lines is not None:
            payload["lines"] = formset_rows(lines)
        try:
            order = services.order_update(actor=request.user, order=order,
                                          version=form.cleaned_data.get("version") or 0, data=payload)  # fmt: skip
        except ValidationError as exc:
            form.apply_errors(exc)
        except ConcurrentEditError as exc:
            form.add_error(None, _concurrent_message(request.user, exc))
            stale = True
        else:
            messages.success(request, _("Order %(number)s saved.") % {"number": order.number})
            return redirect("orders:order_detail", pk=order.pk)
    ctx = {
        "nav": "orders",
        "form": form,
        "lines": lines,
        "order": order,
        "company": order.company,
        "stale": stale,
    }
    return render(
        request, "orders/order_form.html", ctx, status=(409 if stale else 422) if _failed(form) else 200
    )


# --- shipments ----------------------------------------------------------------------------------


def _shipment_form_page(request, *, order, shipment=None):
    data = request.POST if request.method == "POST" else None
    form = ShipmentForm(data, shipment=shipment, order=order)
    containers = container_formset(data, containers=shipment.containers if shipment else (), extra=3)
    stale = False
    if request.method == "POST" and form.is_valid() and containers.is_valid():
        payload = {**form.service_data(), "containers": container_rows(containers)}
        try:
            if shipment is None:
                services.shipment_create(actor=request.user, order=order, data=payload)
            else:
                services.shipment_update(actor=request.user, shipment=shipment,
                                         version=form.cleaned_data.get("version") or 0, data=payload)  # fmt: skip
        except ValidationError as exc:
            form.apply_errors(exc)
        except ConcurrentEditError as exc:
            form.add_error(None, _concurrent_message(request.user, exc))
            stale = True
        else:
            messages.success(request, _("Shipment saved."))
            return redirect("orders:order_detail", pk=order.pk)
    ctx = {"nav": "orders", "form": form, "containers": containers, "order": order, "shipment": shipment,
           "stale": stale}  # fmt: skip
    return render(
        request, "orders/shipment_form.html", ctx, status=(409 if stale else 422) if _failed(form) else 200
    )


@login_required
@require_http_methods(["GET", "POST"])
def shipment_create(request, pk: int):
    order = selectors.order_get_for_user(request.user, pk)
    return _shipment_form_page(request, order=order)


@login_required
@require_http_methods(["GET", "POST"])
def shipment_edit(request, pk: int):
    shipment = selectors.shipment_get_for_user(request.user, pk)
    return _shipment_form_page(request, order=shipment.order, shipment=shipment)


@login_required
@require_http_methods(["GET", "POST"])
def shipment_delete(request, pk: int):
    shipment = selectors.shipment_get_for_user(request.user, pk)
    back = reverse("orders:order_detail", args=[shipment.order_id])
    if request.method == "POST":
        services.shipment_delete(actor=request.user, shipment=shipment)
        messages.success(request, _("Shipment deleted."))
        return redirect(back)
    return render(request, "customers/confirm_delete.html", {
        "nav": "orders", "title": _("Delete shipment"), "cancel_url": back,
        "question": _("Delete the shipment %(shipment)s of %(number)s?") % {"shipment": shipment,
                                                                            "number": shipment.order.number},
    })  # fmt: skip


# --- payments and receivables -------------------------------------------------------------------


@login_required
@require_POST
def payment_create(request, pk: int):
    order = selectors.order_get_for_user(request.user, pk)
    open_receivables = list(
        order.receivables.filter(status__in=services.OPEN_RECEIVABLE).order_by("due_date", "id")
    )
    form = PaymentForm(request.POST, order=order, receivables=open_receivables)
    if form.is_valid():
        d = form.cleaned_data
        receivable = next((r for r in open_receivables if str(r.pk) == d.get("receivable")), None)
        try:
            payment = services.payment_record(
                actor=request.user, order=order, amount=d.get("amount"), currency=d.get("currency"),
                received_on=d.get("received_on"), receivable=receivable, reference=d.get("reference") or "",
                bank_charges=d.get("bank_charges") or 0, note=d.get("note") or "",
            )  # fmt: skip
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("Payment of %(amount)s %(currency)s recorded.") % {
                "amount": f"{payment.amount:,.2f}", "currency": payment.currency})  # fmt: skip
            return redirect(reverse("orders:order_detail", args=[order.pk]) + "#payments")
    ctx = _detail_context(request, order, payment_form=form)
    return render(request, "orders/order_detail.html", ctx, status=422)


@login_required
@require_http_methods(["GET", "POST"])
def payment_delete(request, pk: int):
    payment = selectors.payment_get_for_user(request.user, pk)
    if not services.can_delete_payment(request.user, payment):
        raise PermissionDenied(
            _("Only the person who recorded it, the order's owner or a manager may delete a payment.")
        )
    back = reverse("orders:order_detail", args=[payment.order_id])
    if request.method == "POST":
        services.payment_delete(actor=request.user, payment=payment)
        messages.success(request, _("Payment deleted; the receivables are open again."))
        return redirect(back)
    return render(request, "customers/confirm_delete.html", {
        "nav": "orders", "title": _("Delete payment"), "cancel_url": back,
        "question": _("Delete the payment of %(amount)s %(currency)s received on %(date)s for %(number)s?") % {
            "amount": f"{payment.amount:,.2f}", "currency": payment.currency, "date": payment.received_on,
            "number": payment.order.number},
    })  # fmt: skip


@login_required
@require_POST
def receivable_write_off(request, pk: int):
    receivable = selectors.receivable_get_for_user(request.user, pk)
    form = WriteOffForm(request.POST)
    form.is_valid()
    try:
        services.receivable_write_off(actor=request.user, receivable=receivable,
                                      note=form.cleaned_data.get("note") or "",
                                      version=form.cleaned_data.get("version"))  # fmt: skip
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except ConcurrentEditError as exc:
        messages.error(request, _concurrent_message(request.user, exc))
    else:
        messages.success(request, _("Receivable written off."))
    return redirect(_back(request, reverse("orders:order_detail", args=[receivable.order_id])))


@login_required
def overdue(request):
    user = request.user
    today = services.today_for(user)
    try:
        rows, nxt, prev = selectors.overdue_receivables(
            user, today=today, cursor=request.GET.get("cursor") or None
        )
    except BadCursor:
        return redirect(request.path)
    ctx = {"nav": "receivables", "rows": rows, "next_cursor": nxt, "prev_cursor": prev, "today": today,
           "totals": selectors.overdue_totals(user, today=today), "can_write_off": services.can_write_off(user)}  # fmt: skip
    return render(request, "orders/overdue.html", ctx)


@login_required
def fx_report(request):
    f = selectors.PaymentFilters(
        date_from=_date_param(request, "date_from"), date_to=_date_param(request, "date_to")
    )
    report = selectors.fx_difference_report(request.user, f)
    return render(request, "orders/fx_report.html", {"nav": "receivables", "report": report, "f": f})


# --- the customer's orders ----------------------------------------------------------------------


@login_required
def company_panel(request, company_pk: int):
    company = company_get_for_user(request.user, company_pk)
    panel = selectors.company_panel(company, today=services.today_for(request.user))
    return render(request, "orders/_panel_body.html", {"company": company, **panel})


@login_required
def purchase_history(request, company_pk: int):
    company = company_get_for_user(request.user, company_pk)
    since = _date_param(request, "since")
    rows = selectors.purchase_history(company, since=since)
    summary = selectors.purchase_summary(company, top=10)
    ctx = {"nav": "customers", "company": company, "rows": rows, "summary": summary, "since": since}
    return render(request, "orders/purchase_history.html", ctx)
