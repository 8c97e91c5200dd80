"""Reads of orders, shipments, receivables and payments, always scoped to the user, and the
customer's purchase history (read by the customer page, grading and reports).

Everything here is visible iff its customer (`company`) is visible to the user: loads by id go
through `*_get_for_user`, which raise Http404 for "missing" and "not yours" alike.

Amounts "in the base currency" use the order's frozen rate (1 order currency = `fx_rate` base),
so a report never changes when exchange rates are edited later; a payment's own value in the
base currency (`base_amount`) uses the rate of the day it arrived.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.http import Http404

from tradecrm.accounts.access import company_visibility_q
from tradecrm.catalog.models import Unit
from tradecrm.core import fx
from tradecrm.core.ids import parse_id
from tradecrm.core.paging import Sort, keyset_page
from tradecrm.documents.models import PaymentTerms, ProformaInvoice

from .models import (
    ORDER_FLOW,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    Payment,
    Receivable,
    ReceivableStatus,
    Shipment,
)

ZERO = Decimal("0")
CENT = Decimal("0.01")
OPEN_RECEIVABLE = (ReceivableStatus.OPEN, ReceivableStatus.PARTIAL)
STATS_CHUNK = 5000  # company ids per query (SQLite binds at most 32,766 parameters)


def _scoped(qs, user, prefix: str):
    q = company_visibility_q(user, prefix=prefix)
    return qs if q is None else qs.filter(q)


def base_of(amount: Decimal | None, rate: Decimal | None, currency: str) -> Decimal | None:
    """`amount` of a document in the base currency at its frozen `rate` (None if it has none and
    is not in the base currency)."""
    if amount is None:
        return None
    if rate is None:
        if currency != fx.base_currency():
            return None
        rate = Decimal(1)
    return (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)


# --- loads by id --------------------------------------------------------------------------------


def _get(qs, user, obj_id, prefix: str):
    obj_id = parse_id(obj_id)
    if obj_id is None:
        raise Http404
    obj = _scoped(qs, user, prefix).filter(pk=obj_id).first()
    if obj is None:
        raise Http404
    return obj


def orders_for_user(user):
    return _scoped(Order.objects.all(), user, "company__")


def order_get_for_user(user, order_id) -> Order:
    qs = Order.objects.select_related("company", "contact", "owner", "proforma", "updated_by")
    return _get(qs, user, order_id, "company__")


def shipment_get_for_user(user, shipment_id) -> Shipment:
    qs = Shipment.objects.select_related("order", "order__company", "updated_by")
    return _get(qs, user, shipment_id, "order__company__")


def receivable_get_for_user(user, receivable_id) -> Receivable:
    qs = Receivable.objects.select_related("order", "company")
    return _get(qs, user, receivable_id, "company__")


def payment_get_for_user(user, payment_id) -> Payment:
    qs = Payment.objects.select_related("order", "company", "receivable", "created_by")
    return _get(qs, user, payment_id, "company__")


def proforma_get_for_user(user, proforma_id) -> ProformaInvoice:
    """A proforma invoice whose customer the user sees (to make an order from it)."""
    return _get(ProformaInvoice.objects.select_related("company"), user, proforma_id, "company__")


# --- orders -------------------------------------------------------------------------------------

ORDER_SORTS = {
    "-document_date": Sort("document_date", True, "date"),
    "document_date": Sort("document_date", False, "date"),
    "-updated_at": Sort("updated_at", True, "datetime"),
}
ORDER_LIST_FIELDS = (
    "id", "number", "company_id", "company__name", "status", "document_date", "currency", "total_amount",
    "paid_amount", "fx_rate", "delivery_date", "customer_po", "owner_id", "owner__username", "owner__first_name",
    "owner__last_name", "proforma_id", "version", "created_at", "updated_at",
)  # fmt: skip


@dataclass
class OrderFilters:
    status: str = ""
    company: int | None = None
    owner: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    q: str = ""
    sort: str = "-document_date"


def order_list(user, f: OrderFilters, *, cursor: str | None = None, limit: int = 50):
    """(rows, next_cursor, prev_cursor): one keyset page of the orders the user sees, as dicts."""
    qs = orders_for_user(user)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.company is not None:
        qs = qs.filter(company_id=f.company)
    if f.owner is not None:
        qs = qs.filter(owner_id=f.owner)
    if f.date_from is not None:
        qs = qs.filter(document_date__gte=f.date_from)
    if f.date_to is not None:
        qs = qs.filter(document_date__lte=f.date_to)
    if f.q:
        term = f.q.strip()
        qs = qs.filter(
            Q(number__icontains=term) | Q(customer_po__icontains=term) | Q(company__name__icontains=term)
        )
    sort = ORDER_SORTS.get(f.sort, ORDER_SORTS["-document_date"])
    rows, nxt, prev = keyset_page(qs, sort, cursor, limit, ORDER_LIST_FIELDS)
    for r in rows:
        r["open_amount"] = r["total_amount"] - r["paid_amount"]
    return rows, nxt, prev


def next_statuses(order: Order) -> list[str]:
    """The statuses the order may move to: every later step of the flow (skipping is allowed)."""
    if order.status not in ORDER_FLOW:
        return []
    return list(ORDER_FLOW[ORDER_FLOW.index(order.status) + 1 :])


def can_cancel(order: Order) -> bool:
    return order.status not in (OrderStatus.COMPLETED, OrderStatus.CANCELLED)


@dataclass
class OrderDetail:
    order: Order
    lines: list
    changes: list
    shipments: list
    receivables: list
    payments: list
    open_balance: Decimal
    total_base: Decimal | None
    fx_difference: Decimal


def order_detail(order: Order) -> OrderDetail:
    """Everything the order page shows, in six queries."""
    lines = list(order.lines.order_by("position", "id"))
    changes = list(
        OrderStatusChange.objects.filter(order=order)
        .select_related("changed_by")
        .order_by("changed_at", "id")
    )
    shipments = list(Shipment.objects.filter(order=order).order_by("etd", "id"))
    receivables = list(Receivable.objects.filter(order=order).order_by("due_date", "id"))
    payments = list(
        Payment.objects.filter(order=order).select_related("created_by", "receivable").prefetch_related("allocations")
        .order_by("received_on", "id")
    )  # fmt: skip
    for r in receivables:
        r.open_amount = r.amount - r.paid_amount if r.status in OPEN_RECEIVABLE else ZERO
    return OrderDetail(
        order=order, lines=lines, changes=changes, shipments=shipments, receivables=receivables, payments=payments,
        open_balance=sum((r.open_amount for r in receivables), ZERO),
        total_base=base_of(order.total_amount, order.fx_rate, order.currency),
        fx_difference=sum((p.fx_difference for p in payments), ZERO),
    )  # fmt: skip


# --- shipments ----------------------------------------------------------------------------------

SHIPMENT_SORT = Sort("created_at", True, "datetime")
SHIPMENT_FIELDS = (
    "id", "order_id", "order__number", "status", "bl_number", "booking_number", "containers", "carrier",
    "forwarder", "vessel", "voyage", "port_of_loading", "port_of_discharge", "etd", "eta", "atd", "ata", "notes",
    "version", "created_at", "updated_at",
)  # fmt: skip


def shipment_list(user, *, order: int | None = None, cursor: str | None = None, limit: int = 50):
    qs = _scoped(Shipment.objects.all(), user, "order__company__")
    if order is not None:
        qs = qs.filter(order_id=order)
    return keyset_page(qs, SHIPMENT_SORT, cursor, limit, SHIPMENT_FIELDS)


# --- receivables --------------------------------------------------------------------------------

RECEIVABLE_SORT = Sort("due_date", False, "date")
RECEIVABLE_FIELDS = (
    "id", "order_id", "order__number", "order__fx_rate", "order__owner_id", "company_id", "company__name", "kind",
    "due_date", "amount", "currency", "paid_amount", "status", "note", "version",
)  # fmt: skip


@dataclass
class ReceivableFilters:
    order: int | None = None
    company: int | None = None
    status: str = ""
    overdue: bool = False


def receivable_list(
    user, f: ReceivableFilters, *, today: dt.date, cursor: str | None = None, limit: int = 50
):
    """Receivables the user sees by due date; with `overdue`, only those due before `today` and not
    settled. Each row carries `open_amount`, `open_base` (at the order's rate) and `days_overdue`."""
    qs = _scoped(Receivable.objects.all(), user, "company__")
    if f.order is not None:
        qs = qs.filter(order_id=f.order)
    if f.company is not None:
        qs = qs.filter(company_id=f.company)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.overdue:
        qs = qs.filter(status__in=OPEN_RECEIVABLE, due_date__lt=today)
    rows, nxt, prev = keyset_page(qs, RECEIVABLE_SORT, cursor, limit, RECEIVABLE_FIELDS)
    for r in rows:
        is_open = r["status"] in OPEN_RECEIVABLE
        r["open_amount"] = r["amount"] - r["paid_amount"] if is_open else ZERO
        r["open_base"] = base_of(r["open_amount"], r["order__fx_rate"], r["currency"])
        r["days_overdue"] = (today - r["due_date"]).days if is_open and r["due_date"] < today else 0
    return rows, nxt, prev


def overdue_receivables(user, *, today: dt.date, cursor: str | None = None, limit: int = 50):
    """Receivables due before `today` and not paid, oldest due first (see receivable_list)."""
    return receivable_list(user, ReceivableFilters(overdue=True), today=today, cursor=cursor, limit=limit)


def overdue_totals(user, *, today: dt.date) -> dict:
    """{"count", "by_currency": [(currency, open)], "base": open in the base currency} over every
    overdue receivable the user sees (exact Decimals, summed in Python)."""
    qs = _scoped(Receivable.objects.all(), user, "company__").filter(
        status__in=OPEN_RECEIVABLE, due_date__lt=today
    )
    by_currency: dict[str, Decimal] = defaultdict(lambda: ZERO)
    base = ZERO
    count = 0
    for amount, paid, currency, rate in qs.values_list(
        "amount", "paid_amount", "currency", "order__fx_rate"
    ).iterator(chunk_size=2000):
        count += 1
        by_currency[currency] += amount - paid
        base += base_of(amount - paid, rate, currency) or ZERO
    return {"count": count, "by_currency": sorted(by_currency.items()), "base": base,
            "base_currency": fx.base_currency()}  # fmt: skip


# --- payments -----------------------------------------------------------------------------------

PAYMENT_SORT = Sort("received_on", True, "date")
PAYMENT_FIELDS = (
    "id", "order_id", "order__number", "order__currency", "company_id", "company__name", "receivable_id",
    "received_on", "amount", "currency", "applied_amount", "fx_rate", "fx_date", "fx_source", "base_amount",
    "fx_difference", "bank_charges", "reference", "note", "created_by_id", "created_at",
)  # fmt: skip


@dataclass
class PaymentFilters:
    order: int | None = None
    company: int | None = None
    currency: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def _payments(user, f: PaymentFilters):
    qs = _scoped(Payment.objects.all(), user, "company__")
    if f.order is not None:
        qs = qs.filter(order_id=f.order)
    if f.company is not None:
        qs = qs.filter(company_id=f.company)
    if f.currency:
        qs = qs.filter(currency=f.currency)
    if f.date_from is not None:
        qs = qs.filter(received_on__gte=f.date_from)
    if f.date_to is not None:
        qs = qs.filter(received_on__lte=f.date_to)
    return qs


def payment_list(user, f: PaymentFilters, *, cursor: str | None = None, limit: int = 50):
    """Payments the user sees, newest first, with their FX difference."""
    return keyset_page(_payments(user, f), PAYMENT_SORT, cursor, limit, PAYMENT_FIELDS)


def fx_difference_report(user, f: PaymentFilters) -> dict:
    """Exchange gains and losses on payments received, per month and payment currency:
    {"rows": [{month, currency, count, amount, base_amount, fx_difference}], "months": [{month,
    count, base_amount, fx_difference}], "total": {…}, "base_currency"}. Months newest first."""
    rows: dict[tuple[str, str], dict] = {}
    for day, currency, amount, base_amount, diff in (
        _payments(user, f)
        .values_list("received_on", "currency", "amount", "base_amount", "fx_difference")
        .iterator(chunk_size=2000)
    ):
        month = day.strftime("%Y-%m")
        r = rows.setdefault((month, currency), {"month": month, "currency": currency, "count": 0, "amount": ZERO,
                                                "base_amount": ZERO, "fx_difference": ZERO})  # fmt: skip
        r["count"] += 1
        r["amount"] += amount
        r["base_amount"] += base_amount
        r["fx_difference"] += diff
    ordered = sorted(rows.values(), key=lambda r: r["currency"])
    ordered.sort(key=lambda r: r["month"], reverse=True)  # stable: currencies A→Z within a month
    months: dict[str, dict] = {}
    for r in sorted(rows.values(), key=lambda r: (r["month"], r["currency"])):
        m = months.setdefault(
            r["month"], {"month": r["month"], "count": 0, "base_amount": ZERO, "fx_difference": ZERO}
        )
        m["count"] += r["count"]
        m["base_amount"] += r["base_amount"]
        m["fx_difference"] += r["fx_difference"]
    month_rows = sorted(months.values(), key=lambda m: m["month"], reverse=True)
    total = {
        "count": sum(m["count"] for m in month_rows),
        "base_amount": sum((m["base_amount"] for m in month_rows), ZERO),
        "fx_difference": sum((m["fx_difference"] for m in month_rows), ZERO),
    }
    return {"rows": ordered, "months": month_rows, "total": total, "base_currency": fx.base_currency()}


# --- purchase history ---------------------------------------------------------------------------

HISTORY_FIELDS = (
    "id", "order_id", "order__number", "order__document_date", "order__currency", "order__fx_rate",
    "order__payment_terms", "product_id", "sku", "name", "name_zh", "quantity", "unit", "unit_price",
    "discount_percent", "amount",
)  # fmt: skip


def purchase_history(company, *, since: dt.date | None = None, limit: int | None = None) -> list[dict]:
    """Every line the customer bought (orders not cancelled), newest order first: product id, sku,
    name, quantity, unit, unit price, currency, amount, amount in the base currency (the order's
    frozen rate), payment terms, order date and number. The caller has checked that the user may
    see `company`."""
    qs = OrderLine.objects.filter(order__company_id=getattr(company, "pk", company)).exclude(
        order__status=OrderStatus.CANCELLED
    )
    if since is not None:
        qs = qs.filter(order__document_date__gte=since)
    qs = qs.order_by("-order__document_date", "-order_id", "position", "id").values(*HISTORY_FIELDS)
    if limit is not None:
        qs = qs[:limit]
    terms = dict(PaymentTerms.choices)
    units = dict(Unit.choices)
    out = []
    for r in qs:
        currency = r["order__currency"]
        out.append({
            "line_id": r["id"], "order_id": r["order_id"], "order_number": r["order__number"],
            "order_date": r["order__document_date"], "product_id": r["product_id"], "sku": r["sku"],
            "name": r["name"], "name_zh": r["name_zh"], "quantity": r["quantity"], "unit": r["unit"],
            "unit_label": str(units.get(r["unit"], r["unit"])), "unit_price": r["unit_price"], "discount_percent": r["discount_percent"], "currency": currency,
            "amount": r["amount"], "amount_base": base_of(r["amount"], r["order__fx_rate"], currency),
            "payment_terms": r["order__payment_terms"],
            "payment_terms_label": str(terms.get(r["order__payment_terms"], "")),
        })  # fmt: skip
    return out


def _stats_rows(company_ids: list[int]):
    for i in range(0, len(company_ids), STATS_CHUNK):
        chunk = company_ids[i : i + STATS_CHUNK]
        yield from (
            Order.objects.filter(company_id__in=chunk)
            .exclude(status=OrderStatus.CANCELLED)
            .values_list("company_id", "document_date", "total_amount", "fx_rate", "currency")
            .iterator(chunk_size=5000)
        )


def customer_order_stats(company_ids) -> dict[int, dict]:
    """Per customer with orders (not cancelled): {"order_count", "first_order_date",
    "last_order_date", "total_base" (base currency, the orders' frozen rates), "average_interval_days"
    (days between the first and the last order date ÷ (distinct order dates − 1); None with fewer
    than two dates)}. Customers without orders are absent. The reorder reminder
    (followups.reminders.produce_purchase_cycle) uses the same definition in SQL."""
    ids = sorted({int(i) for i in company_ids})
    acc: dict[int, dict] = {}
    for company_id, day, total, rate, currency in _stats_rows(ids):
        s = acc.get(company_id)
        if s is None:
            s = acc[company_id] = {"order_count": 0, "first_order_date": day, "last_order_date": day,
                                   "total_base": ZERO, "_days": set()}  # fmt: skip
        s["order_count"] += 1
        s["first_order_date"] = min(s["first_order_date"], day)
        s["last_order_date"] = max(s["last_order_date"], day)
        s["total_base"] += base_of(total, rate, currency) or ZERO
        s["_days"].add(day)
    for s in acc.values():
        dates = len(s.pop("_days"))
        span = (s["last_order_date"] - s["first_order_date"]).days
        s["average_interval_days"] = (
            (Decimal(span) / (dates - 1)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            if dates >= 2
            else None
        )
        # whole days, rounded half up: the reorder reminder's SQL (ROUND) gives the same date
        s["expected_next_order"] = (
            s["last_order_date"]
            + dt.timedelta(
                days=int((Decimal(span) / (dates - 1)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
            )
            if dates >= 2
            else None
        )
    return acc


def purchase_summary(company, *, top: int = 5) -> dict:
    """For the customer panel: the stats above, the last order, and the top products by amount in
    the base currency (with quantity per unit and how many orders had them)."""
    company_id = getattr(company, "pk", company)
    stats = customer_order_stats([company_id]).get(company_id)
    products: dict[tuple, dict] = {}
    for r in purchase_history(company_id):
        key = (r["product_id"], r["sku"] or r["name"])
        p = products.setdefault(key, {"product_id": r["product_id"], "sku": r["sku"], "name": r["name"],
                                      "quantity": ZERO, "unit": r["unit"], "unit_label": r["unit_label"], "amount_base": ZERO, "orders": set(),
                                      "last_date": r["order_date"], "last_price": r["unit_price"],
                                      "currency": r["currency"]})  # fmt: skip
        p["quantity"] += r["quantity"]
        p["amount_base"] += r["amount_base"] or ZERO
        p["orders"].add(r["order_id"])
    ranked = sorted(products.values(), key=lambda p: (-p["amount_base"], p["sku"] or p["name"]))[:top]
    for p in ranked:
        p["orders"] = len(p["orders"])
    last = (
        Order.objects.filter(company_id=company_id).exclude(status=OrderStatus.CANCELLED)
        .order_by("-document_date", "-id").only("id", "number", "document_date", "total_amount", "currency", "status")
        .first()
    )  # fmt: skip
    return {"stats": stats, "top_products": ranked, "last_order": last, "base_currency": fx.base_currency()}


def company_panel(company, *, today: dt.date, recent: int = 5) -> dict:
    """The customer page's orders card: recent orders, open receivables, purchase summary."""
    orders = list(
        Order.objects.filter(company_id=company.pk).order_by("-document_date", "-id")
        .only("id", "number", "document_date", "status", "currency", "total_amount", "paid_amount")[:recent]
    )  # fmt: skip
    receivables = list(
        Receivable.objects.filter(company_id=company.pk, status__in=OPEN_RECEIVABLE).select_related("order")
        .only("id", "kind", "due_date", "amount", "paid_amount", "currency", "status", "order__id", "order__number")
        .order_by("due_date", "id")[:20]
    )  # fmt: skip
    for r in receivables:
        r.open_amount = r.amount - r.paid_amount
        r.days_overdue = (today - r.due_date).days if r.due_date < today else 0
    return {"orders": orders, "receivables": receivables, "summary": purchase_summary(company)}
