"""JSON API of the orders app: routers mounted under /api/v1/ in config/api.py (`orders`,
`shipments`, `receivables`, `payments`).

Thin, like the other apps' APIs: reads go through the selectors (an order, shipment, receivable
or payment is found when its customer is visible to you; otherwise 404, as if missing), writes
through the services (which validate, answer 422 naming the field, and refuse stale versions with
409).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router

from tradecrm.accounts.access import can_see_costs
from tradecrm.core.api import (
    DELETE,
    LIST,
    PATCH,
    READ,
    WRITE,
    Id,
    check_delete_version,
    created_response,
    json_response,
    not_modified,
    object_response,
    page_response,
    person_name,
    required_version,
    user_ref,
)
from tradecrm.core.errors import ValidationError
from tradecrm.core.fx_validation import FieldProblem
from tradecrm.core.ids import parse_id
from tradecrm.customers.selectors import company_get_for_user

from . import selectors, services
from .models import Order, Payment, Receivable, Shipment
from .schemas import (
    FromProformaIn,
    FxQuery,
    FxReport,
    HistoryQuery,
    OrderCreate,
    OrderListQuery,
    OrderOut,
    OrderPage,
    OrderPatch,
    PaymentCreate,
    PaymentOut,
    PaymentPage,
    PaymentQuery,
    PurchaseHistoryOut,
    ReceivableOut,
    ReceivablePage,
    ReceivableQuery,
    ShipmentCreate,
    ShipmentOut,
    ShipmentPage,
    ShipmentPatch,
    ShipmentQuery,
    StatusIn,
    WriteOffIn,
)
from .validation import parse_date

orders = Router(tags=["orders"])
shipments = Router(tags=["shipments"])
receivables = Router(tags=["receivables"])
payments = Router(tags=["payments"])


def _s(value):
    return None if value is None else str(value)


def _date(field: str, value: str | None):
    if not value:
        return None
    try:
        return parse_date(value)
    except FieldProblem as exc:
        raise ValidationError({field: [str(exc)]}) from None


def _visible(request, field: str, loader, obj_id, message: str):
    """An object named in a request body: a 422 on that field when it is missing or not yours."""
    try:
        return loader(request.auth, obj_id)
    except Http404:
        raise ValidationError({field: [message % {"id": obj_id}]}) from None


def _no_order() -> str:
    return _("No order with id %(id)s.")


# --- orders -------------------------------------------------------------------------------------

ORDER_PLAIN = (
    "id", "number", "status", "document_date", "currency", "delivery_date", "customer_po", "proforma_id", "version",
    "created_at", "updated_at", "contact_id", "quotation_id", "opportunity_id", "base_currency", "fx_date",
    "fx_source", "incoterm", "incoterm_place", "port_of_loading", "port_of_destination", "payment_terms",
    "payment_days", "payment_terms_note", "lead_time_days", "shipping_marks", "packing_notes", "remarks",
    "total_cartons", "status_changed_at",
)  # fmt: skip
ORDER_MONEY = ("total_amount", "paid_amount", "fx_rate", "deposit_percent", "subtotal", "discount_total",
               "total_gross_weight_kg", "total_net_weight_kg", "total_cbm")  # fmt: skip


def _receivable_row(r: Receivable, order: Order, today) -> dict:
    is_open = r.status in services.OPEN_RECEIVABLE
    open_amount = r.amount - r.paid_amount if is_open else services.ZERO
    return {
        "id": r.id, "order_id": order.id, "order_number": order.number,
        "company": {"id": order.company_id, "name": order.company.name}, "kind": r.kind, "due_date": r.due_date,
        "amount": r.amount, "currency": r.currency, "paid_amount": r.paid_amount, "open_amount": open_amount,
        "open_base": _s(selectors.base_of(open_amount, order.fx_rate, r.currency)),
        "days_overdue": (today - r.due_date).days if is_open and r.due_date < today else 0, "status": r.status,
        "note": r.note, "version": r.version,
    }  # fmt: skip


def order_out(request, order: Order) -> dict:
    costs = can_see_costs(request.auth)
    detail = selectors.order_detail(order)
    today = services.today_for(request.auth)
    out = {k: getattr(order, k) for k in ORDER_PLAIN}
    out.update({k: _s(getattr(order, k)) for k in ORDER_MONEY})
    out["company"] = {"id": order.company_id, "name": order.company.name}
    out["owner"] = user_ref(order.owner)
    out["open_amount"] = str(detail.open_balance)
    out["total_cost_cny"] = _s(order.total_cost_cny) if costs else None
    out["lines"] = [
        {"id": ln.id, "position": ln.position, "product_id": ln.product_id, "sku": ln.sku, "name": ln.name,
         "name_zh": ln.name_zh, "hs_code": ln.hs_code, "unit": ln.unit, "quantity": ln.quantity,
         "unit_price": ln.unit_price, "discount_percent": ln.discount_percent, "amount": ln.amount,
         "cartons": ln.cartons, "gross_weight_kg": ln.gross_weight_kg, "cbm": ln.cbm,
         "unit_cost_cny": _s(ln.unit_cost_cny) if costs else None}
        for ln in detail.lines
    ]  # fmt: skip
    out["receivables"] = [_receivable_row(r, order, today) for r in detail.receivables]
    out["status_changes"] = [
        {"from_status": c.from_status, "to_status": c.to_status, "effective_on": c.effective_on,
         "changed_at": c.changed_at, "changed_by": user_ref(c.changed_by), "note": c.note}
        for c in detail.changes
    ]  # fmt: skip
    out["warnings"] = [str(w) for w in getattr(order, "warnings", [])]
    return out


def _order_row(r: dict) -> dict:
    return {
        "id": r["id"], "number": r["number"], "company": {"id": r["company_id"], "name": r["company__name"]},
        "status": r["status"], "document_date": r["document_date"], "currency": r["currency"],
        "total_amount": r["total_amount"], "paid_amount": r["paid_amount"], "open_amount": r["open_amount"],
        "delivery_date": r["delivery_date"], "customer_po": r["customer_po"],
        "owner": None if r["owner_id"] is None else {
            "id": r["owner_id"], "username": r["owner__username"],
            "name": person_name(r["owner__first_name"], r["owner__last_name"], r["owner__username"])},
        "proforma_id": r["proforma_id"], "version": r["version"], "created_at": r["created_at"],
        "updated_at": r["updated_at"],
    }  # fmt: skip


def _reload(request, order_id: int) -> Order:
    return selectors.order_get_for_user(request.auth, order_id)


@orders.get("", response={200: OrderPage, **LIST}, summary="List orders")
def list_orders(request: HttpRequest, query: Query[OrderListQuery]):
    """Orders of the customers you can see, newest order date first (keyset paged). Filters
    combine with AND; `owner=me` lists your own."""
    owner = None
    if query.owner:
        owner = request.auth.id if query.owner == "me" else parse_id(query.owner)
        if owner is None:
            raise ValidationError({"owner": [_("Enter “me” or a user id.")]})
    f = selectors.OrderFilters(
        status=query.status or "", company=query.company_id, owner=owner,
        date_from=_date("date_from", query.date_from), date_to=_date("date_to", query.date_to), q=query.q,
        sort=query.sort,
    )  # fmt: skip
    rows, nxt, prev = selectors.order_list(request.auth, f, cursor=query.cursor or None, limit=query.limit)
    return page_response([_order_row(r) for r in rows], nxt, prev)


@orders.post("", response={201: OrderOut, **WRITE}, summary="Create an order directly")
def create_order(request: HttpRequest, payload: OrderCreate):
    """An order without a proforma invoice: lines are validated (quantity > 0, unit price ≥ 0),
    the exchange rate of its date is frozen (a missing rate is refused), it is numbered from the
    order series and its deposit and balance receivables are planned."""
    order = services.order_create(actor=request.auth, data=payload.model_dump(exclude_unset=True))
    return created_response(order_out(request, _reload(request, order.pk)), "orders")


@orders.post(
    "/from-proforma", response={201: OrderOut, **WRITE}, summary="Make the order of a proforma invoice"
)
def order_from_proforma(request: HttpRequest, payload: FromProformaIn):
    """Copies the PI's customer, terms, currency and frozen exchange rate, lines and totals; plans
    the deposit and balance. One live order per PI (a second is refused naming the first)."""
    proforma = _visible(
        request,
        "proforma",
        selectors.proforma_get_for_user,
        payload.proforma,
        _("No proforma invoice with id %(id)s."),
    )
    order = services.order_from_proforma(
        actor=request.auth, proforma=proforma, document_date=_date("document_date", payload.document_date),
        delivery_date=payload.delivery_date, customer_po=payload.customer_po or "",
    )  # fmt: skip
    return created_response(order_out(request, _reload(request, order.pk)), "orders")


@orders.get(
    "/purchase-history", response={200: PurchaseHistoryOut, **LIST}, summary="A customer's purchase history"
)
def purchase_history(request: HttpRequest, query: Query[HistoryQuery]):
    """Every order line the customer bought (cancelled orders left out), newest first, with the
    amount in the base currency at the order's frozen rate, and the customer's order statistics."""
    company = company_get_for_user(request.auth, query.company_id)
    since = _date("since", query.since)
    items = selectors.purchase_history(company, since=since)
    stats = selectors.customer_order_stats([company.pk]).get(company.pk)
    return json_response({"company": {"id": company.pk, "name": company.name},
                          "base_currency": services.fx.base_currency(), "stats": stats,
                          "items": [{k: v for k, v in r.items() if k not in ("payment_terms_label", "unit_label")}
                                    for r in items]})  # fmt: skip


@orders.get("/{int:order_id}", response={200: OrderOut, 304: None, **READ}, summary="Get an order")
def get_order(request: HttpRequest, order_id: Id):
    order = selectors.order_get_for_user(request.auth, order_id)
    return not_modified(request, order.version) or object_response(order_out(request, order))


@orders.patch("/{int:order_id}", response={200: OrderOut, **PATCH}, summary="Change an order")
def patch_order(request: HttpRequest, order_id: Id, payload: OrderPatch):
    """Header fields any time (not the customer, currency or date); `lines` only while the order is
    confirmed. Send the `version` you last read (or If-Match)."""
    data = payload.model_dump(exclude_unset=True)
    version = required_version(request, data.pop("version", None))
    order = selectors.order_get_for_user(request.auth, order_id)
    order = services.order_update(actor=request.auth, order=order, version=version, data=data)
    return object_response(order_out(request, order))


@orders.post("/{int:order_id}/status", response={200: OrderOut, **PATCH}, summary="Change an order's status")
def set_status(request: HttpRequest, order_id: Id, payload: StatusIn):
    """Forwards along confirmed → production → ready → shipped → cleared → delivered → completed
    (steps may be skipped), never back; `cancelled` from any state but completed when no payment is
    recorded. `warnings` flags e.g. shipped without a B/L or container number."""
    order = selectors.order_get_for_user(request.auth, order_id)
    order = services.order_set_status(
        actor=request.auth, order=order, status=payload.status, effective_on=payload.effective_on,
        note=payload.note or "", version=payload.version,
    )  # fmt: skip
    warnings = order.warnings
    order = _reload(request, order.pk)
    order.warnings = warnings
    return object_response(order_out(request, order))


# --- shipments ----------------------------------------------------------------------------------

SHIPMENT_PLAIN = ("id", "order_id", "status", "bl_number", "booking_number", "containers", "carrier", "forwarder",
                  "vessel", "voyage", "port_of_loading", "port_of_discharge", "etd", "eta", "atd", "ata", "notes",
                  "version", "created_at", "updated_at")  # fmt: skip


def shipment_out(s: Shipment) -> dict:
    out = {k: getattr(s, k) for k in SHIPMENT_PLAIN}
    out["order_number"] = s.order.number
    return out


def _shipment_row(r: dict) -> dict:
    out = {k: r[k] for k in SHIPMENT_PLAIN}
    out["order_number"] = r["order__number"]
    return out


def _containers(data: dict) -> dict:
    if data.get("containers") is not None:
        data["containers"] = [{k: v for k, v in c.items() if v is not None} for c in data["containers"]]
    return data


@shipments.get("", response={200: ShipmentPage, **LIST}, summary="List shipments")
def list_shipments(request: HttpRequest, query: Query[ShipmentQuery]):
    """Shipments of the orders you can see, newest first; `order_id` for one order's."""
    rows, nxt, prev = selectors.shipment_list(request.auth, order=query.order_id, cursor=query.cursor or None,
                                              limit=query.limit)  # fmt: skip
    return page_response([_shipment_row(r) for r in rows], nxt, prev)


