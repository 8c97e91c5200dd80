"""Writes for orders (订单), shipments (出运), receivables and payments received (回款). One
function per change a user can name; the views, the API and the CLI all call these.

Money rules kept here:
- An order's receivables (deposit, balance) add up to its total, in the order's currency. A
  change of lines moves the difference onto the balance.
- A payment settles `amount + bank_charges` (the customer paid the gross; the banks took the
  charges on the way), converted into the order's currency at the rate of the day it arrived. It
  is applied to the receivable given, then to the oldest open ones by due date; a payment larger
  than the order's open balance is refused and nothing is saved.
- `fx_difference` = the payment's value in the base currency at the rate of the day it arrived −
  the same settled amount at the order's frozen rate (positive: an exchange gain).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.audit.services import audit_record
from tradecrm.core import fx
from tradecrm.core.errors import ConcurrentEditError, Errors
from tradecrm.core.fx_validation import FieldProblem
from tradecrm.core.money import currency_precision, quantize_money
from tradecrm.documents.lines import totals as line_totals
from tradecrm.documents.models import DocumentStatus, ProformaInvoice, SeriesKind
from tradecrm.documents.numbering import take_number
from tradecrm.sales.services import opportunity_advance

from .models import (
    ORDER_FLOW,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    Payment,
    PaymentAllocation,
    Receivable,
    ReceivableKind,
    ReceivableStatus,
    Shipment,
)
from .validation import (
    clean_lines,
    clean_order,
    clean_payment,
    clean_shipment,
    line_costs,
    money_text,
    parse_date,
)

ZERO = Decimal("0")
BALANCE_DAYS = 30  # balance due this long after the order when nothing better is known
ORDER_FROM_PROFORMA_STATUSES = (DocumentStatus.ISSUED, DocumentStatus.ACCEPTED)
OPEN_RECEIVABLE = (ReceivableStatus.OPEN, ReceivableStatus.PARTIAL)
# What a line copies from a proforma invoice line (everything but its id and document).
LINE_FIELDS = (
    "position", "product_id", "sku", "name", "name_zh", "specification", "hs_code", "unit", "quantity",
    "unit_price", "discount_percent", "amount", "units_per_carton", "cartons", "gross_weight_kg", "net_weight_kg",
    "cbm", "unit_cost_cny", "vat_rate", "tax_rebate_rate", "note",
)  # fmt: skip
# What an order copies from the proforma invoice header.
HEADER_FROM_PROFORMA = (
    "company_id", "contact_id", "opportunity_id", "seller_id", "bank_account_id", "language", "currency",
    "base_currency", "fx_rate", "fx_date", "fx_source", "incoterm", "incoterm_place", "port_of_loading",
    "port_of_destination", "payment_terms", "deposit_percent", "payment_days", "payment_terms_note",
    "lead_time_days", "shipping_marks", "packing_notes", "remarks", "subtotal", "discount_total", "total_amount",
    "total_cartons", "total_gross_weight_kg", "total_net_weight_kg", "total_cbm", "total_cost_cny",
    "total_rebate_cny",
)  # fmt: skip


# --- helpers ------------------------------------------------------------------------------------


def _by(actor):
    return actor if getattr(actor, "pk", None) else None


def today_for(actor) -> dt.date:
    """Today in the actor's time zone (the server's for the console)."""
    return fx.user_today(actor) if getattr(actor, "pk", None) else timezone.localdate()


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


def _changes(before: dict, after: dict) -> dict:
    return {k: [_jsonable(before.get(k)), _jsonable(v)] for k, v in after.items() if before.get(k) != v}


def status_label(status: str) -> str:
    return str(dict(OrderStatus.choices).get(status, status))


def freeze_fx(currency: str, on: dt.date) -> dict:
    """The exchange rate a new order keeps: 1 `currency` = fx_rate base currency on `on`. A
    missing rate is refused with core.fx's message (naming the pair and the date)."""
    base = fx.base_currency()
    try:
        quote = fx.rate_on(currency, base, on)
    except fx.MissingRate as exc:
        raise ValidationError({"currency": exc.messages}) from None
    return {
        "base_currency": base,
        "fx_rate": quote.rate,
        "fx_date": quote.date,
        "fx_source": quote.source[:120],
    }


