"""Template helpers for orders: amounts with their currency, status colours."""

from __future__ import annotations

from decimal import Decimal

from django import template

from tradecrm.core.money import format_money

register = template.Library()

STATUS_CLASSES = {
    "confirmed": "bg-blue-lt",
    "production": "bg-indigo-lt",
    "ready": "bg-cyan-lt",
    "shipped": "bg-purple-lt",
    "cleared": "bg-teal-lt",
    "delivered": "bg-green-lt",
    "completed": "bg-green",
    "cancelled": "bg-secondary-lt",
    # receivables
    "open": "bg-orange-lt",
    "partial": "bg-yellow-lt",
    "paid": "bg-green-lt",
    "written_off": "bg-secondary-lt",
}


@register.filter
def money(amount, currency: str) -> str:
    """“$1,234.50” / “US$1,234.50”: rounded to the currency's minor unit, in the active language."""
    if amount in (None, "") or not currency:
        return ""
    try:
        return format_money(Decimal(amount), currency)
    except (ValueError, ArithmeticError):
        return f"{amount} {currency}"


@register.filter
def status_class(status: str) -> str:
    return STATUS_CLASSES.get(status, "bg-secondary-lt")


@register.filter
def signed_class(amount) -> str:
    """Green for a gain, red for a loss."""
    if amount is None:
        return ""
    return "text-green" if amount > 0 else ("text-red" if amount < 0 else "text-secondary")


@register.filter
def rate(value) -> str:
    """An exchange rate without trailing zeros: 1.0800000000 → 1.08."""
    if value in (None, ""):
        return ""
    text = format(Decimal(value).normalize(), "f")
    return text


@register.filter
def price(value) -> str:
    """A unit price with at least 2 and at most 4 decimals: 2.5000 → 2.50, 0.1250 → 0.125."""
    if value in (None, ""):
        return ""
    places = min(max(2, -Decimal(value).normalize().as_tuple().exponent), 4)
    return f"{Decimal(value):,.{places}f}"
