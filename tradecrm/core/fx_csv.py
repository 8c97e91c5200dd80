"""Reading exchange rates from a CSV file, without touching the database.

Two layouts:

- long: one rate per row, columns `date, base, quote, rate[, source]` in any order (names in any
  case, or 日期, 基准货币, 报价货币, 汇率, 来源). Without a `base` column every row is quoted
  against the base currency given with the file.
- wide: the first column holds the date, every other column is a currency code, each cell the
  rate of 1 base (given with the file) in that currency, like the ECB reference-rate files
  (`Date,USD,JPY,…` with EUR as base). Empty and "N/A" cells are skipped.

Text may be UTF-8 (with or without BOM), GB18030 (Excel on Chinese Windows) or UTF-16 (Excel's
"Unicode text"); fields separated by commas, semicolons or tabs. Row numbers are the ones a
spreadsheet shows: the header is row 1.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal

from babel import Locale
from django.utils.translation import gettext as _

from tradecrm.core import fx_validation as v
from tradecrm.core.money import is_currency

MAX_ERRORS = 200  # listed one by one; the rest are counted

HEADERS = {
    "date": "date", "日期": "date",
    "base": "base", "base currency": "base", "base_currency": "base", "基准货币": "base",
    "quote": "quote", "quote currency": "quote", "quote_currency": "quote", "报价货币": "quote",
    "rate": "rate", "汇率": "rate",
    "source": "source", "来源": "source",
}  # fmt: skip
EMPTY_CELLS = frozenset({"", "n/a", "na", "#n/a", "-", "—", "nan"})


@dataclass(frozen=True)
class ParsedRate:
    row: int
    date: dt.date
    base: str
    quote: str
    rate: Decimal
    source: str


@dataclass
class ParsedFile:
    layout: str = ""  # "long" | "wide"
    rates: list[ParsedRate] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error_count: int = 0

    def error(self, row: int | None, column: str | None, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"row": row, "field": column, "message": str(message)})

    def finish(self) -> ParsedFile:
        hidden = self.error_count - len(self.errors)
        if hidden > 0:
            self.errors.append(
                {"row": None, "field": None, "message": _("… and %(n)d more errors.") % {"n": hidden}}
            )
        return self


def decode(data: bytes) -> str:
    """UTF-8 (BOM or not), UTF-16 with BOM, else GB18030; ValueError when none fits."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ValueError from None


def _delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _historic_currency(code: str) -> bool:
    """A withdrawn currency CLDR still names (CYP, LVL, TRL… in the ECB's history file)."""
    return len(code) == 3 and code.isalpha() and code in Locale("en").currencies


def parse_rates_csv(data: bytes, *, filename: str = "", base: str | None = None) -> ParsedFile:
    out = ParsedFile()
    try:
        text = decode(data)
    except ValueError:
        out.error(None, "file", _("The file is not text in UTF-8 or GB18030: save it as “CSV UTF-8”."))
        return out.finish()
    if "\x00" in text:
        out.error(None, "file", _("This is not a CSV file (it contains binary data)."))
        return out.finish()
    if base:
        try:
            base = v.currency_code(base)
        except v.FieldProblem as exc:
            out.error(None, "base", str(exc))
            return out.finish()
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        header = []
    except csv.Error as exc:
        out.error(1, "file", _("The CSV file cannot be read: %(reason)s") % {"reason": exc})
        return out.finish()
    names = [h.strip().strip("\ufeff").lower() for h in header]
    if not any(names):
        out.error(None, "file", _("The file is empty."))
        return out.finish()
    source = v.rate_source(f"CSV {filename}"[: v.SOURCE_MAX], default="CSV")
    columns = {HEADERS[n]: i for i, n in reversed(list(enumerate(names))) if n in HEADERS}
    decimal_comma = delimiter != ","
    try:
        if {"date", "quote", "rate"} <= columns.keys():
            out.layout = "long"
            if "base" not in columns and not base:
                out.error(
                    1, "base",
                    _("The file has no “base” column: choose the currency its rates are quoted against."),
                )  # fmt: skip
                return out.finish()
            _read_long(reader, columns, base, source, decimal_comma, out)
        else:
            out.layout = "wide"
            _read_wide(reader, header, base, source, decimal_comma, out)
    except csv.Error as exc:
        out.error(reader.line_num, "file", _("The CSV file cannot be read: %(reason)s") % {"reason": exc})
    if not out.rates and not out.error_count:
        out.error(None, "file", _("The file holds no rates."))
    return out.finish()