@shipments.post("", response={201: ShipmentOut, **WRITE}, summary="Add a shipment to an order")
def create_shipment(request: HttpRequest, payload: ShipmentCreate):
    """Container numbers are checked with their ISO 6346 check digit; the ETA may not be before the
    ETD. Ports default to the order's."""
    data = _containers(payload.model_dump(exclude_unset=True))
    order = _visible(request, "order", selectors.order_get_for_user, data.pop("order"), _no_order())
    shipment = services.shipment_create(actor=request.auth, order=order, data=data)
    return created_response(shipment_out(shipment), "shipments")


@shipments.get("/{int:shipment_id}", response={200: ShipmentOut, 304: None, **READ}, summary="Get a shipment")
def get_shipment(request: HttpRequest, shipment_id: Id):
    shipment = selectors.shipment_get_for_user(request.auth, shipment_id)
    return not_modified(request, shipment.version) or object_response(shipment_out(shipment))


@shipments.patch("/{int:shipment_id}", response={200: ShipmentOut, **PATCH}, summary="Change a shipment")
def patch_shipment(request: HttpRequest, shipment_id: Id, payload: ShipmentPatch):
    """Send only the fields to change (`containers` replaces the list), plus the `version`."""
    data = _containers(payload.model_dump(exclude_unset=True))
    version = required_version(request, data.pop("version", None))
    shipment = selectors.shipment_get_for_user(request.auth, shipment_id)
    shipment = services.shipment_update(actor=request.auth, shipment=shipment, version=version, data=data)
    return object_response(shipment_out(shipment))


