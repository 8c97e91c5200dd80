"""Cell values as people type them into spreadsheets: dates in every order and language, numbers
with thousands separators, currency signs and decimal commas; formulas refused on the way in and
neutralised on the way out (CSV injection).

Each parser raises ValueError with a translated message that names the value and says why; the
importer prefixes it with the row and column.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

MIN_YEAR, MAX_YEAR = 1900, 2200
EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01, with Excel's phantom 1900-02-29
EXCEL_SERIAL_MIN, EXCEL_SERIAL_MAX = 1, 109574  # 1900-01-01 … 2199-12-31

_MONTHS = {
    # English, then German, French, Spanish, Italian, Portuguese, Dutch abbreviations people type
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
    "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
    "januar": 1, "februar": 2, "märz": 3, "maerz": 3, "mär": 3, "mai": 5, "juni": 6, "juli": 7, "okt": 10,
    "oktober": 10, "dez": 12, "dezember": 12,
    "janv": 1, "janvier": 1, "févr": 2, "fevr": 2, "février": 2, "fevrier": 2, "mars": 3, "avr": 4,
    "avril": 4, "juin": 6, "juil": 7, "juillet": 7, "août": 8, "aout": 8, "déc": 12, "décembre": 12,
    "ene": 1, "enero": 1, "febrero": 2, "marzo": 3, "abr": 4, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "ago": 8, "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "dic": 12,
    "diciembre": 12,
}  # fmt: skip
_MONTH_RE = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))

_TIME_TAIL = re.compile(
    r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[ap]\.?m\.?)?\s*(?:z|[+-]\d{2}:?\d{2})?)$", re.I
)
_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DMY = re.compile(r"^(\d{1,2})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{2}|\d{4})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL = re.compile(r"^\d{1,6}(?:\.\d+)?$")
_D_MON_Y = re.compile(
    rf"^(\d{{1,2}})(?:st|nd|rd|th)?[\s\-/.]*({_MONTH_RE})\.?,?[\s\-/.]*(\d{{2}}|\d{{4}})$", re.I
)
_MON_D_Y = re.compile(
    rf"^({_MONTH_RE})\.?[\s\-/.]*(\d{{1,2}})(?:st|nd|rd|th)?,?[\s\-/.]+(\d{{2}}|\d{{4}})$", re.I
)
_Y_MON_D = re.compile(rf"^(\d{{4}})[\s\-/.]*({_MONTH_RE})\.?[\s\-/.]*(\d{{1,2}})$", re.I)
_WEEKDAY = re.compile(
    r"^(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?,?\s+|^(?:星期|周)[一二三四五六日天]\s*", re.I
)  # fmt: skip


def _clean(raw) -> str:
    return unicodedata.normalize("NFKC", str(raw if raw is not None else "")).strip()


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:  # as strptime's %y: 69–99 → 1900s, 00–68 → 2000s
        year += 1900 if year >= 69 else 2000
    return year


def _make(raw: str, year: int, month: int, day: int) -> dt.date:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(_("“%(value)s”: the year %(year)d is not plausible.") % {"value": raw, "year": year})
    if not 1 <= month <= 12:
        raise ValueError(
            _("“%(value)s” is not a date: there is no month %(month)d.") % {"value": raw, "month": month}
        )
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(
            _("“%(value)s” is not a date: that month has no day %(day)d.") % {"value": raw, "day": day}
        ) from None


def excel_serial_date(serial: float) -> dt.date:
    """Excel's day number (1900 date system) → date; 60 is Excel's phantom 29 February 1900."""
    days = int(serial)
    if days == 60:
        raise ValueError(_("“60” is Excel's day 29 February 1900, which never existed."))
    if days < 60:
        days += 1
    return EXCEL_EPOCH + dt.timedelta(days=days)


def parse_date(raw: str, *, day_first: bool | None = None) -> dt.date:
    """A date as people write it: 2024-03-05, 2024/3/5, 2024年3月5日, 20240305, 05.03.2024,
    05/03/2024 (day first unless `day_first` is False; a day above 12 settles it either way),
    5-Mar-24, "Mar 5, 2024", "5 March 2024", ISO with a time, and Excel serial numbers ("45356").
    Raises ValueError saying why."""
    text = _clean(raw)
    if not text:
        raise ValueError(_("The date is empty."))
    shown = str(raw).strip()[:40]
    text = _WEEKDAY.sub("", text)
    text = _TIME_TAIL.sub("", text).strip() or text
    text = text.rstrip(".,").strip()
    m = _YMD.match(text)
    if m:
        return _make(shown, int(m[1]), int(m[2]), int(m[3]))
    m = _COMPACT.match(text)
    if m:
        return _make(shown, int(m[1]), int(m[2]), int(m[3]))
    m = _DMY.match(text)
    if m:
        a, sep, b, year = int(m[1]), m[2], int(m[3]), _year(m[4])
        if a > 12 and b <= 12:
            day, month = a, b
        elif b > 12 and a <= 12:
            month, day = a, b
        elif day_first is False and sep != ".":
            month, day = a, b
        else:  # dots are always day first (05.03.2024); so is most of the world
            day, month = a, b
        return _make(shown, year, month, day)
    m = _D_MON_Y.match(text)
    if m:
        return _make(shown, _year(m[3]), _MONTHS[m[2].lower()], int(m[1]))
    m = _MON_D_Y.match(text)
    if m:
        return _make(shown, _year(m[3]), _MONTHS[m[1].lower()], int(m[2]))
    m = _Y_MON_D.match(text)
    if m:
        return _make(shown, int(m[1]), _MONTHS[m[2].lower()], int(m[3]))
    if _SERIAL.match(text):
        serial = float(text)
        if "." not in text and len(text) == 4 and MIN_YEAR <= int(text) <= MAX_YEAR:
            # a year alone, far likelier than an Excel day number of 1905–1927
            raise ValueError(_("“%(value)s” is only a year: give the day and month too.") % {"value": shown})
        if not EXCEL_SERIAL_MIN <= serial <= EXCEL_SERIAL_MAX:
            raise ValueError(_("“%(value)s” is not a date.") % {"value": shown})
        return excel_serial_date(serial)
    raise ValueError(_("“%(value)s” is not a date we can read; write it as 2024-03-05.") % {"value": shown})


def detect_day_first(values: Iterable[str]) -> bool | None:
    """From a column's values: True when some date has a day above 12 in the first place
    (31/01/2024), False when in the second (01/31/2024), None when every one is ambiguous or
    the column says both."""
    first = second = False
    for raw in values:
        m = _DMY.match(_TIME_TAIL.sub("", _clean(raw)).strip())
        if not m:
            continue
        a, b = int(m[1]), int(m[3])
        first |= a > 12 >= b
        second |= b > 12 >= a
        if first and second:
            return None
    if first:
        return True
    if second:
        return False
    return None


# --- numbers ----------------------------------------------------------------------------------------

_CURRENCY = re.compile(
    r"(?i)^(?:usd|us\$|eur|cny|rmb|gbp|jpy|hkd|aud|cad|chf|inr|rub|krw|sgd|aed|brl|mxn|try|zar|"
    r"[$€¥£₹₽₩₺]|r\$|元|人民币|美元|欧元)\s*|\s*(?:usd|eur|cny|rmb|gbp|jpy|hkd|[$€¥£₹₽₩]|元|人民币|美元|欧元)$"
)
_GROUP_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$", re.I)
_SPREADSHEET_ERRORS = (
    "#N/A",
    "#VALUE!",
    "#REF!",
    "#DIV/0!",
    "#NUM!",
    "#NAME?",
    "#NULL!",
    "#SPILL!",
    "#CALC!",
)


def parse_decimal(raw: str) -> Decimal:
    """A number as people write it: "1,234.50", "1.234,50", "1 234,5", "1'234.50", "USD 1,200",
    "¥1200", "12%" (→ 12), "(1,234.50)" (→ -1234.50), "1.2E+5". Raises ValueError saying why."""
    shown = str(raw if raw is not None else "").strip()[:40]
    text = _clean(raw)
    if not text:
        raise ValueError(_("The number is empty."))
    if text.upper() in _SPREADSHEET_ERRORS:
        raise ValueError(_("“%(value)s” is a spreadsheet error, not a number.") % {"value": shown})
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    text = text.replace("−", "-")  # the minus sign U+2212
    if text.endswith("-") and not text.startswith("-"):
        negative, text = True, text[:-1].strip()  # "1234-" as some ledgers print it
    if text.startswith("-"):
        negative, text = not negative, text[1:].strip()
    elif text.startswith("+"):
        text = text[1:].strip()
    for _i in range(2):
        text = _CURRENCY.sub("", text).strip()
    text = text.removesuffix("%").strip()
    if text.startswith("-"):  # "USD -12"
        negative, text = not negative, text[1:].strip()
    text = _GROUP_SPACES.sub("", text)
    text = _separators(text, shown)
    if not _NUMBER.match(text):
        raise ValueError(_("“%(value)s” is not a number.") % {"value": shown})
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(_("“%(value)s” is not a number.") % {"value": shown}) from None
    if not value.is_finite():
        raise ValueError(_("“%(value)s” is not a number.") % {"value": shown})
    return -value if negative else value


def _grouped(integer: str) -> bool:
    """Thousands groups: 1,234,567 (and the Indian 12,34,567): the last group 3 digits, the
    ones before it 2 or 3, the first 1 to 3."""
    groups = integer.split("|")
    return (
        1 <= len(groups[0]) <= 3
        and len(groups[-1]) == 3
        and all(len(g) in (2, 3) for g in groups[1:-1])
        and all(g.isdigit() for g in groups)
    )


def _separators(text: str, shown: str) -> str:
    """Decide which of "," and "." is the decimal separator and drop the thousands ones."""
    bad = ValueError(_("“%(value)s” is not a number.") % {"value": shown})
    commas, dots = text.count(","), text.count(".")
    if commas and dots:
        decimal, group = (",", ".") if text.rfind(",") > text.rfind(".") else (".", ",")
        integer, _sep, fraction = text.rpartition(decimal)
        if decimal in integer or not _grouped(integer.replace(group, "|")):
            raise bad
        return integer.replace(group, "") + "." + fraction
    if commas:
        head, _sep, tail = text.rpartition(",")
        if commas > 1 or (len(tail) == 3 and head.isdigit() and head != "0" and len(head) <= 3):
            # 1,234,567 and 1,234: thousands, as trade documents write them
            if not _grouped(text.replace(",", "|")):
                raise bad
            return text.replace(",", "")
        return text.replace(",", ".")  # 1,5 and 0,234: a decimal comma
    if dots > 1:  # 1.234.567
        if not _grouped(text.replace(".", "|")):
            raise bad
        return text.replace(".", "")
    return text


# --- formulas ---------------------------------------------------------------------------------------

_PHONE_OR_NUMBER = re.compile(r"^[+-]?[\d\s().\-/,]*\d[\d\s().\-/,]*(?:\s*(?:x|ext\.?|#)\s*\d+)?$", re.I)
_FUNCTION = re.compile(r"^[+\-@]?\s*[A-Za-z_][A-Za-z0-9_.]*\s*\(")
_CELL_MATH = re.compile(r"^[+\-]\s*\$?[A-Za-z]{1,3}\$?\d+\s*(?:[+\-*/^&]|$)")
_DDE = re.compile(r"\|.*!")


def formula_error(raw: str) -> str | None:
    """A message when the cell is a spreadsheet formula (=HYPERLINK(…), =1+2, +cmd|' /C calc'!A0,
    @SUM(…), -2+3+cmd|…); None for text that only starts like one: "-", "+49 30 1234567",
    "-12.5", "@acme_buyer", "- see notes"."""
    text = str(raw if raw is not None else "").lstrip(" \t\r\n")
    if not text:
        return None
    first = text[0]
    formula = False
    if first == "=":
        formula = len(text) > 1 and text.strip("= ") != ""
    elif first in "+-@":
        rest = text[1:]
        if first in "+-" and (not rest.strip() or _PHONE_OR_NUMBER.match(text)):
            formula = False
        elif _DDE.search(text) or _FUNCTION.match(text) or _CELL_MATH.match(text):
            formula = True
        elif first in "+-" and re.match(r"^[+-][\d.]+\s*[+\-*/^]\s*[\d.A-Za-z]", text):
            formula = True  # -2+3…
    if not formula:
        return None
    shown = text if len(text) <= 40 else text[:39] + "…"
    return _(
        "“%(value)s” is a spreadsheet formula, not a value: formulas are not imported. "
        "Paste the cell's value instead (Paste special → Values)."
    ) % {"value": shown}


_INJECTION_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize_cell(value):
    """For exports: a text starting with = + - @ TAB or CR gets a leading "'" so a spreadsheet
    program shows it as text instead of running it (CSV injection). Other values are returned
    as they are."""
    if isinstance(value, str) and value.startswith(_INJECTION_STARTS):
        return "'" + value
    return value