def order_rate(order: Order) -> Decimal:
    """The order's frozen rate to the base currency (1 when it is in the base currency)."""
    if order.fx_rate is not None:
        return order.fx_rate
    if order.currency == fx.base_currency():
        return Decimal(1)
    return fx.rate_on(order.currency, fx.base_currency(), order.document_date).rate


def _totals_fields(lines: list[dict]) -> dict:
    t = line_totals(lines)
    cost, rebate = line_costs(lines)
    return {
        "subtotal": t.subtotal, "discount_total": t.discount_total, "total_amount": t.total_amount,
        "total_cartons": t.total_cartons, "total_gross_weight_kg": t.total_gross_weight_kg,
        "total_net_weight_kg": t.total_net_weight_kg, "total_cbm": t.total_cbm, "total_cost_cny": cost,
        "total_rebate_cny": rebate,
    }  # fmt: skip


def _save_lines(order: Order, lines: list[dict]) -> None:
    OrderLine.objects.bulk_create([OrderLine(order=order, **line) for line in lines])


def _record_status(
    order: Order, actor, from_status: str, to_status: str, on: dt.date, note: str = ""
) -> None:
    OrderStatusChange.objects.create(
        order=order, from_status=from_status, to_status=to_status, effective_on=on, changed_at=timezone.now(),
        changed_by=_by(actor), note=note,
    )  # fmt: skip


def _plan_receivables(order: Order, *, deposit: Decimal, deposit_due: dt.date, balance_due: dt.date) -> None:
    """Deposit and balance (the rest of the total), skipping zero amounts."""
    deposit = min(max(deposit, ZERO), order.total_amount)
    balance = order.total_amount - deposit
    rows = []
    if deposit > 0:
        rows.append(Receivable(order=order, company_id=order.company_id, kind=ReceivableKind.DEPOSIT,
                               due_date=deposit_due, amount=deposit, currency=order.currency))  # fmt: skip
    if balance > 0:
        rows.append(Receivable(order=order, company_id=order.company_id, kind=ReceivableKind.BALANCE,
                               due_date=balance_due, amount=balance, currency=order.currency))  # fmt: skip
    Receivable.objects.bulk_create(rows)


def _default_balance_due(order: Order) -> dt.date:
    return order.delivery_date or order.document_date + dt.timedelta(days=BALANCE_DAYS)


def _conflict(order: Order) -> ConcurrentEditError:
    current = Order.objects.select_related("updated_by").get(pk=order.pk)
    return ConcurrentEditError(
        by=str(current.updated_by) if current.updated_by else "?", at=current.updated_at,
        current_version=current.version,
    )  # fmt: skip


def _versioned_update(order: Order, version: int, fields: dict[str, Any], actor) -> None:
    """UPDATE … WHERE id = ? AND version = ?; ConcurrentEditError when someone saved first."""
    now = timezone.now()
    updated = Order.objects.filter(pk=order.pk, version=version).update(
        **fields, version=F("version") + 1, updated_at=now, updated_by=_by(actor)
    )
    if not updated:
        raise _conflict(order)
    for name, value in fields.items():
        setattr(order, name, value)
    order.version = version + 1
    order.updated_at = now
    order.updated_by = _by(actor)


def _touch(order: Order, actor, **fields) -> None:
    """Bump the order's version for a change made through its parts (payments, status)."""
    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(**fields, version=F("version") + 1, updated_at=now,
                                             updated_by=_by(actor))  # fmt: skip
    order.refresh_from_db(fields=["version", "updated_at", "updated_by", *fields])


def _check_not_cancelled(order: Order, field: str = "status") -> None:
    if order.status == OrderStatus.CANCELLED:
        raise ValidationError(
            {field: [_("%(number)s is cancelled and cannot change.") % {"number": order.number}]}
        )


# --- orders -------------------------------------------------------------------------------------


