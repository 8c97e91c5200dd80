"""Template helpers of customer analysis: numbers and shares in the active language, base-currency
amounts, names of RFM segments and lifecycle stages."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from babel.numbers import format_decimal, format_percent
from django import template
from django.utils import translation

from tradecrm.core import fx
from tradecrm.core.money import format_money
from tradecrm.grading.models import Lifecycle, RfmSegment

register = template.Library()

_LOCALES = {"en": "en_US", "zh-hans": "zh_Hans_CN", "zh": "zh_Hans_CN"}
_SEGMENTS = dict(RfmSegment.choices)
_STAGES = dict(Lifecycle.choices)


def _locale() -> str:
    return _LOCALES.get((translation.get_language() or "en").lower(), "en_US")


@register.filter
def num(value, places: int = 1) -> str:
    if value in (None, ""):
        return "—"
    try:
        d = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    return format_decimal(d, format="#,##0." + "#" * int(places), locale=_locale())


@register.filter
def pct(value) -> str:
    if value in (None, ""):
        return "—"
    return format_percent(float(value), format="#,##0%", locale=_locale())


@register.filter
def base_money(value) -> str:
    if value in (None, ""):
        return "—"
    return format_money(Decimal(str(value)).quantize(Decimal("0.01")), fx.base_currency())


@register.filter
def segment_name(code: str) -> str:
    return str(_SEGMENTS.get(code, code or "—"))


@register.filter
def stage_name(code: str) -> str:
    return str(_STAGES.get(code, code or "—"))
