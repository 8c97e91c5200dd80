"""Template tags of trade document PDFs (quotations, proforma invoices).

    {% load documents_pdf %}
    {% bi "Quotation" %}                  "Quotation 报价单" (bilingual), "Quotation" (en), "报价单" (zh)
    {% bi "Total" "invoice" %}            the same with a pgettext context
    {{ totals.total|money:doc.currency }}            "$8,313.00" (tradecrm.core.money.format_money)
    {{ line.unit_price|money_number:doc.currency }}  "0.0325", "1,234.50" (number only, extra decimals kept)
    {{ line.qty|qty }}                    "1,200", "12.5" (no trailing zeros, thousands separators)
    {% if totals.freight|nonzero %}       numbers stored as strings ("0.00") are not false by themselves
    {{ doc.date|day }}                    "2026-03-04" from a date or an ISO string
    @bottom-center { content: {% page_counter %} }  "Page 1 of 2" from CSS page counters
    @bottom-left { content: {{ doc.number|css_string }} }  any text as a safe CSS string

The mode comes from `pdf_language` in the context (set by tradecrm.documents.pdf.render_pdf);
without it, the active language decides. Every msgid used with `bi` in a layout must also be listed
in tradecrm.documents.pdf.PDF_LABELS, because makemessages does not read custom tags.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from babel.numbers import format_decimal
from django import template
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, pgettext

from tradecrm.core.money import currency_precision, format_money, money_locale

register = template.Library()


def _mode(context) -> str:
    mode = context.get("pdf_language")
    if mode in ("en", "zh-hans", "bilingual"):
        return mode
    return "zh-hans" if (translation.get_language() or "").lower().startswith("zh") else "en"


def _lookup(msgid: str, msgctxt: str | None) -> str:
    return pgettext(msgctxt, msgid) if msgctxt else gettext(msgid)


def bilingual_label(msgid: str, mode: str, msgctxt: str | None = None) -> str:
    with translation.override("zh-hans" if mode == "zh-hans" else "en"):
        label = _lookup(msgid, msgctxt)
    if mode != "bilingual":
        return label
    with translation.override("zh-hans"):
        chinese = _lookup(msgid, msgctxt)
    # Not translated yet: print the English label once, not twice.
    return label if chinese == label else f"{label} {chinese}"


@register.simple_tag(takes_context=True)
def bi(context, msgid: str, msgctxt: str | None = None) -> str:
    # Escaped here: a literal msgid arrives marked safe, and gettext keeps that mark for an
    # untranslated label; labels are text.
    return escape(bilingual_label(msgid, _mode(context), msgctxt))


# --- numbers and dates ---------------------------------------------------------------------------


def _decimal(value) -> Decimal | None:
    """Decimal from a Decimal, int or numeric string (snapshots store strings); None if empty."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def _plain(d: Decimal) -> Decimal:
    """No trailing zeros and no exponent: Decimal("1200.000") → 1200, Decimal("12.50") → 12.5."""
    d = d.normalize()
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d


@register.filter
def money(value, currency: str = "") -> str:
    """An amount with its currency, rounded to the currency's minor unit ("$8,313.00", "US$8,313.00"
    in Chinese): for totals. Unit prices with more decimals: `money_number`."""
    d = _decimal(value)
    if d is None:
        return ""
    if not currency:
        return money_number(d)
    return format_money(d, str(currency).upper())


@register.filter
def money_number(value, currency: str = "") -> str:
    """The number only, with at least the currency's decimals and more when the amount has them
    (unit price 0.0325 USD → "0.0325", 1.5 → "1.50"; JPY 1200 → "1,200")."""
    d = _decimal(value)
    if d is None:
        return ""
    places = currency_precision(str(currency).upper()) if currency else 2
    pattern = "#,##0." + "0" * places if places else "#,##0"
    return format_decimal(_plain(d), format=pattern, locale=money_locale(), decimal_quantization=False)


@register.filter
def qty(value) -> str:
    """A quantity, weight or volume: "1,200", "12.5", "0.0625" (no trailing zeros)."""
    d = _decimal(value)
    if d is None:
        return ""
    return format_decimal(_plain(d), format="#,##0.###", locale=money_locale(), decimal_quantization=False)


@register.filter
def nonzero(value) -> bool:
    """True for a number other than zero: snapshot strings like "0.00" are truthy in templates."""
    d = _decimal(value)
    return d is not None and d != 0


@register.filter
def day(value) -> str:
    """A date as YYYY-MM-DD (unambiguous for buyers everywhere), from a date or an ISO string."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            return value
    return ""


# --- CSS strings --------------------------------------------------------------------------------

_CSS_SPECIAL = re.compile(r'[\\"<>\n\r\x0c]')


def css_quote(text: str) -> str:
    """`text` as a double-quoted CSS string that cannot end the string nor the <style> element."""

    def esc(m: re.Match) -> str:
        ch = m.group(0)
        return "\\" + ch if ch in '\\"' else f"\\{ord(ch):x} "

    return '"' + _CSS_SPECIAL.sub(esc, str(text)) + '"'


@register.filter
def css_string(value) -> str:
    return mark_safe(css_quote("" if value is None else value))


_PLACEHOLDER = re.compile(r"%\((page|pages)\)s")


def _counter_css(pattern: str) -> str:
    parts = []
    pos = 0
    for m in _PLACEHOLDER.finditer(pattern):
        if m.start() > pos:
            parts.append(css_quote(pattern[pos : m.start()]))
        parts.append(f"counter({m.group(1)})")
        pos = m.end()
    if pos < len(pattern):
        parts.append(css_quote(pattern[pos:]))
    return " ".join(parts)


@register.simple_tag(takes_context=True)
def page_counter(context) -> str:
    """A CSS `content` value printing "Page 1 of 2" (translated; both languages when bilingual)."""
    mode = _mode(context)
    if mode == "zh-hans":
        with translation.override("zh-hans"):
            return mark_safe(_counter_css(gettext("Page %(page)s of %(pages)s")))
    with translation.override("en"):
        css = _counter_css(gettext("Page %(page)s of %(pages)s"))
    if mode == "bilingual":
        with translation.override("zh-hans"):
            zh = gettext("Page %(page)s of %(pages)s")
        if zh != "Page %(page)s of %(pages)s":
            css += ' "   " ' + _counter_css(zh)
    return mark_safe(css)