@transaction.atomic
def order_from_proforma(
    *, actor, proforma: ProformaInvoice, document_date: dt.date | None = None, delivery_date=None,
    customer_po: str = "",
) -> Order:  # fmt: skip
    """The order (sales contract) for an issued proforma invoice: its customer, contact, terms,
    currency with the PI's frozen exchange rate, lines and totals, numbered from the order series;
    status confirmed; a deposit receivable (the PI's deposit, due on its deposit date or the order
    date) and a balance receivable (the rest, due on the PI's balance date, else the planned
    shipment date, else 30 days after the order). One live order per PI."""
    proforma = ProformaInvoice.objects.select_for_update().get(pk=proforma.pk)
    if proforma.status not in ORDER_FROM_PROFORMA_STATUSES:
        raise ValidationError(
            {"proforma": [_("Only an issued proforma invoice can become an order (%(number)s is %(status)s).")
                          % {"number": proforma.number or _("a draft"), "status": proforma.get_status_display()}]}
        )  # fmt: skip
    existing = Order.objects.filter(proforma=proforma).exclude(status=OrderStatus.CANCELLED).first()
    if existing is not None:
        raise ValidationError(
            {
                "proforma": [
                    _("%(pi)s already has an order: %(order)s.")
                    % {"pi": proforma.number, "order": existing.number}
                ]
            }
        )
    header = clean_order({"customer_po": customer_po, "delivery_date": delivery_date}, actor=actor,
                         company=proforma.company, partial=True)  # fmt: skip
    on = document_date or today_for(actor)
    if isinstance(on, str):
        on = parse_date(on)
    order = Order(**{f: getattr(proforma, f) for f in HEADER_FROM_PROFORMA})
    order.proforma = proforma
    order.quotation_id = proforma.quotation_id
    order.document_date = on
    order.customer_po = header.get("customer_po", "")
    order.delivery_date = header.get("delivery_date") or (
        on + dt.timedelta(days=proforma.lead_time_days) if proforma.lead_time_days else None
    )
    if order.fx_rate is None:  # an issued PI always has one; older data may not
        for k, v in freeze_fx(order.currency, on).items():
            setattr(order, k, v)
    order.owner = proforma.owner or _by(actor)
    order.status = OrderStatus.CONFIRMED
    order.status_changed_at = order.issued_at = timezone.now()
    order.issued_by = order.created_by = order.updated_by = _by(actor)
    order.number = order.base_number = take_number(SeriesKind.ORDER, on)
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError:  # order_one_per_proforma: someone made it a moment ago
        existing = Order.objects.filter(proforma=proforma).exclude(status=OrderStatus.CANCELLED).first()
        raise ValidationError(
            {"proforma": [_("%(pi)s already has an order: %(order)s.")
                          % {"pi": proforma.number, "order": existing.number if existing else "?"}]}
        ) from None  # fmt: skip
    lines = list(proforma.lines.order_by("position", "id").values(*LINE_FIELDS))
    _save_lines(order, lines)
    _plan_receivables(
        order,
        deposit=proforma.deposit_amount or ZERO,
        deposit_due=proforma.deposit_due_date or on,
        balance_due=proforma.balance_due_date or _default_balance_due(order),
    )
    _record_status(order, actor, "", OrderStatus.CONFIRMED, on)
    audit_record(
        actor=actor, action="order.create", obj=order,
        changes={"number": order.number, "proforma": proforma.pk, "company": order.company_id,
                 "total": str(order.total_amount), "currency": order.currency},
    )  # fmt: skip
    if proforma.status == DocumentStatus.ISSUED:
        # the buyer confirmed the PI by ordering; its content (snapshot) stays as issued
        ProformaInvoice.objects.filter(pk=proforma.pk).update(
            status=DocumentStatus.ACCEPTED, updated_at=timezone.now()
        )
        audit_record(actor=actor, action="proforma.accept", obj=proforma, changes={"order": order.number})
    opportunity_advance(actor=actor, opportunity_id=order.opportunity_id, keys=("won",))
    order.warnings = []
    return order


