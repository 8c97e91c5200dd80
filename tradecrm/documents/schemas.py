"""The JSON shapes of the quotation and proforma-invoice API.

Input schemas check JSON types only and refuse unknown fields; what a value means (a currency
code, an Incoterm, a quantity above zero, a contact of the customer) is checked by the services,
so the API and the web forms give the same translated messages. Numbers (quantities, prices,
percentages) may be sent as JSON numbers or as strings ("12.50"); they are returned as strings so
that no digit is lost.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, WithJsonSchema

from tradecrm.catalog.models import Unit
from tradecrm.core.api import Id, Text, Version, text
from tradecrm.customers.schemas import CompanyRef, PageQuery, UserRef

from .models import DocumentLanguage, DocumentStatus, Incoterm, PaymentTerms
from .selectors import SORTS

Num = Annotated[
    Decimal | Text,
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string"}], "description": "A decimal number."}),
]
DateText = text(fmt="date", description="YYYY-MM-DD")


class Input(Schema):
    model_config = ConfigDict(extra="forbid")


class LineIn(Input):
    id: Id | None = Field(
        None, description="An existing line of this document: what you do not send is kept from it."
    )
    product: Id | None = Field(
        None, description="A product: SKU, names, specification, HS code, unit, packing, cost and the price-list "
        "price are copied from it unless you send them."
    )  # fmt: skip
    sku: Text | None = None
    name: Text | None = Field(None, description="Description (required for a line without a product).")
    name_zh: Text | None = None
    specification: Text | None = None
    hs_code: Text | None = None
    unit: text(enum=list(Unit.values)) | None = None  # type: ignore[valid-type]
    quantity: Num | None = Field(None, description="Greater than zero, at most 3 decimals.")
    unit_price: Num | None = Field(
        None, description="In the document's currency; from the price list by default."
    )
    discount_percent: Num | None = Field(None, description="0 to 100.")
    units_per_carton: Num | None = None
    carton_gross_weight_kg: Num | None = Field(None, description="Per carton.")
    carton_net_weight_kg: Num | None = Field(None, description="Per carton.")
    carton_cbm: Num | None = Field(None, description="Volume of one carton in m³.")
    unit_cost_cny: Num | None = Field(
        None, description="Managers and administrators only; ignored for others."
    )
    vat_rate: Num | None = Field(None, description="Managers and administrators only.")
    tax_rebate_rate: Num | None = Field(None, description="Managers and administrators only.")
    note: Text | None = None


class DocumentFields(Input):
    contact: Id | None = Field(None, description="A contact of the customer.")
    opportunity: Id | None = Field(None, description="An opportunity of the customer.")
    seller: Id | None = Field(
        None, description="Seller profile (letterhead); the default one when not given."
    )
    currency: Text | None = Field(
        None, description="ISO 4217; the customer's settlement currency by default."
    )
    document_date: DateText | None = Field(None, description="Today by default.")  # type: ignore[valid-type]
    language: text(enum=list(DocumentLanguage.values)) | None = None  # type: ignore[valid-type]
    incoterm: text(enum=list(Incoterm.values)) | None = Field(  # type: ignore[valid-type]
        None, description="Incoterms 2020; needs `incoterm_place`."
    )
    incoterm_place: Text | None = Field(
        None,
        description="The named place; for FOB/FAS the port of loading, for CFR/CIF the port of destination.",
    )
    port_of_loading: Text | None = None
    port_of_destination: Text | None = None
    payment_terms: text(enum=list(PaymentTerms.values)) | None = None  # type: ignore[valid-type]
    deposit_percent: Num | None = Field(None, description="0 to 100; required for tt_deposit and tt_bl.")
    payment_days: int | None = Field(None, description="Days after sight / B/L (usance L/C, D/A, O/A).")
    payment_terms_note: Text | None = None
    lead_time_days: int | None = None
    shipping_marks: Text | None = None
    packing_notes: Text | None = None
    remarks: Text | None = None


class QuotationFields(DocumentFields):
    inquiry: Id | None = Field(None, description="The inquiry this quotation answers.")
    valid_until: DateText | None = Field(None, description="30 days after the date by default.")  # type: ignore[valid-type]


class QuotationCreate(QuotationFields):
    company: Id = Field(description="The customer's id.")
    lines: list[LineIn] = Field(default_factory=list)


class QuotationPatch(QuotationFields):
    version: Version | None = Field(None, description="The version you last read; or send If-Match.")
    lines: list[LineIn] | None = Field(
        None,
        description="When sent, the whole new line list (a line with `id` keeps what it does not repeat).",
    )


class ProformaFields(DocumentFields):
    bank_account: Id | None = Field(
        None,
        description="Where the buyer pays; in the invoice's currency. The seller's default one otherwise.",
    )
    deposit_due_date: DateText | None = Field(None, description="A week after the date by default.")  # type: ignore[valid-type]
    balance_due_date: DateText | None = None  # type: ignore[valid-type]


class ProformaCreate(ProformaFields):
    company: Id = Field(description="The customer's id.")
    lines: list[LineIn] = Field(default_factory=list)


class ProformaPatch(ProformaFields):
    version: Version | None = Field(None, description="The version you last read; or send If-Match.")
    lines: list[LineIn] | None = None


class ActionIn(Input):
    version: Version | None = Field(None, description="The version you last read; or send If-Match.")
    note: Text | None = Field(
        None, max_length=2000, description="Why (reject, send back) or the buyer's words."
    )


class RevisionIn(Input):
    pass


# --- out ----------------------------------------------------------------------------------------


class LineOut(Schema):
    id: int
    position: int
    product_id: int | None
    sku: str
    name: str
    name_zh: str
    specification: str
    hs_code: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    amount: Decimal
    units_per_carton: int | None
    cartons: int
    gross_weight_kg: Decimal
    net_weight_kg: Decimal
    cbm: Decimal
    note: str
    unit_cost_cny: Decimal | None = Field(description="null unless you may see costs.")
    vat_rate: Decimal | None
    tax_rebate_rate: Decimal | None


class ContainerFill(Schema):
    count: int
    fill_percent: int


class Containers(Schema):
    suggested: str = Field(description="e.g. '1 × 40HQ + 1 × 20GP'")
    lcl: bool = Field(description="Small enough to ship as less than a container load.")
    gp20: ContainerFill = Field(alias="20GP")
    gp40: ContainerFill = Field(alias="40GP")
    hq40: ContainerFill = Field(alias="40HQ")


class FrozenRate(Schema):
    rate: Decimal = Field(description="1 document currency = rate base currency.")
    date: dt.date
    source: str
    base_currency: str


class MarginOut(Schema):
    revenue_cny: Decimal
    cost_cny: Decimal
    rebate_cny: Decimal
    margin_cny: Decimal
    margin_percent: Decimal | None
    complete: bool = Field(description="false when some lines have no cost.")
    rate_to_cny: Decimal


class DocumentOut(Schema):
    id: int
    number: str = Field(description="Empty until issued.")
    base_number: str
    revision: int
    status: str
    company: CompanyRef
    contact_id: int | None
    opportunity_id: int | None
    seller_id: int | None
    owner: UserRef | None
    language: str
    document_date: dt.date
    currency: str
    incoterm: str
    incoterm_place: str
    port_of_loading: str
    port_of_destination: str
    payment_terms: str
    deposit_percent: Decimal | None
    payment_days: int | None
    payment_terms_note: str
    lead_time_days: int | None
    shipping_marks: str
    packing_notes: str
    remarks: str
    subtotal: Decimal
    discount_total: Decimal
    total_amount: Decimal
    total_cartons: int
    total_gross_weight_kg: Decimal
    total_net_weight_kg: Decimal
    total_cbm: Decimal
    containers: Containers
    fx: FrozenRate | None = Field(description="Frozen when issued.")
    margin: MarginOut | None = Field(
        description="Managers and administrators only (null otherwise, or without a rate to CNY)."
    )
    issued_at: dt.datetime | None
    issued_by: UserRef | None
    previous_id: int | None = Field(description="The revision this one replaces.")
    lines: list[LineOut]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class QuotationOut(DocumentOut):
    inquiry_id: int | None
    valid_until: dt.date | None
    approved_at: dt.datetime | None
    approved_by: UserRef | None
    decided_at: dt.datetime | None
    decision_note: str


class ProformaOut(DocumentOut):
    quotation_id: int | None
    bank_account_id: int | None
    deposit_amount: Decimal
    balance_amount: Decimal
    deposit_due_date: dt.date | None
    balance_due_date: dt.date | None


class DocumentRow(Schema):
    id: int
    number: str
    revision: int
    status: str
    company: CompanyRef
    contact_id: int | None
    owner: UserRef | None
    document_date: dt.date
    currency: str
    total_amount: Decimal
    incoterm: str
    incoterm_place: str
    issued_at: dt.datetime | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class QuotationRow(DocumentRow):
    valid_until: dt.date | None


class ProformaRow(DocumentRow):
    quotation_id: int | None
    deposit_amount: Decimal
    balance_amount: Decimal


class QuotationPage(Schema):
    items: list[QuotationRow]
    next_cursor: str | None
    prev_cursor: str | None


class ProformaPage(Schema):
    items: list[ProformaRow]
    next_cursor: str | None
    prev_cursor: str | None


class Locked(Schema):
    detail: str = Field(
        description="e.g. “Quotation Q-2026-0012 is issued and cannot be changed; make a revision.”"
    )
    status: str


DocumentSort = Literal[tuple(SORTS)]  # type: ignore[valid-type]


class DocumentListQuery(PageQuery):
    status: Literal[tuple(DocumentStatus.values)] | None = None  # type: ignore[valid-type]
    company_id: Id | None = None
    owner: Text | None = Field(None, max_length=20, description="'me' or a user id.")
    date_from: DateText | None = Field(None, description="Dated on or after.")  # type: ignore[valid-type]
    date_to: DateText | None = Field(None, description="Dated on or before.")  # type: ignore[valid-type]
    q: Text = Field("", max_length=100, description="Part of the number or of the customer's name.")
    sort: DocumentSort = "-updated_at"