class _Seen:
    """Refuses a second rate of the same pair and day in one file (which one would be meant?)."""

    def __init__(self) -> None:
        self.rows: dict[tuple, int] = {}

    def check(self, out: ParsedFile, rate: ParsedRate, column: str) -> bool:
        key = (rate.base, rate.quote, rate.date)
        first = self.rows.setdefault(key, rate.row)
        if first != rate.row:
            out.error(
                rate.row,
                column,
                _("%(base)s→%(quote)s on %(date)s is on row %(first)d already.")
                % {"base": rate.base, "quote": rate.quote, "date": rate.date.isoformat(), "first": first},
            )
            return False
        return True


def _cell(record: list[str], index: int | None) -> str:
    if index is None or index >= len(record):
        return ""
    return record[index].strip()


def _read_long(reader, columns: dict[str, int], base, source, decimal_comma, out: ParsedFile) -> None:
    seen = _Seen()
    for row, record in enumerate(reader, start=2):
        if not any(c.strip() for c in record):
            continue
        values: dict = {}
        bad = False
        for name, parse in (("date", v.rate_date), ("base", v.currency_code), ("quote", v.currency_code)):
            raw = _cell(record, columns.get(name)) if name in columns else base
            try:
                values[name] = parse(raw)
            except v.FieldProblem as exc:
                out.error(row, name, str(exc))
                bad = True
        try:
            values["rate"] = v.rate_value(_cell(record, columns["rate"]), decimal_comma)
        except v.FieldProblem as exc:
            out.error(row, "rate", str(exc))
            bad = True
        try:
            values["source"] = v.rate_source(_cell(record, columns.get("source")), default=source)
        except v.FieldProblem as exc:
            out.error(row, "source", str(exc))
            bad = True
        if not bad and values["base"] == values["quote"]:
            out.error(row, "quote", _("The quote currency must differ from the base currency."))
            bad = True
        if bad:
            continue
        rate = ParsedRate(row=row, **values)
        if seen.check(out, rate, "date"):
            out.rates.append(rate)


def _read_wide(reader, header: list[str], base, source, decimal_comma, out: ParsedFile) -> None:
    codes: dict[int, str] = {}
    unnamed: set[int] = set()
    for i, raw in enumerate(header[1:], start=1):
        name = raw.strip().strip("\ufeff")
        code = name.upper()
        if not name:
            unnamed.add(i)  # the ECB files end every line with a comma
        elif is_currency(code):
            codes[i] = code
        elif _historic_currency(code):
            out.warnings.append(
                _("Column %(code)s skipped: not a current ISO 4217 currency.") % {"code": code}
            )
        else:
            out.error(
                1,
                name,
                _(
                    "“%(name)s” is not a currency code. Name the columns date, base, quote, rate (one "
                    "rate per row), or put the date first and one column per currency (ISO 4217, e.g. USD)."
                )
                % {"name": name[:40]},
            )
    if out.error_count:
        return
    if not codes:
        out.error(
            1,
            "file",
            _(
                "The first row must name the columns: date, base, quote, rate (one rate per row), or "
                "a date column followed by one column per currency code."
            ),
        )
        return
    if not base:
        out.error(
            None,
            "base",
            _(
                "The file has one column per currency: choose the currency they are quoted against "
                "(EUR for the ECB reference rates)."
            ),
        )
        return
    date_column = header[0].strip() or "date"
    seen = _Seen()
    for row, record in enumerate(reader, start=2):
        if not any(c.strip() for c in record):
            continue
        try:
            day = v.rate_date(_cell(record, 0))
        except v.FieldProblem as exc:
            out.error(row, date_column, str(exc))
            continue
        for i in unnamed:
            if _cell(record, i).lower() not in EMPTY_CELLS:
                out.error(row, f"column {i + 1}", _("This column has no currency code in the first row."))
        for i, code in codes.items():
            raw = _cell(record, i)
            if raw.lower() in EMPTY_CELLS:
                continue
            if code == base:
                out.error(row, code, _("The quote currency must differ from the base currency."))
                continue
            try:
                value = v.rate_value(raw, decimal_comma)
            except v.FieldProblem as exc:
                out.error(row, code, str(exc))
                continue
            rate = ParsedRate(row=row, date=day, base=base, quote=code, rate=value, source=source)
            if seen.check(out, rate, code):
                out.rates.append(rate)