@shipments.delete("/{int:shipment_id}", response={204: None, **DELETE}, summary="Delete a shipment")
def delete_shipment(request: HttpRequest, shipment_id: Id):
    shipment = selectors.shipment_get_for_user(request.auth, shipment_id)
    check_delete_version(request, shipment)
    services.shipment_delete(actor=request.auth, shipment=shipment)
    return HttpResponse(status=204)


# --- receivables --------------------------------------------------------------------------------


def _receivable_list_row(r: dict) -> dict:
    return {
        "id": r["id"], "order_id": r["order_id"], "order_number": r["order__number"],
        "company": {"id": r["company_id"], "name": r["company__name"]}, "kind": r["kind"],
        "due_date": r["due_date"], "amount": r["amount"], "currency": r["currency"],
        "paid_amount": r["paid_amount"], "open_amount": r["open_amount"], "open_base": _s(r["open_base"]),
        "days_overdue": r["days_overdue"], "status": r["status"], "note": r["note"], "version": r["version"],
    }  # fmt: skip


@receivables.get("", response={200: ReceivablePage, **LIST}, summary="List receivables")
def list_receivables(request: HttpRequest, query: Query[ReceivableQuery]):
    """Deposits and balances of the orders you can see, by due date. `overdue=true`: only those
    due before today and not settled, with days overdue and the open amount in the base currency."""
    f = selectors.ReceivableFilters(order=query.order_id, company=query.company_id, status=query.status or "",
                                    overdue=query.overdue)  # fmt: skip
    rows, nxt, prev = selectors.receivable_list(request.auth, f, today=services.today_for(request.auth),
                                                cursor=query.cursor or None, limit=query.limit)  # fmt: skip
    return page_response([_receivable_list_row(r) for r in rows], nxt, prev)


