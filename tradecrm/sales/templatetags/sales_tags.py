"""Template helpers of the sales app.

{% load sales_tags %}
{{ stage|label }}            a stage, pipeline or loss reason's name as shown (translated while unrenamed)
{{ seconds|duration }}       "3 d 4 h", "5 h 10 min"
{{ total|money_total }}      a board/forecast total in the base currency, plus what had no rate
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from tradecrm.core.templatetags.money import money

from ..defaults import display_name

register = template.Library()


@register.filter
def label(obj) -> str:
    return display_name(obj) if obj is not None else ""


@register.filter
def duration(seconds) -> str:
    if seconds is None or seconds == "":
        return "—"
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)d min") % {"minutes": minutes}


@register.filter
def money_total(total) -> str:
    """`Money` (selectors): the converted amount, then each currency that had no rate."""
    if total is None:
        return ""
    main = money(total.amount, total.base) if total.amount or not total.unconverted else ""
    if not total.unconverted:
        return main
    extra = format_html_join(
        " ", '<span class="text-warning" title="{}">+ {}</span>',
        ((_("No exchange rate to %(base)s") % {"base": total.base}, money(v, c)) for c, v in total.unconverted.items()),
    )  # fmt: skip
    return format_html("{} {}", main, extra) if main else extra


@register.filter
def qty(value) -> str:
    """A quantity or price without trailing zeros: 1000.000 → 1000, 2.500 → 2.5."""
    if value is None or value == "":
        return ""
    try:
        return f"{value.normalize():f}"
    except AttributeError:
        return str(value)