@transaction.atomic
def order_create(*, actor, data: dict, company=None) -> Order:
    """An order entered directly (no proforma invoice): header, lines (validated, figures from
    documents.lines), the exchange rate of its date frozen, a number from the order series, and
    receivables from `deposit_percent` (deposit due on the order date, balance on the planned
    shipment date or 30 days later)."""
    errors = Errors()
    header = lines = None
    try:
        header = clean_order(data, actor=actor, company=company)
    except ValidationError as exc:
        errors.by_field.update(exc.message_dict)
    currency = (header or {}).get("currency") or str(data.get("currency") or "USD").upper()
    try:
        lines = clean_lines(data.get("lines"), currency=currency)
    except ValidationError as exc:
        errors.by_field.update(exc.message_dict)
    errors.raise_if_any()
    on = header.pop("document_date", None) or today_for(actor)
    rate = freeze_fx(header["currency"], on)
    owner = header.pop("owner", None) or _by(actor)
    order = Order(**header, **rate, **_totals_fields(lines), document_date=on, owner=owner,
                  status=OrderStatus.CONFIRMED)  # fmt: skip
    order.status_changed_at = order.issued_at = timezone.now()
    order.issued_by = order.created_by = order.updated_by = _by(actor)
    order.number = order.base_number = take_number(SeriesKind.ORDER, on)
    order.save()
    _save_lines(order, lines)
    pct = order.deposit_percent or ZERO
    deposit = quantize_money(order.total_amount * pct / 100, order.currency) if pct else ZERO
    _plan_receivables(order, deposit=deposit, deposit_due=on, balance_due=_default_balance_due(order))
    _record_status(order, actor, "", OrderStatus.CONFIRMED, on)
    audit_record(
        actor=actor, action="order.create", obj=order,
        changes={"number": order.number, "company": order.company_id, "total": str(order.total_amount),
                 "currency": order.currency, "lines": len(lines)},
    )  # fmt: skip
    order.warnings = []
    return order


def _rebalance(order: Order, old_total: Decimal, new_total: Decimal) -> None:
    """After a change of lines the receivables must still add up to the total: an unpaid deposit
    keeps its share (the order's deposit % or its old proportion), the balance takes the rest.
    Refused when what is already received (or a deposit partly paid) exceeds the new total."""
    receivables = list(Receivable.objects.select_for_update().filter(order=order).order_by("due_date", "id"))
    deposit = next((r for r in receivables if r.kind == ReceivableKind.DEPOSIT), None)
    if deposit is not None and deposit.paid_amount == 0 and deposit.status == ReceivableStatus.OPEN:
        share = (
            (order.deposit_percent / 100)
            if order.deposit_percent
            else (deposit.amount / old_total if old_total else 0)
        )
        new_deposit = quantize_money(new_total * share, order.currency)
        if new_deposit <= 0:
            deposit.delete()
            receivables.remove(deposit)
        elif new_deposit != deposit.amount:
            Receivable.objects.filter(pk=deposit.pk).update(amount=new_deposit, version=F("version") + 1)
            deposit.amount = new_deposit
    balance = next((r for r in receivables if r.kind == ReceivableKind.BALANCE), None)
    others = sum((r.amount for r in receivables if r is not balance), ZERO)
    wanted = new_total - others
    floor = balance.paid_amount if balance is not None else ZERO
    if wanted < floor:
        raise ValidationError(
            {"lines": [_("The new total (%(total)s) is less than the deposit and the payments already booked "
                         "(%(booked)s).") % {"total": money_text(new_total, order.currency),
                                             "booked": money_text(others + floor, order.currency)}]}
        )  # fmt: skip
    if balance is None:
        if wanted > 0:
            Receivable.objects.create(order=order, company_id=order.company_id, kind=ReceivableKind.BALANCE,
                                      due_date=_default_balance_due(order), amount=wanted, currency=order.currency)  # fmt: skip
        return
    if wanted == 0 and balance.paid_amount == 0 and not balance.allocations.exists():
        balance.delete()
        return
    status = _receivable_status(wanted, balance.paid_amount, balance.status)
    Receivable.objects.filter(pk=balance.pk).update(amount=wanted, status=status, version=F("version") + 1)