@receivables.get(
    "/{int:receivable_id}", response={200: ReceivableOut, 304: None, **READ}, summary="Get a receivable"
)
def get_receivable(request: HttpRequest, receivable_id: Id):
    r = selectors.receivable_get_for_user(request.auth, receivable_id)
    return not_modified(request, r.version) or object_response(
        _receivable_row(r, r.order, services.today_for(request.auth))
    )


@receivables.post("/{int:receivable_id}/write-off", response={200: ReceivableOut, **PATCH},
                  summary="Write off the rest of a receivable")  # fmt: skip
def write_off(request: HttpRequest, receivable_id: Id, payload: WriteOffIn):
    """Managers and administrators: the open rest leaves the open balance and the overdue list."""
    r = selectors.receivable_get_for_user(request.auth, receivable_id)
    r = services.receivable_write_off(actor=request.auth, receivable=r, note=payload.note or "",
                                      version=payload.version)  # fmt: skip
    r = selectors.receivable_get_for_user(request.auth, r.pk)
    return object_response(_receivable_row(r, r.order, services.today_for(request.auth)))


# --- payments -----------------------------------------------------------------------------------

PAYMENT_PLAIN = ("id", "order_id", "receivable_id", "received_on", "currency", "fx_date", "fx_source", "reference",
                 "note", "created_at")  # fmt: skip
