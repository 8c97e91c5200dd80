"""The JSON shapes of the exchange-rate API. Inputs check JSON types only; what a value means (a
currency code, a date, a rate above zero) is checked by the services, so the API and the web
forms give the same translated messages."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import ConfigDict, Field

from tradecrm.core.api import FieldError, Text, Version, text
from tradecrm.customers.schemas import PageQuery, UserRef

CurrencyText = text(description="ISO 4217 code, e.g. USD.")
DateText = text(fmt="date", description="YYYY-MM-DD.")
RateValue = str | int | float


class Input(Schema):
    model_config = ConfigDict(extra="forbid")


class RateOut(Schema):
    id: int
    base: str = Field(description="1 base = `rate` quote.")
    quote: str
    date: dt.date
    rate: str = Field(description="Decimal, 10 places, as a string (e.g. “7.1234000000”).")
    source: str = Field(description="manual, ECB, PBOC, “CSV <file name>”…")
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    updated_by: UserRef | None


class RatePage(Schema):
    items: list[RateOut]
    next_cursor: str | None
    prev_cursor: str | None


class RateListQuery(PageQuery):
    base: Text = Field("", max_length=10, description="Only this base currency.")
    quote: Text = Field("", max_length=10, description="Only this quote currency.")
    date_from: DateText | None = Field(None, description="On or after this date.")  # type: ignore[valid-type]
    date_to: DateText | None = Field(None, description="On or before this date.")  # type: ignore[valid-type]


class RateSetIn(Input):
    base: CurrencyText  # type: ignore[valid-type]
    quote: CurrencyText  # type: ignore[valid-type]
    date: DateText  # type: ignore[valid-type]
    rate: RateValue = Field(description="1 base in quote, > 0; a string keeps every digit (e.g. “7.1234”).")
    source: Text | None = Field(None, max_length=200, description="“manual” by default.")


class RatePatch(Input):
    base: CurrencyText | None = None  # type: ignore[valid-type]
    quote: CurrencyText | None = None  # type: ignore[valid-type]
    date: DateText | None = None  # type: ignore[valid-type]
    rate: RateValue | None = None
    source: Text | None = Field(None, max_length=200)
    version: Version | None = Field(None, description="The version you last read; or send If-Match.")


class ConvertQuery(Schema):
    amount: Text = Field(max_length=40, description="Decimal, e.g. 100 or 1234.56.")
    from_currency: Text = Field(alias="from", max_length=10, description="ISO 4217 code of the amount.")
    to: Text = Field(max_length=10, description="ISO 4217 code to convert into.")
    date: DateText | None = Field(None, description="The document's date; today (yours) by default.")  # type: ignore[valid-type]


class ConvertOut(Schema):
    amount: str
    from_currency: str = Field(alias="from")
    to: str
    date: dt.date
    result: str = Field(description="Rounded to the minor unit of `to` (half up).")
    formatted: str = Field(description="The result as shown in your language, e.g. “$108.56”.")
    rate: str = Field(description="1 `from` in `to`.")
    rate_date: dt.date = Field(description="The date of the rate used (on or before `date`).")
    source: str = Field(description="Where the rate comes from; “cross via …” names both legs.")


class RowError(Schema):
    row: int | None = Field(description="Spreadsheet row (the header is row 1); null for the whole file.")
    field: str | None = Field(description="The column: date, base, quote, rate, source, or a currency code.")
    message: str


class PreviewRow(Schema):
    row: int
    date: dt.date
    base: str
    quote: str
    rate: str
    previous: str | None = Field(description="The rate on record for that day, if any.")
    status: str = Field(description="new, changed or same.")


class ImportOut(Schema):
    file_name: str
    layout: str = Field(
        description="“long” (date, base, quote, rate per row) or “wide” (a column per currency)."
    )
    base: str
    dry_run: bool
    rates: int = Field(description="Rates read from the file.")
    created: int
    updated: int
    unchanged: int
    first_date: dt.date | None
    last_date: dt.date | None
    pairs: list[str]
    warnings: list[str] = Field(description="E.g. a column of a withdrawn currency that was skipped.")
    errors: list[RowError]
    preview: list[PreviewRow] = Field(description="The first 20 rates and what importing does to each.")


class ImportRefused(ImportOut):
    detail: list[FieldError] = Field(description="The row errors as {field, message}, like every 422.")
