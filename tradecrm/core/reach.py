"""When to reach a customer: the overlap of their office hours with the rep's working hours, and
the public holidays of their country.

Everything is computed on aware datetimes from the IANA zones (zoneinfo), never with fixed
offsets, so windows are right across daylight-saving changes and in +5:30 / +5:45 zones. Weekends
come from CLDR week data (tradecrm.core.geo), holidays from the `holidays` package, cached per
(country, year, language). No database access: the company page calls this for free.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as holidays_lib
from django.conf import settings
from django.utils import timezone as djtz

from tradecrm.core import geo


def zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return None


@functools.cache
def _country_of_zone_map() -> dict[str, str]:
    out: dict[str, str] = {}
    for country in geo.country_codes():
        for z in geo.zones_for_country(country):
            out.setdefault(z, country)
    return out


def country_of_zone(tz_name: str) -> str:
    """The country an IANA zone belongs to (Asia/Shanghai -> CN); "" for UTC and the like."""
    return _country_of_zone_map().get(tz_name or "", "")


def field(obj, name: str):
    """A company's (or user's) attribute, also from a `.values()` row (a dict)."""
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def office_hours(company) -> tuple[time, time]:
    start, end = field(company, "office_start"), field(company, "office_end")
    if start and end:
        return start, end
    start_h, end_h = settings.TRADECRM_DEFAULT_OFFICE_HOURS
    return (start or time(start_h), end or time(end_h))


# --- public holidays ----------------------------------------------------------------------------


def _holiday_language(country_cls, language: str | None) -> str | None:
    """The `holidays` language closest to the user's: Simplified Chinese for zh-hans where the
    country has it, else English, else the country's own default (None)."""
    supported = tuple(getattr(country_cls, "supported_languages", ()) or ())
    wanted = ["zh_CN"] if (language or "").lower().startswith("zh") else []
    wanted += ["en_US", "en_GB", "en"]
    for code in wanted:
        if code in supported:
            return code
    for code in supported:
        if code.startswith("en"):
            return code
    return None


@functools.lru_cache(maxsize=512)
def _holidays_of(country: str, year: int, language: str) -> dict[date, str]:
    country = (country or "").upper()
    if len(country) != 2:
        return {}
    cls = getattr(holidays_lib, country, None)
    if cls is None:
        return {}
    try:
        table = holidays_lib.country_holidays(country, years=year, language=_holiday_language(cls, language))
    except (NotImplementedError, KeyError, ValueError):
        return {}
    return dict(table.items())


def _lang_key(language: str | None) -> str:
    return "zh" if (language or "").lower().startswith("zh") else "en"


def holiday_name(country: str, day: date, language: str | None = "en") -> str:
    """The name of the public holiday on `day` in `country`, "" when it is a working day."""
    return _holidays_of(country, day.year, _lang_key(language)).get(day, "")


def is_holiday(country: str, day: date) -> bool:
    return bool(_holidays_of(country, day.year, "en").get(day))


def holidays_ahead(
    country: str, start_date: date, days: int = 14, language: str | None = "en"
) -> list[tuple]:
    """[(date, name)] of the public holidays in the `days` days from `start_date` (inclusive);
    [] for an unknown or unsupported country."""
    if not country:
        return []
    end = start_date + timedelta(days=days)
    lang = _lang_key(language)
    out = []
    for year in range(start_date.year, end.year + 1):
        out.extend((d, n) for d, n in _holidays_of(country, year, lang).items() if start_date <= d < end)
    return sorted(out)


# --- best time to reach -------------------------------------------------------------------------


def _interval(day: date, start: time, end: time, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """A local working interval on `day` as UTC instants; an end at or before the start means the
    interval runs past midnight (a night shift)."""
    a = datetime.combine(day, start, tzinfo=tz)
    b = datetime.combine(day + timedelta(days=1) if end <= start else day, end, tzinfo=tz)
    return a.astimezone(UTC), b.astimezone(UTC)


def best_times(company, user, now: datetime | None = None, days: int = 7, limit: int = 3) -> list[dict]:
    """The next windows (at most `limit`, within the customer's next `days` local days, today
    included) in which the customer's office is open — not a weekend or public holiday in their
    country — while the user is at work (their hours in their zone, their weekends skipped).

    Each window: start/end (UTC), customer_start/customer_end (customer's local time),
    my_start/my_end (the user's local time), minutes. [] when either zone is unknown."""
    ctz, utz = zone(company.timezone), zone(getattr(user, "timezone", ""))
    if ctz is None or utz is None:
        return []
    now = (now or djtz.now()).astimezone(UTC)
    o_start, o_end = office_hours(company)
    today = now.astimezone(ctz).date()
    office = []
    for i in range(days):
        d = today + timedelta(days=i)
        if geo.is_weekend(company.country, d.weekday()) or is_holiday(company.country, d):
            continue
        office.append(_interval(d, o_start, o_end, ctz))
    if not office:
        return []
    u_country = country_of_zone(user.timezone)
    w_start, w_end = user.work_start or time(9), user.work_end or time(18)
    first = office[0][0].astimezone(utz).date() - timedelta(days=1)
    last = office[-1][1].astimezone(utz).date()
    work = []
    d = first
    while d <= last:
        if not geo.is_weekend(u_country, d.weekday()):
            work.append(_interval(d, w_start, w_end, utz))
        d += timedelta(days=1)
    windows = []
    for oa, ob in office:
        for wa, wb in work:
            a, b = max(oa, wa, now), min(ob, wb)
            if b > a:
                windows.append((a, b))
    windows.sort()
    return [
        {
            "start": a,
            "end": b,
            "customer_start": a.astimezone(ctz),
            "customer_end": b.astimezone(ctz),
            "my_start": a.astimezone(utz),
            "my_end": b.astimezone(utz),
            "minutes": int((b - a).total_seconds() // 60),
            "now": a == now,
        }
        for a, b in windows[:limit]
    ]


def customer_time_at(company, when: datetime, language: str | None = "en") -> dict | None:
    """The customer's local time at the instant `when`, whether their office is open then
    (within / outside / weekend / holiday) and the holiday's name. None when the zone is unknown."""
    ctz = zone(field(company, "timezone"))
    if ctz is None or when is None:
        return None
    country = field(company, "country") or ""
    if djtz.is_naive(when):
        when = djtz.make_aware(when)
    local = when.astimezone(ctz)
    start, end = office_hours(company)
    holiday = holiday_name(country, local.date(), language)
    weekend = geo.is_weekend(country, local.weekday())
    t = local.time().replace(tzinfo=None)
    inside = start <= t < end if start < end else (t >= start or t < end)
    if weekend:
        state = "weekend"
    elif holiday:
        state = "holiday"
    elif inside:
        state = "within"
    else:
        state = "outside"
    return {"local": local, "state": state, "holiday": holiday, "start": start, "end": end}