PAYMENT_MONEY = ("amount", "bank_charges", "applied_amount", "fx_rate", "base_amount", "fx_difference")


def payment_out(p: Payment, *, allocations: bool = True) -> dict:
    out = {k: getattr(p, k) for k in PAYMENT_PLAIN}
    out.update({k: str(getattr(p, k)) for k in PAYMENT_MONEY})
    out["order_number"] = p.order.number
    out["company"] = {"id": p.company_id, "name": p.company.name}
    if allocations:
        out["allocations"] = [{"receivable_id": a.receivable_id, "amount": str(a.amount)}
                              for a in p.allocations.order_by("id")]  # fmt: skip
    return out


def _payment_row(r: dict) -> dict:
    out = {k: r[k] for k in PAYMENT_PLAIN}
    out.update({k: str(r[k]) for k in PAYMENT_MONEY})
    out["order_number"] = r["order__number"]
    out["company"] = {"id": r["company_id"], "name": r["company__name"]}
    return out


@payments.get("", response={200: PaymentPage, **LIST}, summary="List payments received")
def list_payments(request: HttpRequest, query: Query[PaymentQuery]):
    """Payments of the orders you can see, newest first, with their FX difference."""
    f = selectors.PaymentFilters(
        order=query.order_id, company=query.company_id, currency=query.currency.upper(),
        date_from=_date("date_from", query.date_from), date_to=_date("date_to", query.date_to),
    )  # fmt: skip
    rows, nxt, prev = selectors.payment_list(request.auth, f, cursor=query.cursor or None, limit=query.limit)
    return page_response([_payment_row(r) for r in rows], nxt, prev)


@payments.post("", response={201: PaymentOut, **WRITE}, summary="Record a payment")
def create_payment(request: HttpRequest, payload: PaymentCreate):
    """Converted into the order's currency at the rate of `received_on`; applied to `receivable`,
    then to the oldest open receivables. A payment larger than the order's open balance is refused
    (422 on `amount`) and nothing is saved."""
    data = payload.model_dump(exclude_unset=True)
    order = _visible(request, "order", selectors.order_get_for_user, data["order"], _no_order())
    receivable = None
    if data.get("receivable") is not None:
        receivable = Receivable.objects.filter(pk=data["receivable"], order=order).first()
        if receivable is None:
            raise ValidationError({"receivable": [_("Pick a receivable of this order.")]})
    payment = services.payment_record(
        actor=request.auth, order=order, amount=data["amount"], currency=data["currency"],
        received_on=data["received_on"], receivable=receivable, reference=data.get("reference") or "",
        bank_charges=data.get("bank_charges") or 0, note=data.get("note") or "",
    )  # fmt: skip
    payment = selectors.payment_get_for_user(request.auth, payment.pk)
    return json_response(
        payment_out(payment), status=201, headers={"Location": f"/api/v1/payments/{payment.pk}"}
    )


@payments.get(
    "/fx-differences", response={200: FxReport, **LIST}, summary="FX differences per month and currency"
)
def fx_differences(request: HttpRequest, query: Query[FxQuery]):
    f = selectors.PaymentFilters(date_from=_date("date_from", query.date_from),
                                 date_to=_date("date_to", query.date_to))  # fmt: skip
    return json_response(selectors.fx_difference_report(request.auth, f))


@payments.get("/{int:payment_id}", response={200: PaymentOut, **READ}, summary="Get a payment")
def get_payment(request: HttpRequest, payment_id: Id):
    return json_response(payment_out(selectors.payment_get_for_user(request.auth, payment_id)))


@payments.delete("/{int:payment_id}", response={204: None, **DELETE}, summary="Delete (reverse) a payment")
def delete_payment(request: HttpRequest, payment_id: Id):
    """Each receivable gets back what the payment settled. The person who recorded it, the order's
    owner or a manager."""
    payment = selectors.payment_get_for_user(request.auth, payment_id)
    services.payment_delete(actor=request.auth, payment=payment)
    return HttpResponse(status=204)
