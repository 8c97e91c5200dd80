"""The JSON shapes of the orders, shipments, receivables and payments API.

Input schemas check JSON types only and refuse unknown fields; what a value means (a currency code,
a quantity above zero, a container number's check digit, a payment within the open balance) is
checked by the services, so the API and the web forms give the same translated messages.
Amounts, quantities and rates are Decimals written as strings ("4500.00"); inputs take a string
(keeps every digit) or a number.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from tradecrm.core.api import Id, Text, Version, text
from tradecrm.customers.schemas import CompanyRef, PageQuery, UserRef

from .models import OrderStatus, ReceivableStatus, ShipmentStatus
from .selectors import ORDER_SORTS

DateText = text(fmt="date", description="YYYY-MM-DD.")
CurrencyText = text(description="ISO 4217 code, e.g. USD.")
Number = str | int | float


class Input(Schema):
    model_config = ConfigDict(extra="forbid")


# --- orders -------------------------------------------------------------------------------------


class LineIn(Input):
    product: Id | None = Field(
        None, description="A catalogue product: its names, HS code, unit, packing and cost are copied."
    )
    sku: Text | None = Field(
        None, description="Or a SKU: a catalogue SKU picks that product; another is kept as the line's code."
    )
    name: Text | None = Field(None, description="Required without a product.")
    name_zh: Text | None = None
    specification: Text | None = None
    hs_code: Text | None = None
    unit: Text | None = Field(None, description="pcs, set, carton, kg… (the product's by default).")
    quantity: Number = Field(description="> 0, at most 3 decimals.")
    unit_price: Number = Field(description=">= 0, at most 4 decimals.")
    discount_percent: Number | None = Field(None, description="0–100.")
    units_per_carton: int | None = Field(None, description="Packing of a free line (cartons are worked out).")
    note: Text | None = None


class OrderFields(Input):
    contact: Id | None = Field(None, description="A contact of the customer.")
    owner: Id | None = Field(None, description="User id; you by default. Must be able to see the customer.")
    customer_po: Text | None = None
    delivery_date: DateText | None = Field(None, description="Planned shipment date.")  # type: ignore[valid-type]
    incoterm: Text | None = Field(
        None, description="Incoterms 2020: EXW, FCA, FAS, FOB, CFR, CIF, CPT, CIP, DAP, DPU, DDP."
    )
    incoterm_place: Text | None = None
    port_of_loading: Text | None = None
    port_of_destination: Text | None = None
    payment_terms: Text | None = Field(
        None, description="tt, tt_deposit, tt_bl, lc_sight, lc_usance, dp, da, oa, cad…"
    )
    payment_days: int | None = None
    payment_terms_note: Text | None = None
    lead_time_days: int | None = None
    shipping_marks: Text | None = None
    packing_notes: Text | None = None
    remarks: Text | None = None


class OrderCreate(OrderFields):
    company: Id = Field(description="The customer's id.")
    currency: CurrencyText  # type: ignore[valid-type]
    document_date: DateText | None = Field(
        None,
        description="The order date; today (yours) by default. Its exchange rate is frozen on the order.",
    )  # type: ignore[valid-type]
    deposit_percent: Number | None = Field(
        None, description="0–100: the deposit receivable (due on the order date)."
    )
    lines: list[LineIn]


class OrderPatch(OrderFields):
    lines: list[LineIn] | None = Field(
        None, description="Replaces every line; only while the order is confirmed."
    )
    version: Version | None = Field(None, description="The version you last read; or send If-Match.")


class FromProformaIn(Input):
    proforma: Id = Field(description="An issued (or accepted) proforma invoice.")
    document_date: DateText | None = Field(None, description="The order date; today (yours) by default.")  # type: ignore[valid-type]
    delivery_date: DateText | None = Field(
        None, description="Planned shipment date; PI date + lead time by default."
    )  # type: ignore[valid-type]
    customer_po: Text | None = None


StatusText = text(enum=list(OrderStatus.values))


class StatusIn(Input):
    status: StatusText  # type: ignore[valid-type]
    effective_on: DateText | None = Field(None, description="When it happened; today (yours) by default.")  # type: ignore[valid-type]
    note: Text | None = None
    version: Version | None = Field(None, description="Optional: refuse (409) if the order changed since.")


class LineOut(Schema):
    id: int
    position: int
    product_id: int | None
    sku: str
    name: str
    name_zh: str
    hs_code: str
    unit: str
    quantity: str
    unit_price: str
    discount_percent: str
    amount: str
    cartons: int
    gross_weight_kg: str
    cbm: str
    unit_cost_cny: str | None = Field(description="Managers and administrators only; null for others.")


class ReceivableOut(Schema):
    id: int
    order_id: int
    order_number: str
    company: CompanyRef
    kind: str = Field(description="deposit, balance or other.")
    due_date: dt.date
    amount: str
    currency: str
    paid_amount: str
    open_amount: str
    open_base: str | None = Field(description="Open amount in the base currency at the order's rate.")
    days_overdue: int
    status: str = Field(description="open, partial, paid, written_off.")
    note: str
    version: int


class StatusChangeOut(Schema):
    from_status: str
    to_status: str
    effective_on: dt.date
    changed_at: dt.datetime
    changed_by: UserRef | None
    note: str


class OrderRow(Schema):
    id: int
    number: str
    company: CompanyRef
    status: str
    document_date: dt.date
    currency: str
    total_amount: str
    paid_amount: str
    open_amount: str
    delivery_date: dt.date | None
    customer_po: str
    owner: UserRef | None
    proforma_id: int | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class OrderOut(OrderRow):
    contact_id: int | None
    quotation_id: int | None
    opportunity_id: int | None
    base_currency: str
    fx_rate: str | None = Field(
        description="1 order currency = fx_rate base currency, frozen when the order was made."
    )
    fx_date: dt.date | None
    fx_source: str
    incoterm: str
    incoterm_place: str
    port_of_loading: str
    port_of_destination: str
    payment_terms: str
    deposit_percent: str | None
    payment_days: int | None
    payment_terms_note: str
    lead_time_days: int | None
    shipping_marks: str
    packing_notes: str
    remarks: str
    subtotal: str
    discount_total: str
    total_cartons: int
    total_gross_weight_kg: str
    total_net_weight_kg: str
    total_cbm: str
    total_cost_cny: str | None = Field(description="Managers and administrators only; null for others.")
    status_changed_at: dt.datetime | None
    lines: list[LineOut]
    receivables: list[ReceivableOut]
    status_changes: list[StatusChangeOut]
    warnings: list[str] = Field(description="After a change: e.g. shipped without a B/L or container number.")


class OrderPage(Schema):
    items: list[OrderRow]
    next_cursor: str | None
    prev_cursor: str | None


class OrderListQuery(PageQuery):
    status: Literal[tuple(OrderStatus.values)] | None = None  # type: ignore[valid-type]
    company_id: Id | None = None
    owner: Text | None = Field(None, max_length=20, description="'me' or a user id.")
    date_from: DateText | None = Field(None, description="Order date on or after.")  # type: ignore[valid-type]
    date_to: DateText | None = Field(None, description="Order date on or before.")  # type: ignore[valid-type]
    q: Text = Field("", max_length=100, description="Order number, customer's PO or customer name.")
    sort: Literal[tuple(ORDER_SORTS)] = "-document_date"  # type: ignore[valid-type]


class HistoryQuery(Schema):
    company_id: Id
    since: DateText | None = Field(None, description="Orders dated on or after.")  # type: ignore[valid-type]


class HistoryLine(Schema):
    line_id: int
    order_id: int
    order_number: str
    order_date: dt.date
    product_id: int | None
    sku: str
    name: str
    name_zh: str
    quantity: str
    unit: str
    unit_price: str
    discount_percent: str
    currency: str
    amount: str
    amount_base: str | None = Field(description="In the base currency at the order's frozen rate.")
    payment_terms: str


class OrderStats(Schema):
    order_count: int
    first_order_date: dt.date
    last_order_date: dt.date
    total_base: str
    average_interval_days: str | None = Field(
        description="Days between orders on average; null with fewer than two order dates."
    )
    expected_next_order: dt.date | None


class PurchaseHistoryOut(Schema):
    company: CompanyRef
    base_currency: str
    stats: OrderStats | None = Field(description="Null when the customer has no orders.")
    items: list[HistoryLine]


# --- shipments ----------------------------------------------------------------------------------


class ContainerIn(Input):
    number: Text = Field(description="ISO 6346 with its check digit, e.g. CSQU3054383.")
    type: Text = Field(description="20GP, 40GP, 40HQ, 45HQ, 20RF or 40RF.")
    seal: Text | None = None


class ContainerOut(Schema):
    number: str
    type: str
    seal: str


class ShipmentFields(Input):
    status: text(enum=list(ShipmentStatus.values)) | None = None  # type: ignore[valid-type]
    bl_number: Text | None = None
    booking_number: Text | None = None
    containers: list[ContainerIn] | None = None
    carrier: Text | None = None
    forwarder: Text | None = None
    vessel: Text | None = None
    voyage: Text | None = None
    port_of_loading: Text | None = None
    port_of_discharge: Text | None = None
    etd: DateText | None = None  # type: ignore[valid-type]
    eta: DateText | None = Field(None, description="Not before the ETD.")  # type: ignore[valid-type]
    atd: DateText | None = None  # type: ignore[valid-type]
    ata: DateText | None = None  # type: ignore[valid-type]
    notes: Text | None = None


class ShipmentCreate(ShipmentFields):
    order: Id


class ShipmentPatch(ShipmentFields):
    version: Version | None = Field(None, description="The version you last read; or send If-Match.")


class ShipmentOut(Schema):
    id: int
    order_id: int
    order_number: str
    status: str
    bl_number: str
    booking_number: str
    containers: list[ContainerOut]
    carrier: str
    forwarder: str
    vessel: str
    voyage: str
    port_of_loading: str
    port_of_discharge: str
    etd: dt.date | None
    eta: dt.date | None
    atd: dt.date | None
    ata: dt.date | None
    notes: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class ShipmentPage(Schema):
    items: list[ShipmentOut]
    next_cursor: str | None
    prev_cursor: str | None


class ShipmentQuery(PageQuery):
    order_id: Id | None = None


# --- receivables --------------------------------------------------------------------------------


class ReceivablePage(Schema):
    items: list[ReceivableOut]
    next_cursor: str | None
    prev_cursor: str | None


class ReceivableQuery(PageQuery):
    order_id: Id | None = None
    company_id: Id | None = None
    status: Literal[tuple(ReceivableStatus.values)] | None = None  # type: ignore[valid-type]
    overdue: bool = Field(False, description="Only those due before today (yours) and not settled.")


class WriteOffIn(Input):
    note: Text | None = Field(None, description="Why (e.g. “bank charges short”).")
    version: Version | None = None


# --- payments -----------------------------------------------------------------------------------


class PaymentCreate(Input):
    order: Id
    amount: Number = Field(description="What arrived, > 0.")
    currency: CurrencyText  # type: ignore[valid-type]
    received_on: DateText  # type: ignore[valid-type]
    receivable: Id | None = Field(
        None, description="Settle this one first; by default the oldest open ones by due date."
    )
    bank_charges: Number | None = Field(
        None, description="Deducted by the banks; the customer is credited amount + charges."
    )
    reference: Text | None = None
    note: Text | None = None


class AllocationOut(Schema):
    receivable_id: int
    amount: str


class PaymentOut(Schema):
    id: int
    order_id: int
    order_number: str
    company: CompanyRef
    receivable_id: int | None
    received_on: dt.date
    amount: str
    currency: str
    bank_charges: str
    applied_amount: str = Field(description="What it settles, in the order's currency.")
    fx_rate: str = Field(description="1 payment currency = fx_rate base currency on the day it arrived.")
    fx_date: dt.date
    fx_source: str
    base_amount: str
    fx_difference: str = Field(description="base_amount − the settled amount at the order's rate (gain > 0).")
    reference: str
    note: str
    created_at: dt.datetime
    allocations: list[AllocationOut] | None = Field(
        None, description="On a single payment: what each receivable got."
    )


class PaymentPage(Schema):
    items: list[PaymentOut]
    next_cursor: str | None
    prev_cursor: str | None


class PaymentQuery(PageQuery):
    order_id: Id | None = None
    company_id: Id | None = None
    currency: Text = Field("", max_length=3)
    date_from: DateText | None = None  # type: ignore[valid-type]
    date_to: DateText | None = None  # type: ignore[valid-type]


class FxQuery(Schema):
    date_from: DateText | None = None  # type: ignore[valid-type]
    date_to: DateText | None = None  # type: ignore[valid-type]


class FxRow(Schema):
    month: str = Field(description="YYYY-MM.")
    currency: str
    count: int
    amount: str
    base_amount: str
    fx_difference: str


class FxMonth(Schema):
    month: str
    count: int
    base_amount: str
    fx_difference: str


class FxTotal(Schema):
    count: int
    base_amount: str
    fx_difference: str


class FxReport(Schema):
    base_currency: str
    rows: list[FxRow]
    months: list[FxMonth]
    total: FxTotal
