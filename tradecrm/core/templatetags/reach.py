"""Template tags for reaching customers across time zones.

    {% load reach %}
    {% reach_panel company user %}          best time to reach + coming public holidays
    {% customer_time_at company when %}     the customer's local time at `when`, office state, holiday

Neither touches the database: they read the company's and the user's own fields only.
"""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import dateformat
from django.utils import timezone as djtz
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tradecrm.core import geo, reach

register = template.Library()

PANEL_DAYS = 7
HOLIDAY_DAYS = 14


@register.inclusion_tag("core/_reach_panel_body.html")
def reach_panel(company, user, now: datetime | None = None):
    language = get_language() or "en"
    ctz = reach.zone(company.timezone)
    now = now or djtz.now()
    local_today = now.astimezone(ctz).date() if ctz else now.date()
    start, end = reach.office_hours(company)
    return {
        "company": company,
        "zone_known": ctz is not None and reach.zone(getattr(user, "timezone", "")) is not None,
        "windows": reach.best_times(company, user, now, days=PANEL_DAYS, limit=3),
        "days": PANEL_DAYS,
        "holiday_days": HOLIDAY_DAYS,
        "holidays": reach.holidays_ahead(company.country, local_today, HOLIDAY_DAYS, language),
        "country_name": geo.country_name(company.country, language),
        "office_start": start,
        "office_end": end,
        "work_start": getattr(user, "work_start", None),
        "work_end": getattr(user, "work_end", None),
    }


_BADGES = {
    "within": "bg-green-lt",
    "outside": "bg-orange-lt",
    "weekend": "bg-secondary-lt",
    "holiday": "bg-red-lt",
}


def _state_label(state: str) -> str:
    return {
        "within": _("Within office hours"),
        "outside": _("Outside office hours"),
        "weekend": _("Weekend"),
        "holiday": _("Public holiday"),
    }[state]


@register.simple_tag
def customer_time_at(company, when):
    """`Tue 14:30 customer time` with a badge for within / outside office hours / weekend, and a
    warning when that local day is a public holiday in the customer's country. Empty when the
    customer's zone is unknown. `company` may be a Company or a dict with its timezone, country,
    office_start and office_end."""
    info = reach.customer_time_at(company, when, get_language() or "en")
    if info is None:
        return ""
    local = info["local"]
    html = format_html(
        '<span class="customer-time" title="{}">{} {}</span> <span class="badge {} customer-time-state" '
        'data-state="{}">{}</span>',
        f"{reach.field(company, 'timezone')} · UTC{local.strftime('%z')[:3]}:{local.strftime('%z')[3:]}",
        dateformat.format(local, "D H:i"),
        _("customer time"),
        _BADGES[info["state"]],
        info["state"],
        _state_label(info["state"]) if info["state"] != "holiday" else _("Office closed"),
    )
    if info["holiday"]:
        html += format_html(
            ' <span class="badge bg-red-lt customer-holiday">{}</span>',
            _("Public holiday: %(name)s") % {"name": info["holiday"]},
        )
    return mark_safe(html)