@transaction.atomic
def order_update(*, actor, order: Order, version: int, data: dict) -> Order:
    """Change header fields (customer PO, planned shipment date, terms, notes, contact, owner…);
    the lines only while the order is confirmed (before production starts)."""
    _check_not_cancelled(order)
    errors = Errors()
    clean: dict = {}
    lines = None
    header_data = {k: v for k, v in data.items() if k != "lines"}
    try:
        clean = clean_order(header_data, actor=actor, company=order.company, partial=True)
    except ValidationError as exc:
        errors.by_field.update(exc.message_dict)
    if "lines" in data:
        if order.status != OrderStatus.CONFIRMED:
            errors.add(
                "lines",
                _("The lines cannot change once production has started (%(number)s is %(status)s).")
                % {"number": order.number, "status": status_label(order.status)},
            )
        else:
            try:
                lines = clean_lines(data["lines"], currency=order.currency)
            except ValidationError as exc:
                errors.by_field.update(exc.message_dict)
    errors.raise_if_any()
    before = {k: getattr(order, k) for k in clean}
    fields = {k: v for k, v in clean.items() if before.get(k) != v}
    if "owner" in fields and fields["owner"] is None:
        fields.pop("owner")
    if lines is not None:
        fields.update(_totals_fields(lines))
    if not fields and lines is None:
        if order.version != version:
            raise _conflict(order)
        order.warnings = []
        return order
    old_total = order.total_amount
    if lines is not None and fields["total_amount"] != old_total:
        _rebalance(order, old_total, fields["total_amount"])  # may refuse: before anything else is written
    _versioned_update(order, version, fields, actor)
    if lines is not None:
        OrderLine.objects.filter(order=order).delete()
        _save_lines(order, lines)
    changes = _changes(before, clean)
    if lines is not None:
        changes["lines"] = len(lines)
        changes["total_amount"] = [str(old_total), str(order.total_amount)]
    audit_record(actor=actor, action="order.update", obj=order, changes=changes)
    order.warnings = []
    return order


def shipment_warning(order: Order) -> list[str]:
    has_papers = any(
        s.bl_number or s.containers
        for s in Shipment.objects.filter(order=order).only("bl_number", "containers")
    )
    if has_papers:
        return []
    return [_("No shipment with a B/L or container number is recorded for %(number)s yet; add it under "
              "Shipments.") % {"number": order.number}]  # fmt: skip


