"""The JSON shapes of the catalogue API.

Input schemas check JSON types only and refuse unknown fields; what a value means (a unit in the
list, an HS code of 6–10 digits, a rebate not above the VAT rate) is checked by the services, so
the API and the web forms give the same translated messages. Numbers may be sent as JSON numbers
or as decimal strings ("12.3456", to keep every digit); they come back as decimal strings.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, WithJsonSchema

from tradecrm.core.api import FieldError, Id, Text, Version, text
from tradecrm.customers.schemas import PageQuery

from .models import Unit

Num = Annotated[
    str | int | float,
    WithJsonSchema(
        {
            "oneOf": [{"type": "number"}, {"type": "string"}],
            "description": 'A number, or a decimal string to keep every digit ("12.3456").',
        }
    ),
]
Dec = Annotated[str, WithJsonSchema({"type": "string", "format": "decimal"})]
UnitText = text(enum=list(Unit.values), description="Unit code (Chinese and English names are accepted too).")
DateText = text(fmt="date", description="YYYY-MM-DD")
CurrencyText = text(description="ISO 4217 code, e.g. USD.")
COST_NOTE = "Only for managers and administrators (absent for sales reps)."


class Input(Schema):
    model_config = ConfigDict(extra="forbid")


# --- products -----------------------------------------------------------------------------------


class ProductFields(Input):
    name_zh: Text | None = None
    specification: Text | None = None
    description: Text | None = None
    category: Text | None = None
    hs_code: Text | None = Field(
        None, description='6 to 10 digits; dots and spaces are ignored ("7323.93.00").'
    )
    unit: UnitText | None = None
    moq: Num | None = Field(None, description="Minimum order quantity, greater than 0.")
    units_per_carton: Num | None = Field(None, description="Whole number, at least 1.")
    carton_length_cm: Num | None = None
    carton_width_cm: Num | None = None
    carton_height_cm: Num | None = None
    carton_gross_weight_kg: Num | None = None
    carton_net_weight_kg: Num | None = Field(None, description="Not more than the gross weight.")
    carton_cbm: Num | None = Field(
        None, description="m³ per carton; null or absent: worked out from the size."
    )
    packing_notes: Text | None = None
    purchase_cost_cny: Num | None = Field(None, description="CNY, VAT included.")
    vat_rate: Num | None = Field(None, description="Percent, 0–100 (default 13).")
    tax_rebate_rate: Num | None = Field(None, description="Percent, 0–100, not above the VAT rate.")
    supplier: Text | None = None
    active: bool | None = None


class ProductCreate(ProductFields):
    sku: Text = Field(description="Unique, upper and lower case alike; at most 64 characters.")
    name_en: Text


class ProductPatch(ProductFields):
    sku: Text | None = None
    name_en: Text | None = None
    version: Version | None = Field(None, description="The version you last read; or send If-Match.")


class PhotoOut(Schema):
    id: int
    name: str
    content_type: str = Field(
        description="Sniffed from the bytes: image/jpeg, image/png, image/webp or image/gif."
    )
    size: int
    url: str


class ProductOut(Schema):
    id: int
    sku: str
    name_en: str
    name_zh: str
    specification: str
    description: str
    category: str
    hs_code: str
    unit: str
    moq: Dec | None
    units_per_carton: int | None
    carton_length_cm: Dec | None
    carton_width_cm: Dec | None
    carton_height_cm: Dec | None
    carton_gross_weight_kg: Dec | None
    carton_net_weight_kg: Dec | None
    carton_cbm: Dec | None
    packing_notes: str
    active: bool
    purchase_cost_cny: Dec | None = Field(None, description=COST_NOTE)
    vat_rate: Dec | None = Field(None, description=COST_NOTE)
    tax_rebate_rate: Dec | None = Field(None, description=COST_NOTE)
    supplier: str | None = Field(None, description=COST_NOTE)
    photos: list[PhotoOut] | None = Field(
        None, description="In a single product only; lists give `photo_id`."
    )
    photo_id: int | None = Field(None, description="Lists only: the first photo's id.")
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class ProductPage(Schema):
    items: list[ProductOut]
    next_cursor: str | None
    prev_cursor: str | None


ProductSort = Literal["name", "-name", "sku", "-sku", "-updated_at", "updated_at"]


class ProductQuery(Schema):
    q: Text = Field(
        "", max_length=200, description="Free text: SKU, names (English, Chinese), specification, HS code."
    )
    category: Text = Field("", max_length=120, description="Exact category.")
    active: bool | None = Field(None, description="Only active (true) or inactive (false) products.")
    hs_code: Text = Field("", max_length=14, description='HS code prefix, e.g. "7323" or "7323.93".')
    sort: ProductSort = "name"


class ProductListQuery(PageQuery, ProductQuery):
    pass


class ProductPriceQuery(Schema):
    currency: CurrencyText
    quantity: Text = Field("1", max_length=20, description="Quantity to price (default 1).")
    date: DateText | None = Field(None, description="Price on this day (default today).")


class PriceListRef(Schema):
    id: int
    name: str


class ProductPriceOut(Schema):
    product: int
    currency: str
    quantity: Dec
    date: dt.date
    unit_price: Dec | None = Field(
        description="null: no active price list in this currency has a price for it."
    )
    min_quantity: Dec | None = Field(description="The quantity break applied.")
    price_list: PriceListRef | None


class ProductImportError(Schema):
    row: int | None = Field(
        description="Row number as the spreadsheet program shows it; null: the whole file."
    )
    column: str = Field(description="The column's header as written in the file.")
    message: str


class ProductImportRow(Schema):
    row: int
    sku: str
    name: str
    status: Literal["created", "updated", "unchanged"]
    changes: list[str] = Field(description="Updated rows: the columns that change.")


class CatalogImportOut(Schema):
    ok: bool
    dry_run: bool
    file_name: str
    header_row: int
    columns: list[str]
    ignored_columns: list[str]
    rows: int
    created: int
    updated: int
    unchanged: int
    errors: list[ProductImportError]
    preview: list[ProductImportRow] = Field(description="The first 200 rows.")


class CatalogImportRefused(CatalogImportOut):
    detail: list[FieldError] = Field(description="Every error as “row N, column X: reason”.")


class ProductPickerItem(Schema):
    id: int
    sku: str
    name_en: str
    name_zh: str
    specification: str
    hs_code: str
    unit: str
    moq: Dec | None
    packing: dict = Field(
        description="units_per_carton, carton_length_cm, carton_width_cm, carton_height_cm, gross_weight_kg, "
        "net_weight_kg, cbm (per carton; cbm worked out from the size when not stored)."
    )
    prices: dict = Field(
        description='Per currency: {"unit_price", "min_quantity", "price_list": {"id", "name"}, '
        '"breaks": [{"min_quantity", "unit_price"}]} from the list that applies today.'
    )
    cost: dict | None = Field(None, description=f"purchase_cost_cny, vat_rate, tax_rebate_rate. {COST_NOTE}")


class ProductPickerOut(Schema):
    items: list[ProductPickerItem]


class ProductPickerQuery(Schema):
    q: Text = Field("", max_length=200)
    limit: int = Field(20, ge=1, le=50)
    date: DateText | None = Field(None, description="Prices valid on this day (default today).")


# --- price lists --------------------------------------------------------------------------------


class PriceListFields(Input):
    valid_from: DateText | None = None
    valid_until: DateText | None = None
    notes: Text | None = None
    active: bool | None = None


class PriceListCreate(PriceListFields):
    name: Text = Field(description="Unique, e.g. “FOB Ningbo USD 2026”.")
    currency: CurrencyText


class PriceListPatch(PriceListFields):
    name: Text | None = None
    currency: CurrencyText | None = None
    version: Version | None = Field(None, description="The version you last read; or send If-Match.")


class PriceListOut(Schema):
    id: int
    name: str
    currency: str
    valid_from: dt.date | None
    valid_until: dt.date | None
    notes: str
    active: bool
    prices: int = Field(description="How many prices (product × quantity break) it holds.")
    version: int = Field(description="Moves with every change of the list or of one of its prices.")
    created_at: dt.datetime
    updated_at: dt.datetime


class PriceListPage(Schema):
    items: list[PriceListOut]
    next_cursor: str | None
    prev_cursor: str | None


class PriceItemIn(Input):
    product: Id = Field(description="The product's id.")
    unit_price: Num = Field(description="In the list's currency, at least 0, up to 4 decimals.")
    min_quantity: Num = Field(1, description="The price applies from this quantity up (quantity break).")


class PriceItemProduct(Schema):
    id: int
    sku: str
    name_en: str


class PriceItemOut(Schema):
    id: int
    product: PriceItemProduct
    min_quantity: Dec
    unit_price: Dec


class PriceItemPage(Schema):
    items: list[PriceItemOut]
    next_cursor: str | None
    prev_cursor: str | None
