"""Every rule for an exchange rate's fields, shared by the services, the forms, the API, the CLI
and the CSV importer, so each of them gives the same (translated) message."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from tradecrm.core.errors import Errors
from tradecrm.core.money import is_currency

RATE_PLACES = 10  # ExchangeRate.rate: max_digits=20, decimal_places=10
RATE_INTEGER_DIGITS = 10
SOURCE_MAX = 100
RATE_EXPONENT = Decimal(1).scaleb(-RATE_PLACES)

_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]0?0:00(?::00(?:\.0+)?)?)?$"
)
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


class FieldProblem(ValueError):
    """A value that cannot be used; the message says why, translated."""


def currency_code(value: Any) -> str:
    """An ISO 4217 code from input (" usd " → "USD")."""
    code = str(value or "").strip().upper()
    if not code:
        raise FieldProblem(_("Choose a currency."))
    if not is_currency(code):
        raise FieldProblem(
            _("Unknown currency code “%(value)s” (use ISO 4217, e.g. USD).") % {"value": str(value).strip()}
        )
    return code


def rate_date(value: Any) -> dt.date:
    """A date from a date or from text: 2026-11-20, 2026/11/20, 20261120, 2026年11月20日."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    if not text:
        raise FieldProblem(_("Enter the date."))
    m = _DATE.match(text) or _COMPACT_DATE.match(text)
    try:
        if m is None:
            raise ValueError
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise FieldProblem(
            _("Enter the date as YYYY-MM-DD, e.g. 2026-11-20 (this is “%(value)s”).") % {"value": text[:40]}
        ) from None


def number_text(text: str, decimal_comma: bool = False) -> str:
    """Spreadsheet number text to Decimal syntax: "16,250.50" → "16250.50"; with `decimal_comma`
    (semicolon-separated files from European spreadsheets) "1,0856" → "1.0856"."""
    text = text.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if decimal_comma and "," in text:
        return text.replace(".", "").replace(",", ".")
    if "," in text and _GROUPED.match(text):
        return text.replace(",", "")
    return text


def rate_value(value: Any, decimal_comma: bool = False) -> Decimal:
    """A rate > 0 that fits the column, rounded half up to 10 decimal places."""
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, float):
        value = repr(value)  # JSON numbers arrive as floats: 7.1234 stays 7.1234
    if isinstance(value, Decimal | int):
        number = Decimal(value)
    else:
        text = str(value if value is not None else "").strip()
        if not text:
            raise FieldProblem(_("Enter the rate."))
        try:
            number = Decimal(number_text(text, decimal_comma))
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise FieldProblem(
                _("Enter the rate as a number, e.g. 7.1234 (this is “%(value)s”).") % {"value": text[:40]}
            )
    if not number.is_finite():
        raise FieldProblem(
            _("Enter the rate as a number, e.g. 7.1234 (this is “%(value)s”).") % {"value": value}
        )
    if number <= 0:
        raise FieldProblem(_("The rate must be greater than zero."))
    if number.adjusted() >= RATE_INTEGER_DIGITS:
        raise FieldProblem(_("The rate is too large (at most 10 digits before the decimal point)."))
    rounded = number.quantize(RATE_EXPONENT, rounding=ROUND_HALF_UP)
    if rounded == 0:
        raise FieldProblem(_("The rate is too small: it is zero when rounded to 10 decimal places."))
    return rounded


def rate_source(value: Any, default: str = "manual") -> str:
    text = " ".join(str(value or "").split())
    if not text:
        return default
    if "\x00" in text:
        raise FieldProblem(_("Null characters are not allowed."))
    if len(text) > SOURCE_MAX:
        raise FieldProblem(
            _("At most %(limit)d characters (this has %(length)d).")
            % {"limit": SOURCE_MAX, "length": len(text)}
        )
    return text


def amount_value(value: Any) -> Decimal:
    """An amount to convert (any sign, at most 15 digits before the point)."""
    text = str(value if value is not None else "").strip()
    if not text:
        raise FieldProblem(_("Enter the amount."))
    try:
        number = Decimal(number_text(text))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number.adjusted() >= 15:
        raise FieldProblem(
            _("Enter the amount as a number, e.g. 1234.56 (this is “%(value)s”).") % {"value": text[:40]}
        )
    return number


_CLEANERS = {"base": currency_code, "quote": currency_code, "date": rate_date, "rate": rate_value,
             "source": rate_source}  # fmt: skip


def clean_rate(data: dict, *, partial: bool = False, current=None) -> dict:
    """{base, quote, date, rate, source} checked and normalized; raises ValidationError naming
    every bad field. `partial`: only the keys present (an update of `current`)."""
    errors = Errors()
    out: dict[str, Any] = {}
    for name, cleaner in _CLEANERS.items():
        if partial and name not in data:
            continue
        try:
            out[name] = cleaner(data.get(name))
        except FieldProblem as exc:
            errors.add(name, str(exc))
    base = out.get("base", getattr(current, "base", None))
    quote = out.get("quote", getattr(current, "quote", None))
    if base and base == quote and "base" not in errors.by_field and "quote" not in errors.by_field:
        errors.add("quote", _("The quote currency must differ from the base currency."))
    errors.raise_if_any()
    return out