@transaction.atomic
def order_set_status(
    *, actor, order: Order, status: str, effective_on=None, note: str = "", version: int | None = None
) -> Order:
    """Move the order along ORDER_FLOW (confirmed → in production → ready → shipped → customs
    cleared → delivered → completed): forwards only, steps may be skipped; or cancel it from any
    state but completed, provided no payment is recorded. Each change is kept with its date and who
    made it. Reaching "shipped" without a shipment that has a B/L or container number is allowed
    but warned about (`warnings` on the result): the papers often come days after the ship sails."""
    order = Order.objects.select_for_update().select_related("company").get(pk=order.pk)
    if version is not None and version != order.version:
        raise _conflict(order)
    errors = Errors()
    current = order.status
    if status not in OrderStatus.values:
        errors.add("status", _("“%(value)s” is not one of the available choices.") % {"value": status})
        errors.raise_if_any()
    if current == OrderStatus.CANCELLED:
        errors.add(
            "status",
            _("%(number)s is cancelled; its status cannot change any more.") % {"number": order.number},
        )
    elif status == current:
        errors.add("status", _("%(number)s is %(status)s already.") % {"number": order.number,
                                                                      "status": status_label(status)})  # fmt: skip
    elif status == OrderStatus.CANCELLED:
        if current == OrderStatus.COMPLETED:
            errors.add("status", _("A completed order cannot be cancelled."))
        else:
            paid = Payment.objects.filter(order=order).exists()
            if paid:
                errors.add(
                    "status",
                    _("%(number)s has payments recorded (%(amount)s); delete them before cancelling it.")
                    % {"number": order.number, "amount": money_text(order.paid_amount, order.currency)},
                )
    elif ORDER_FLOW.index(status) < ORDER_FLOW.index(current):
        errors.add(
            "status",
            _("An order cannot go back from %(current)s to %(target)s: the status only moves forward. "
              "If the order will not go ahead, cancel it.")
            % {"current": status_label(current), "target": status_label(status)},
        )  # fmt: skip
    today = today_for(actor)
    on = today
    if effective_on not in (None, ""):
        try:
            on = parse_date(effective_on)
        except FieldProblem as exc:
            errors.add("effective_on", str(exc))
    if "effective_on" not in errors.by_field:
        last = order.status_changes.order_by("-effective_on", "-id").first()
        floor = max(order.document_date, last.effective_on if last else order.document_date)
        if on > today:
            errors.add("effective_on", _("The date (%(date)s) is in the future.") % {"date": on})
        elif on < floor:
            errors.add(
                "effective_on", _("The date cannot be before the previous step (%(date)s).") % {"date": floor}
            )
    note = (note or "").strip()
    if len(note) > 255 or "\x00" in note:
        errors.add(
            "note",
            _("At most %(limit)d characters (this has %(length)d).") % {"limit": 255, "length": len(note)},
        )
    errors.raise_if_any()
    warnings = []
    shipped_at = ORDER_FLOW.index(OrderStatus.SHIPPED)
    if status != OrderStatus.CANCELLED and ORDER_FLOW.index(current) < shipped_at <= ORDER_FLOW.index(status):
        warnings = shipment_warning(order)
    if status == OrderStatus.CANCELLED:
        # nothing was paid (checked above): what the customer owed on this order is void
        Receivable.objects.filter(order=order).delete()
    _touch(order, actor, status=status, status_changed_at=timezone.now())
    _record_status(order, actor, current, status, on, note)
    audit_record(actor=actor, action="order.status", obj=order,
                 changes={"status": [current, status], "effective_on": on.isoformat(), "note": note})  # fmt: skip
    # automation: "order status changed" rules (queued after the commit)
    from tradecrm.automation import events

    events.emit(events.ORDER_STATUS_CHANGED, obj_type=events.OBJ_ORDER, obj_id=order.pk, actor=actor,
                changes={"status": [current, status]})  # fmt: skip
    order.warnings = warnings
    return order


# --- shipments ----------------------------------------------------------------------------------


@transaction.atomic
def shipment_create(*, actor, order: Order, data: dict) -> Shipment:
    """A shipment (lot) of the order; ports default to the order's."""
    _check_not_cancelled(order)
    clean = clean_shipment(data)
    clean.setdefault("port_of_loading", order.port_of_loading)
    clean.setdefault("port_of_discharge", order.port_of_destination)
    shipment = Shipment.objects.create(order=order, created_by=_by(actor), updated_by=_by(actor), **clean)
    audit_record(actor=actor, action="shipment.create", obj=shipment,
                 changes={"order": order.pk, **{k: _jsonable(v) for k, v in clean.items()}})  # fmt: skip
    return shipment


@transaction.atomic
def shipment_update(*, actor, shipment: Shipment, version: int, data: dict) -> Shipment:
    clean = clean_shipment(data, current=shipment)
    before = {k: getattr(shipment, k) for k in clean}
    fields = {k: v for k, v in clean.items() if before.get(k) != v}
    now = timezone.now()
    if fields or shipment.version != version:
        updated = Shipment.objects.filter(pk=shipment.pk, version=version).update(
            **fields, version=F("version") + 1, updated_at=now, updated_by=_by(actor)
        )
        if not updated:
            current = Shipment.objects.select_related("updated_by").get(pk=shipment.pk)
            raise ConcurrentEditError(by=str(current.updated_by or "?"), at=current.updated_at,
                                      current_version=current.version)  # fmt: skip
        for k, v in fields.items():
            setattr(shipment, k, v)
        shipment.version = version + 1
        shipment.updated_at = now
        shipment.updated_by = _by(actor)
        audit_record(actor=actor, action="shipment.update", obj=shipment, changes=_changes(before, fields))
    return shipment


