"""Countries, currencies, languages, time zones and office hours, from pycountry, babel and tzdata.

Nothing here is hand-written data except what no library offers (which zone a city name points to
is read from the IANA zone names themselves).
"""

from __future__ import annotations

import functools
import unicodedata
from datetime import datetime, time
from importlib import resources
from zoneinfo import ZoneInfo, available_timezones

import phonenumbers
import pycountry
from babel import Locale, UnknownLocaleError
from babel.core import get_global
from phonenumbers import timezone as phone_tz


def _babel_locale(language: str | None) -> Locale:
    return Locale.parse("zh_Hans" if (language or "").lower().startswith("zh") else "en")


@functools.cache
def country_codes() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


@functools.cache
def country_choices(language: str = "en") -> list[tuple[str, str]]:
    names = _babel_locale(language).territories
    rows = [(code, names.get(code) or pycountry.countries.get(alpha_2=code).name) for code in country_codes()]
    return sorted(rows, key=lambda r: r[1])


def country_name(code: str, language: str = "en") -> str:
    if not code:
        return ""
    return _babel_locale(language).territories.get(code, code)


@functools.cache
def currency_codes() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.currencies)


@functools.cache
def currency_choices(language: str = "en") -> list[tuple[str, str]]:
    names = _babel_locale(language).currencies
    return sorted(((c, f"{c} · {names.get(c, c)}") for c in currency_codes()), key=lambda r: r[0])


# Languages a buyer may prefer: the ones exporters actually correspond in.
LANGUAGE_CODES = ("en", "zh", "es", "fr", "de", "ru", "ar", "pt", "it", "ja", "ko", "tr", "vi", "th", "id", "ms", "pl", "nl", "hi", "fa", "he", "uk")


@functools.cache
def language_choices(language: str = "en") -> list[tuple[str, str]]:
    names = _babel_locale(language).languages
    return [(c, names.get(c, c)) for c in LANGUAGE_CODES]


@functools.cache
def timezone_names() -> frozenset[str]:
    return frozenset(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/", "right/"))) | {"UTC"}


@functools.cache
def _zones_by_country() -> dict[str, list[str]]:
    """Country -> IANA zones, in the order of tzdata's zone.tab (main zone first)."""
    text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text()
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        out.setdefault(parts[0], []).append(parts[2])
    return out


def zones_for_country(country: str) -> list[str]:
    return list(_zones_by_country().get((country or "").upper(), []))


def _fold(s: str) -> str:
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in s if ch.isalnum())


def infer_timezone(country: str = "", city: str = "", phone_e164: str = "") -> str:
    """Best IANA zone for a customer: city named in a zone of the country, then the phone
    number's area, then the country's main zone. Empty when nothing is known."""
    zones = zones_for_country(country)
    if city and zones:
        key = _fold(city)
        for z in zones:
            if key and _fold(z.rsplit("/", 1)[-1]) == key:
                return z
    if phone_e164:
        try:
            num = phonenumbers.parse(phone_e164, None)
            cands = [z for z in phone_tz.time_zones_for_number(num) if z in timezone_names()]
            if len(cands) == 1 or (cands and not zones):
                return cands[0]
            if cands and zones:
                inter = [z for z in cands if z in zones]
                if len(inter) == 1:
                    return inter[0]
        except phonenumbers.NumberParseException:
            pass
    if zones:
        return zones[0]
    return ""


@functools.cache
def _weekend(country: str) -> tuple[int, int]:
    """Weekend days (0=Mon) for a territory from CLDR week data (Fri/Sat in Saudi Arabia, ...)."""
    for lang in get_global("territory_languages").get(country, {}):
        try:
            loc = Locale(lang, territory=country)
        except (ValueError, LookupError, UnknownLocaleError):
            continue
        return int(loc.weekend_start), int(loc.weekend_end)
    return 5, 6


def is_weekend(country: str, weekday: int) -> bool:
    s, e = _weekend(country or "001")
    if s <= e:
        return s <= weekday <= e
    return weekday >= s or weekday <= e


def local_now(tz_name: str, now: datetime | None = None) -> datetime | None:
    if not tz_name:
        return None
    try:
        zone = ZoneInfo(tz_name)
    except (KeyError, ValueError):
        return None
    from django.utils import timezone as djtz

    return (now or djtz.now()).astimezone(zone)


def office_state(
    tz_name: str, country: str, start: time | None, end: time | None, now: datetime | None = None
) -> dict | None:
    """Local time of a customer and whether it is within office hours now."""
    local = local_now(tz_name, now)
    if local is None:
        return None
    start = start or time(9, 0)
    end = end or time(18, 0)
    weekend = is_weekend(country, local.weekday())
    within = (not weekend) and start <= local.time() < end
    return {"local": local, "within": within, "weekend": weekend, "start": start, "end": end,
            "utc_offset": local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:]}
