"""Money in templates.

{% load money %}
{{ amount|money:currency }}     $1,234.50 / ¥1,235, in the active language
{{ rate|rate }}                 7.1234 (a stored rate without its trailing zeros)
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

from tradecrm.core.money import format_money

register = template.Library()


@register.filter
def money(amount, currency: str) -> str:
    if amount is None or amount == "" or not currency:
        return ""
    try:
        return format_money(amount, currency)
    except (TypeError, ValueError, InvalidOperation):
        return f"{amount} {currency}"


@register.filter
def rate(value) -> str:
    if value is None or value == "":
        return ""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if number == number.to_integral_value():
        return f"{number.quantize(Decimal(1)):f}"
    return f"{number.normalize():f}"