@transaction.atomic
def shipment_delete(*, actor, shipment: Shipment) -> None:
    audit_record(actor=actor, action="shipment.delete", obj=shipment,
                 changes={"order": shipment.order_id, "bl_number": shipment.bl_number,
                          "containers": shipment.containers})  # fmt: skip
    shipment.delete()


# --- receivables and payments -------------------------------------------------------------------


def _receivable_status(amount: Decimal, paid: Decimal, current: str) -> str:
    if current == ReceivableStatus.WRITTEN_OFF:
        return current
    if paid <= 0:
        return ReceivableStatus.OPEN
    return ReceivableStatus.PAID if paid >= amount else ReceivableStatus.PARTIAL


def open_balance(order: Order) -> Decimal:
    """What the customer still owes on the order (open and partly paid receivables)."""
    rows = Receivable.objects.filter(order=order, status__in=OPEN_RECEIVABLE).values_list(
        "amount", "paid_amount"
    )
    return sum((a - p for a, p in rows), ZERO)


def _q_base(amount: Decimal, base: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-min(currency_precision(base), 2)), rounding=ROUND_HALF_UP)


@transaction.atomic
def payment_record(
    *, actor, order: Order, amount, currency: str, received_on, receivable: Receivable | None = None,
    reference: str = "", bank_charges=0, note: str = "",
) -> Payment:  # fmt: skip
    """Money received for an order (see the module's docstring for how it is applied and valued)."""
    clean = clean_payment(
        {"amount": amount, "currency": currency, "received_on": received_on, "bank_charges": bank_charges,
         "reference": reference, "note": note},
        today=today_for(actor),
    )  # fmt: skip
    order = Order.objects.select_for_update().get(pk=order.pk)
    _check_not_cancelled(order, "order")
    if receivable is not None:
        if receivable.order_id != order.pk:
            raise ValidationError({"receivable": [_("This receivable belongs to another order.")]})
        receivable = Receivable.objects.get(pk=receivable.pk)
        if receivable.status not in OPEN_RECEIVABLE:
            raise ValidationError(
                {"receivable": [_("The %(kind)s of %(number)s is %(status)s; choose an open one.")
                                % {"kind": receivable.get_kind_display().lower(), "number": order.number,
                                   "status": receivable.get_status_display().lower()}]}
            )  # fmt: skip
    gross = clean["amount"] + clean["bank_charges"]
    pay_currency, on = clean["currency"], clean["received_on"]
    try:
        applied = fx.convert(gross, pay_currency, order.currency, on)
        base = fx.base_currency()
        quote = fx.rate_on(pay_currency, base, on)
        booked_rate = order_rate(order)
    except fx.MissingRate as exc:
        raise ValidationError({"currency": exc.messages}) from None
    receivables = list(
        Receivable.objects.select_for_update()
        .filter(order=order, status__in=OPEN_RECEIVABLE)
        .order_by("due_date", "id")
    )
    balance = sum((r.amount - r.paid_amount for r in receivables), ZERO)
    if applied <= 0:
        raise ValidationError({"amount": [_("The amount is zero once converted into %(currency)s.")
                                          % {"currency": order.currency}]})  # fmt: skip
    if applied > balance:
        paid_text = money_text(gross, pay_currency)
        if pay_currency != order.currency:
            paid_text += f" ({money_text(applied, order.currency)})"
        raise ValidationError(
            {"amount": [_("The payment of %(payment)s is larger than the open balance of %(balance)s on %(number)s.")
                        % {"payment": paid_text, "balance": money_text(balance, order.currency),
                           "number": order.number}]}
        )  # fmt: skip
    base_amount = _q_base(gross * quote.rate, base)
    booked = _q_base(applied * booked_rate, base)
    if receivable is not None:
        receivables.sort(key=lambda r: (r.pk != receivable.pk, r.due_date, r.pk))
    payment = Payment.objects.create(
        order=order, company_id=order.company_id, receivable=receivable, received_on=on, amount=clean["amount"],
        currency=pay_currency, applied_amount=applied, fx_rate=quote.rate, fx_date=quote.date,
        fx_source=quote.source[:120], base_amount=base_amount, fx_difference=base_amount - booked,
        bank_charges=clean["bank_charges"], reference=clean.get("reference", ""), note=clean.get("note", ""),
        created_by=_by(actor),
    )  # fmt: skip
    left = applied
    allocations = []
    for r in receivables:
        if left <= 0:
            break
        take = min(left, r.amount - r.paid_amount)
        if take <= 0:
            continue
        left -= take
        paid = r.paid_amount + take
        Receivable.objects.filter(pk=r.pk).update(
            paid_amount=paid, status=_receivable_status(r.amount, paid, r.status), version=F("version") + 1
        )
        allocations.append(PaymentAllocation(payment=payment, receivable=r, amount=take))
    PaymentAllocation.objects.bulk_create(allocations)
    if receivable is None and len(allocations) == 1:
        Payment.objects.filter(pk=payment.pk).update(receivable=allocations[0].receivable)
        payment.receivable = allocations[0].receivable
    _touch(order, actor, paid_amount=F("paid_amount") + applied)
    audit_record(
        actor=actor, action="payment.create", obj=payment,
        changes={"order": order.pk, "amount": str(payment.amount), "currency": pay_currency,
                 "applied": str(applied), "received_on": on.isoformat(), "fx_difference": str(payment.fx_difference),
                 "receivables": {a.receivable_id: str(a.amount) for a in allocations}},
    )  # fmt: skip
    payment.order = order
    return payment


