"""Template helpers for customs records: amounts, weights and quantities in the active language,
country names."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from babel.numbers import format_decimal
from django import template
from django.utils import translation

from tradecrm.core import geo
from tradecrm.core.money import format_money

register = template.Library()

_LOCALES = {"en": "en_US", "zh-hans": "zh_Hans_CN", "zh": "zh_Hans_CN"}


def _locale() -> str:
    return _LOCALES.get((translation.get_language() or "en").lower(), "en_US")


@register.filter
def number(value, places: int = 3) -> str:
    """1234.500 → “1,234.5” (grouped, trailing zeros dropped, at most `places` decimals)."""
    if value in (None, ""):
        return ""
    try:
        d = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    return format_decimal(d, format="#,##0." + "#" * int(places), locale=_locale())


@register.filter
def money(amount, currency: str) -> str:
    if amount in (None, "") or not currency:
        return ""
    try:
        return format_money(Decimal(amount), currency)
    except (ValueError, ArithmeticError):
        return f"{amount} {currency}"


@register.filter
def country(code: str) -> str:
    return geo.country_name(code, translation.get_language() or "en") if code else ""
