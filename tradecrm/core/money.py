"""Money helpers: which codes are currencies, how many decimals each has, rounding and display.

Amounts are `Decimal` with an ISO 4217 code beside them, never floats. The list of codes is the
one the customer archive validates against (`geo.currency_codes`, from pycountry); minor units
and display come from CLDR through babel.
"""

from __future__ import annotations

import functools
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, get_currency_precision
from django.utils import translation

from tradecrm.core import geo

# The currencies foreign-trade companies invoice and get paid in most: offered first in every
# currency picker, in this order; the rest follow by code.
COMMON_CURRENCIES = (
    "USD", "EUR", "CNY", "GBP", "JPY", "HKD", "AUD", "CAD", "AED", "SAR", "RUB", "INR", "BRL", "MXN",
    "CHF", "SGD", "KRW", "TWD", "TRY", "ZAR", "NZD", "THB", "MYR", "IDR", "VND", "PHP", "PKR", "BDT",
    "PLN", "SEK", "NOK", "DKK", "KWD", "QAR", "ILS", "EGP", "NGN", "KES", "CLP", "COP", "PEN", "ARS",
)  # fmt: skip

# Django language code → the babel locale used to format amounts.
_LOCALES = {"en": "en_US", "zh-hans": "zh_Hans_CN", "zh": "zh_Hans_CN"}


def is_currency(code: str) -> bool:
    """An ISO 4217 code as stored (upper case, e.g. "USD")."""
    return isinstance(code, str) and code in geo.currency_codes()


def currency_precision(code: str) -> int:
    """Decimal places of the currency's minor unit (JPY 0, USD 2, KWD 3)."""
    return get_currency_precision(code)


@functools.cache
def _exponent(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def to_decimal(amount) -> Decimal:
    """Decimal from a Decimal, int or numeric string; a float is refused (money is never one)."""
    if isinstance(amount, Decimal):
        return amount
    if isinstance(amount, bool) or isinstance(amount, float):
        raise TypeError("Money amounts are Decimal, int or str, never float or bool.")
    try:
        return Decimal(str(amount).strip())
    except InvalidOperation:
        raise ValueError(f"Not an amount: {amount!r}") from None


def quantize_money(amount: Decimal, currency: str) -> Decimal:
    """Round half up to the currency's minor unit: 2.345 USD → 2.35, 1234.5 JPY → 1235."""
    return to_decimal(amount).quantize(_exponent(currency_precision(currency)), rounding=ROUND_HALF_UP)


@functools.cache
def _locale(language: str) -> Locale:
    name = _LOCALES.get(language.lower())
    if name is None:
        name = translation.to_locale(language) if "-" in language else language
    try:
        return Locale.parse(name)
    except (ValueError, TypeError, UnknownLocaleError):
        return Locale.parse("en_US")


def money_locale(locale: str | None = None) -> Locale:
    """The babel locale for `locale` (a Django language code like "zh-hans" or a babel name like
    "de_DE"); by default the active language ("en" → en_US, "zh-hans" → zh_Hans_CN)."""
    return _locale(locale or translation.get_language() or "en")


def format_money(amount, currency: str, locale: str | None = None) -> str:
    """“$1,234.50”, “¥1,235” (JPY), “€1,234.50” in zh_Hans_CN: rounded to the currency's minor
    unit, in the active language unless `locale` is given."""
    value = quantize_money(amount, currency)
    return format_currency(value, currency, locale=money_locale(locale))


@functools.cache
def _choices(language: str) -> tuple[tuple[str, str], ...]:
    labels = dict(geo.currency_choices(language))  # "USD · US Dollar", names in the language
    first = [(c, labels[c]) for c in COMMON_CURRENCIES if c in labels]
    common = set(COMMON_CURRENCIES)
    rest = [(c, label) for c, label in geo.currency_choices(language) if c not in common]
    return tuple(first + rest)


def currency_choices(language: str | None = None) -> list[tuple[str, str]]:
    """(code, "USD · US Dollar") for every ISO 4217 currency, names in the active language; the
    commonly traded ones first (USD, EUR, CNY, GBP, JPY, HKD, …), then the rest by code."""
    language = language or translation.get_language() or "en"
    key = "zh" if language.lower().startswith("zh") else "en"
    return list(_choices(key))