def can_delete_payment(user, payment: Payment) -> bool:
    return bool(
        user.is_admin or user.is_manager or user.pk in (payment.created_by_id, payment.order.owner_id)
    )


@transaction.atomic
def payment_delete(*, actor, payment: Payment) -> None:
    """Reverse a payment recorded by mistake: each receivable gets back what it took and the order's
    received amount goes down by the settled amount."""
    if actor is not None and not can_delete_payment(actor, payment):
        raise PermissionDenied(
            _("Only the person who recorded it, the order's owner or a manager may delete a payment.")
        )
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    for a in payment.allocations.select_related("receivable"):
        r = Receivable.objects.select_for_update().get(pk=a.receivable_id)
        paid = max(r.paid_amount - a.amount, ZERO)
        Receivable.objects.filter(pk=r.pk).update(
            paid_amount=paid, status=_receivable_status(r.amount, paid, r.status), version=F("version") + 1
        )
    audit_record(
        actor=actor, action="payment.delete", obj=payment,
        changes={"order": order.pk, "amount": str(payment.amount), "currency": payment.currency,
                 "applied": str(payment.applied_amount), "received_on": payment.received_on.isoformat()},
    )  # fmt: skip
    applied = payment.applied_amount
    payment.delete()
    _touch(order, actor, paid_amount=F("paid_amount") - applied)


def can_write_off(user) -> bool:
    return bool(user is None or user.is_admin or user.is_manager)


@transaction.atomic
def receivable_write_off(
    *, actor, receivable: Receivable, note: str = "", version: int | None = None
) -> Receivable:
    """A manager gives up the rest of a receivable (a short payment, a settled claim): it leaves the
    open balance and the overdue list; what was received stays received."""
    if not can_write_off(actor):
        raise PermissionDenied(_("Only a manager or an administrator may write off a receivable."))
    receivable = Receivable.objects.select_for_update().get(pk=receivable.pk)
    if version is not None and version != receivable.version:
        raise ConcurrentEditError(by="?", at=timezone.now(), current_version=receivable.version)
    if receivable.status not in OPEN_RECEIVABLE:
        raise ValidationError({"status": [_("Only an open receivable can be written off (this one is %(status)s).")
                                          % {"status": receivable.get_status_display().lower()}]})  # fmt: skip
    note = (note or "").strip()[:255]
    Receivable.objects.filter(pk=receivable.pk).update(
        status=ReceivableStatus.WRITTEN_OFF, note=note or receivable.note, version=F("version") + 1
    )
    receivable.refresh_from_db()
    audit_record(
        actor=actor, action="receivable.write_off", obj=receivable,
        changes={"order": receivable.order_id, "amount": str(receivable.amount),
                 "written_off": str(receivable.amount - receivable.paid_amount), "note": note},
    )  # fmt: skip
    return receivable
