"""Exports: any filtered list as CSV or XLSX, streamed in constant memory, for the people allowed to.

One path for every list (customers, contacts, products, inquiries, opportunities, quotations,
proforma invoices, orders, customs records), used by the web UI, the API and the CLI:

- **the same filters as the list page**: the query parameters of each list page are parsed into
  that app's own filter dataclass (`CompanyFilters`, `OrderFilters`…) and the rows come from that
  app's own selector (`company_filter`, `order_list`, …), so visibility (`scope_companies` and the
  rules built on it) and every filter mean exactly what they mean on the page. Bad filter values
  are refused with the parameter named, not silently dropped.
- **constant memory**: rows are read in keyset pages of `PAGE_SIZE` as `.values()` dicts (never
  the whole list), written out and dropped. CSV is generated as the pages arrive; XLSX goes through
  xlsxwriter's `constant_memory` mode into a temporary file that is then streamed.
- **who**: `accounts.access.can_export` (managers and administrators; sales reps when an
  administrator allowed it), else 403. Cost columns (purchase cost, rebates, document costs) only
  for `can_see_costs`.
- **CSV injection**: a text cell starting with = + - @ TAB or CR is written with a leading `'` in
  CSV; in XLSX every text is a typed string (never a formula) and such cells also get Excel's
  "quote prefix" style, so the value itself stays intact and Excel will not turn it into a
  formula when the cell is edited.
- **round trip**: headers are the model fields' verbose names in the user's language plus "ID",
  which the importer recognises; products use the catalogue's own column headers, which its
  importer reads back unchanged. CSV is UTF-8 with a BOM so that Excel opens Chinese correctly.
- **audit**: one `export` audit event per export with who, what, which filters, the format, the
  number of rows and whether the file was delivered whole.

Rows come in a stable order that does not change while a long export runs (by ID for customers,
contacts and customs records, by SKU for products, newest first by creation or date for the
others), so a record edited during an export is neither missed nor repeated.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import xlsxwriter
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext_lazy, override
from django.utils.translation import gettext as _

from tradecrm.accounts.access import can_export, can_reveal, can_see_costs
from tradecrm.audit.services import audit_record
from tradecrm.core import geo
from tradecrm.core.ids import parse_id
from tradecrm.core.paging import Sort, keyset_page
from tradecrm.imports.values import neutralize_cell

if TYPE_CHECKING:
    from .export_lists import Entity

PAGE_SIZE = 2000  # rows per read: big enough to keep per-query overhead small, ids fit in one IN (…)
XLSX_SHEET_ROWS = 1_048_576  # Excel's limit per sheet, header included; more rows go on further sheets
CHUNK_BYTES = 256 * 1024  # what one streamed piece holds
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")
_BOOL_WORDS = {"zh-hans": ("是", "否")}  # the catalogue's importer reads these and yes/no


def quote_prefixed(text: str) -> bool:
    """Whether a text would run as a formula in a spreadsheet program (what `neutralize_cell`
    guards against in CSV)."""
    return neutralize_cell(text) is not text


# --- the system actor (CLI without --as) ---------------------------------------------------------


@dataclass
class SystemUser:
    """Who exports from the command line without --as: everything is visible, like an administrator,
    and the audit event has no actor."""

    pk: None = None
    id: None = None
    username: str = "system"
    role: str = "admin"
    team_id: None = None
    is_admin: bool = True
    is_superuser: bool = True
    is_manager: bool = False
    is_authenticated: bool = True
    is_active: bool = True
    can_export: bool = True
    language: str = field(default_factory=lambda: settings.LANGUAGE_CODE)
    timezone: str = field(default_factory=lambda: settings.TIME_ZONE)

    def __str__(self) -> str:
        return "system"


# --- columns ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str  # the key of the value in the row dict (a `.values()` path or one a reader adds)
    header: Any  # str or lazy translation
    kind: str = "text"  # text | number | date | datetime | time | bool | choice | country | list
    choices: tuple = ()  # (code, label) pairs for kind "choice"
    costs: bool = False  # only for users who may see costs

    @property
    def path(self) -> str | None:
        """The `.values()` path to read, None for a value a reader adds itself."""
        return None if self.key.startswith("_") else self.key


def _resolve(model, path: str) -> models.Field:
    parts = path.split("__")
    for part in parts[:-1]:
        model = model._meta.get_field(part).related_model
    return model._meta.get_field(parts[-1])


def _foreign_key(model, path: str) -> models.ForeignKey | None:
    """The foreign key whose id column `path` is ("company_id" → company), else None."""
    if not path.endswith("_id") or "__" in path:
        return None
    try:
        f = model._meta.get_field(path[:-3])
    except FieldDoesNotExist:
        return None
    return f if isinstance(f, models.ForeignKey) else None


def _kind_of(f: models.Field, path: str) -> str:
    if f.choices:
        return "choice"
    if isinstance(f, models.JSONField):
        return "list"
    if isinstance(f, models.DateTimeField):
        return "datetime"
    if isinstance(f, models.DateField):
        return "date"
    if isinstance(f, models.TimeField):
        return "time"
    if isinstance(f, models.BooleanField):
        return "bool"
    if isinstance(f, models.DecimalField | models.IntegerField | models.FloatField):
        return "number"
    if path.endswith("country") and getattr(f, "max_length", None) == 2:
        return "country"
    return "text"


ID = gettext_lazy("ID")
CREATED = gettext_lazy("Created at")
UPDATED = gettext_lazy("Last changed at")


def fcol(model, path: str, header=None, *, kind: str = "", costs: bool = False) -> Column:
    """A column of a model field (or a field across relations, "company__name"), headed by its
    verbose name and typed by its field class; "company_id" is headed "<Customer> ID"."""
    if path == "id":
        return Column("id", ID, "number")
    fk = _foreign_key(model, path)
    if fk is not None:
        label = header or IdHeader(fk.verbose_name)
        return Column(path, label, "number", costs=costs)
    f = _resolve(model, path)
    if header is None:
        if path == "created_at":
            header = CREATED
        elif path == "updated_at":
            header = UPDATED
        elif "__" in path:
            # "owner__username" is the owner; "company__name" the customer
            header = CapHeader(model._meta.get_field(path.split("__")[0]).verbose_name)
        else:
            header = CapHeader(f.verbose_name)
    kind = kind or _kind_of(f, path)
    choices = tuple(f.choices) if kind == "choice" else ()
    return Column(path, header, kind, choices, costs)


class CapHeader:
    """A lazily translated verbose name with a capital first letter."""

    def __init__(self, text):
        self.text = text

    def __str__(self) -> str:
        return capfirst(str(self.text))


class IdHeader(CapHeader):
    def __str__(self) -> str:
        return _("%(name)s ID") % {"name": capfirst(str(self.text))}


# --- filters: query parameters → the list page's filter dataclass ---------------------------------


class Params:
    """The query parameters of an export, read like the list page reads them; every bad value is
    collected with its parameter's name and reported together."""

    def __init__(self, raw: Mapping[str, Any], user):
        self.raw = raw
        self.user = user
        self.errors: dict[str, list[str]] = {}
        self.used: dict[str, str] = {}

    def text(self, name: str, limit: int = 200) -> str:
        value = self.raw.get(name)
        value = "" if value is None else str(value).replace("\x00", "").strip()[:limit]
        if value:
            self.used[name] = value
        return value

    def first(self, *names: str) -> tuple[str, str]:
        for name in names:
            value = self.text(name)
            if value:
                return name, value
        return names[0], ""

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def id(self, *names: str) -> int | None:
        name, value = self.first(*names)
        if not value:
            return None
        number = parse_id(value)
        if number is None:
            self.error(name, _("Enter a whole number (an id)."))
        return number

    def choice(self, name: str, choices) -> str:
        value = self.text(name, 40)
        valid = [str(c[0]) for c in choices if c[0]]
        if value and value not in valid:
            self.error(
                name,
                _("“%(value)s” is not one of the available choices: %(choices)s.")
                % {"value": value, "choices": ", ".join(valid)},
            )
            return ""
        return value

    def date(self, name: str) -> dt.date | None:
        value = self.text(name, 40)
        if not value:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.error(name, _("Enter a date as YYYY-MM-DD."))
            return None

    def month(self, name: str) -> dt.date | None:
        value = self.text(name, 40)
        if not value:
            return None
        try:
            if len(value) != 7:
                raise ValueError(value)
            return dt.date.fromisoformat(value + "-01")
        except ValueError:
            self.error(name, _("Enter a month as YYYY-MM."))
            return None

    def country(self, name: str = "country") -> str:
        value = self.text(name, 60).upper()
        if value and value not in geo.country_codes():
            self.error(name, _("Enter a two-letter country code such as DE or CN."))
            return ""
        return value

    def flag(self, name: str) -> bool:
        value = self.text(name, 5).lower()
        if value in ("", "0", "false", "no"):
            return False
        if value in ("1", "true", "yes"):
            return True
        self.error(name, _("Enter 1 or 0."))
        return False

    def owner(self, name: str = "owner") -> int | None:
        """ "me", a user id or a username."""
        from tradecrm.accounts.models import User

        value = self.text(name, 150)
        if not value:
            return None
        if value == "me":
            if getattr(self.user, "pk", None) is None:
                self.error(name, _("“me” needs a user: export as someone (--as)."))
            return self.user.pk
        number = parse_id(value)
        if number is not None:
            return number
        found = User.objects.filter(username=value).values_list("pk", flat=True).first()
        if found is None:
            self.error(name, _("There is no user “%(name)s”.") % {"name": value})
        return found

    def tag(self, name: str = "tag") -> int | None:
        """A tag id or a tag name the user sees."""
        from tradecrm.customers.selectors import tags_for_user

        value = self.text(name, 50)
        if not value:
            return None
        number = parse_id(value)
        if number is not None:
            return number
        ids = list(tags_for_user(self.user).filter(name__iexact=value).values_list("pk", flat=True)[:2])
        if len(ids) == 1:
            return ids[0]
        if not ids:
            self.error(name, _("There is no tag “%(name)s”.") % {"name": value})
        else:
            self.error(name, _("Several tags are named “%(name)s”; give its id.") % {"name": value})
        return None

    def check(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


# --- reading ---------------------------------------------------------------------------------------


def pages_by_id(qs, fields: list[str], size: int) -> Iterator[list[dict]]:
    """Keyset pages in id order: `id > last ORDER BY id LIMIT size`, one query a page, a short
    page ends it (no empty query after it)."""
    last = 0
    while True:
        rows = list(qs.filter(id__gt=last).order_by("id").values(*fields)[:size])
        if rows:
            yield rows
            last = rows[-1]["id"]
        if len(rows) < size:
            return


def pages_by_sort(qs, sort: Sort, fields: list[str], size: int) -> Iterator[list[dict]]:
    """Keyset pages in the order of `sort` (tradecrm.core.paging)."""
    fields = list(dict.fromkeys([*fields, sort.field]))
    cursor = None
    while True:
        rows, cursor, _prev = keyset_page(qs, sort, cursor, size, tuple(fields))
        if rows:
            yield rows
        if not cursor:
            return


def pages_by_list(list_fn, user, filters, model, fields: list[str], size: int) -> Iterator[list[dict]]:
    """Keyset pages through a list page's own selector (its filters, its visibility, its order),
    following its cursor; the export's columns are then read for that page's ids in one query."""
    cursor = None
    while True:
        listed, cursor, _prev = list_fn(user, filters, cursor=cursor, limit=size)
        ids = [r["id"] for r in listed]
        if ids:
            by_id = {r["id"]: r for r in model._base_manager.filter(id__in=ids).values(*fields)}
            yield [by_id[i] for i in ids if i in by_id]  # a row deleted meanwhile is left out
        if not cursor:
            return


# --- the lists (defined in export_lists) -----------------------------------------------------------

ENTITY_KEYS = ("companies", "contacts", "products", "inquiries", "opportunities", "quotations", "proformas",
               "orders", "customs")  # fmt: skip
_ENTITIES: dict | None = None


def entities() -> dict:
    """{key: export_lists.Entity}, built on first use (the list modules import every app's models)."""
    global _ENTITIES
    if _ENTITIES is None:
        from .export_lists import build_entities

        _ENTITIES = build_entities()
    return _ENTITIES


def entity_get(key: str):
    try:
        return entities()[key]
    except KeyError:
        raise ValidationError(
            {
                "entity": [
                    _("Unknown list “%(key)s”; one of: %(keys)s.")
                    % {"key": key, "keys": ", ".join(ENTITY_KEYS)}
                ]
            }
        ) from None


# --- cells -----------------------------------------------------------------------------------------


@dataclass
class _Context:
    language: str
    tz: ZoneInfo
    countries: dict[str, str]
    yes: str
    no: str


def _csv_formatter(col: Column, ctx: _Context) -> Callable[[Any], str]:
    """value → the CSV cell text, neutralized."""
    kind = col.kind
    if kind == "number":
        return lambda v: "" if v is None else (_plain(v) if isinstance(v, Decimal) else str(v))
    if kind == "date":
        return lambda v: "" if v is None else v.isoformat()
    if kind == "datetime":
        tz = ctx.tz
        return lambda v: "" if v is None else f"{v.astimezone(tz):%Y-%m-%d %H:%M:%S}"
    if kind == "time":
        return lambda v: "" if v is None else f"{v:%H:%M}"
    if kind == "bool":
        yes, no = ctx.yes, ctx.no
        return lambda v: "" if v is None else (yes if v else no)
    if kind == "choice":
        labels = {str(k): neutralize_cell(str(label)) for k, label in col.choices}
        return lambda v: labels.get(str(v), neutralize_cell(str(v))) if v not in (None, "") else ""
    if kind == "country":
        names = ctx.countries
        return lambda v: names.get(v, v) if v else ""
    if kind == "list":
        return lambda v: neutralize_cell("; ".join(str(x) for x in v if x not in (None, ""))) if v else ""
    return lambda v: "" if v is None else neutralize_cell(str(v))


def _plain(number: Decimal) -> str:
    """A Decimal without an exponent or trailing zeros: 20.00 → "20", 0.0500 → "0.05"."""
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _xlsx_writer(col: Column, ctx: _Context, fmt: dict) -> Callable[[Any, int, int, Any], None]:
    """value → a typed cell: numbers as numbers, dates as dates, text as strings (never formulas)."""
    kind = col.kind
    quoted = fmt["quoted"]

    def text(ws, r, c, s: str):
        if s:
            ws.write_string(r, c, s, quoted if quote_prefixed(s) else None)

    if kind == "number":

        def number(ws, r, c, v):
            if v is not None:
                ws.write_number(r, c, float(v))

        return number
    if kind == "date":
        date_fmt = fmt["date"]

        def date(ws, r, c, v):
            if v is not None:
                ws.write_datetime(r, c, dt.datetime(v.year, v.month, v.day), date_fmt)

        return date
    if kind == "datetime":
        tz, dt_fmt = ctx.tz, fmt["datetime"]

        def datetime_(ws, r, c, v):
            if v is not None:
                ws.write_datetime(r, c, v.astimezone(tz).replace(tzinfo=None), dt_fmt)

        return datetime_
    if kind == "time":
        t_fmt = fmt["time"]

        def time_(ws, r, c, v):
            if v is not None:
                ws.write_datetime(r, c, v, t_fmt)

        return time_
    if kind == "bool":

        def boolean(ws, r, c, v):
            if v is not None:
                ws.write_boolean(r, c, bool(v))

        return boolean
    if kind == "choice":
        labels = {str(k): str(label) for k, label in col.choices}
        return lambda ws, r, c, v: text(ws, r, c, labels.get(str(v), str(v)) if v not in (None, "") else "")
    if kind == "country":
        names = ctx.countries
        return lambda ws, r, c, v: text(ws, r, c, names.get(v, v) if v else "")
    if kind == "list":
        return lambda ws, r, c, v: text(
            ws, r, c, "; ".join(str(x) for x in v if x not in (None, "")) if v else ""
        )
    return lambda ws, r, c, v: text(ws, r, c, "" if v is None else str(v))


class _CSVBuffer:
    """What csv.writer writes into: the text of the rows since the last `take`."""

    def __init__(self):
        self.parts: list[str] = []
        self.size = 0

    def write(self, s: str) -> None:
        self.parts.append(s)
        self.size += len(s)

    def take(self) -> bytes:
        data = "".join(self.parts).encode("utf-8")
        self.parts.clear()
        self.size = 0
        return data


def _tmp_dir() -> Path:
    """Where an XLSX is built before it is sent: under the data directory, on disk (/tmp is often
    a RAM disk, which would undo the constant memory). While the file is built the sheet's XML
    sits there uncompressed (measured: 168 MB for 100,000 customers, 34 columns; the XLSX itself
    is 28 MB); it is removed afterwards."""
    path = Path(settings.DATA_DIR) / "tmp" / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sheet_name(label: str, n: int) -> str:
    name = "".join(ch for ch in label if ch not in "[]:*?/\\")[:28] or "Export"
    return name if n == 1 else f"{name} ({n})"


# --- the export ------------------------------------------------------------------------------------


@dataclass
class Export:
    """One export, checked and ready: permission, filters and columns are settled when it is made
    (so refusals come before the first byte); the file is produced by `chunks()` or `write_to()`."""

    actor: Any
    entity: Entity
    fmt: str
    filters: Any
    used_params: dict
    columns: list[Column]
    headers: list[str]
    language: str
    tz: ZoneInfo
    via: str
    page_size: int = PAGE_SIZE
    mask: tuple[str, ...] = ()  # keys of phones and emails to mask (customers.masking)
    rows: int = 0
    _done: bool = False
    _reader: Iterator[list[dict]] | None = None
    _first: list[dict] | None = None

    @property
    def content_type(self) -> str:
        return CSV_CONTENT_TYPE if self.fmt == "csv" else XLSX_CONTENT_TYPE

    @property
    def filename(self) -> str:
        return f"{self.entity.key}-{timezone.localtime(timezone.now(), self.tz):%Y%m%d-%H%M}.{self.fmt}"

    def _context(self) -> _Context:
        yes, no = _BOOL_WORDS.get(self.language, ("yes", "no"))
        return _Context(self.language, self.tz, dict(geo.country_choices(self.language)), yes, no)

    def start(self) -> None:
        """Read the first page now, so that what the selectors refuse (a customer filter the actor
        cannot see: Http404) is refused before the response starts, not in the middle of it."""
        fields = list(dict.fromkeys(["id", *(c.path for c in self.columns if c.path)]))
        self._reader = iter(self.entity.read(self.actor, self.filters, fields, self.page_size))
        self._first = next(self._reader, None)

    def _pages(self) -> Iterator[list[dict]]:
        if self._reader is None:
            self.start()
        first, self._first = self._first, None
        if first is not None:
            yield self._masked(first)
            for page in self._reader:
                yield self._masked(page)

    def _masked(self, rows: list[dict]) -> list[dict]:
        if self.mask:
            from tradecrm.customers.masking import mask_rows

            mask_rows(rows, self.mask)
        return rows

    # CSV ---------------------------------------------------------------------------------------

    def _csv_chunks(self) -> Iterator[bytes]:
        with override(self.language):
            ctx = self._context()
            formatters = [(c.key, _csv_formatter(c, ctx)) for c in self.columns]
            buf = _CSVBuffer()
            writer = csv.writer(buf)
            buf.write("\ufeff")  # Excel reads UTF-8 (and so Chinese) only with the BOM
            writer.writerow([neutralize_cell(h) for h in self.headers])
            for rows in self._pages():
                writer.writerows([[fmt(r[key]) for key, fmt in formatters] for r in rows])
                self.rows += len(rows)
                if buf.size >= CHUNK_BYTES:
                    yield buf.take()
            yield buf.take()

    # XLSX --------------------------------------------------------------------------------------

    def _write_xlsx(self, target: str) -> None:
        with override(self.language):
            ctx = self._context()
            book = xlsxwriter.Workbook(
                target,
                {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                 "strings_to_urls": False, "tmpdir": str(_tmp_dir())},
            )  # fmt: skip
            fmt = {
                "header": book.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1}),
                "quoted": book.add_format({"quote_prefix": True}),
                "date": book.add_format({"num_format": "yyyy-mm-dd"}),
                "datetime": book.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
                "time": book.add_format({"num_format": "hh:mm"}),
            }
            writers = [(c.key, _xlsx_writer(c, ctx, fmt)) for c in self.columns]
            label = str(self.entity.label)
            sheets = 0
            ws = None
            row = XLSX_SHEET_ROWS  # start a sheet on the first row
            try:
                for rows in self._pages():
                    for r in rows:
                        if row >= XLSX_SHEET_ROWS:
                            if ws is not None:
                                ws.autofilter(0, 0, row - 1, len(self.columns) - 1)
                            sheets += 1
                            ws = self._new_sheet(book, _sheet_name(label, sheets), fmt["header"])
                            row = 1
                        for c, (key, write) in enumerate(writers):
                            write(ws, row, c, r[key])
                        row += 1
                    self.rows += len(rows)
                if ws is None:
                    ws = self._new_sheet(book, _sheet_name(label, 1), fmt["header"])
                    row = 1
                ws.autofilter(0, 0, max(row - 1, 1), len(self.columns) - 1)
            finally:
                book.close()

    def _new_sheet(self, book, name: str, header_fmt):
        ws = book.add_worksheet(name)
        for i, (col, header) in enumerate(zip(self.columns, self.headers, strict=True)):
            width = 40 if col.key in _WIDE else 20 if col.kind in ("datetime", "list") else 14
            ws.set_column(i, i, max(width, min(len(header) + 2, 40)))
            ws.write_string(0, i, header, header_fmt)
        ws.freeze_panes(1, 0)
        return ws

    # out -----------------------------------------------------------------------------------------

    def chunks(self) -> Iterator[bytes]:
        """The file as a stream of bytes; the audit event is written when it ends (or is cut off)."""
        complete = False
        try:
            if self.fmt == "csv":
                yield from self._csv_chunks()
            else:
                fd, path = tempfile.mkstemp(prefix="export-", suffix=".xlsx", dir=_tmp_dir())
                os.close(fd)
                try:
                    self._write_xlsx(path)
                    with open(path, "rb") as fh:
                        while piece := fh.read(CHUNK_BYTES):
                            yield piece
                finally:
                    Path(path).unlink(missing_ok=True)
            complete = True
        finally:
            self._record(complete)

    def write_to(self, path: Path) -> int:
        """Write the file to `path` (the CLI); returns the number of rows."""
        complete = False
        try:
            if self.fmt == "csv":
                with open(path, "wb") as fh:
                    for piece in self._csv_chunks():
                        fh.write(piece)
            else:
                self._write_xlsx(str(path))
            complete = True
        finally:
            self._record(complete)
        return self.rows

    def _record(self, complete: bool) -> None:
        if self._done:
            return
        self._done = True
        audit_record(
            actor=self.actor,
            action="export",
            object_type=self.entity.model._meta.label_lower,
            changes={
                "entity": self.entity.key,
                "format": self.fmt,
                "filters": self.used_params,
                "rows": self.rows,
                "complete": complete,
                "via": self.via,
            },
        )


_WIDE = {"name", "address", "main_products", "notes", "message", "description", "product_description",
         "importer_name", "exporter_name", "company__name", "name_en", "specification"}  # fmt: skip


def _mask_keys(actor, columns: list[Column]) -> tuple[str, ...]:
    """The phone and email columns, masked for a user whose role may not see them in full."""
    if can_reveal(actor):
        return ()
    from tradecrm.customers.masking import MASKED_KEYS

    return tuple(c.key for c in columns if c.key in MASKED_KEYS)


def export_prepare(
    *, actor, entity: str, fmt: str, params: Mapping[str, Any], via: str = "web", language: str = "",
    page_size: int = PAGE_SIZE,
) -> Export:  # fmt: skip
    """Check and settle an export of the list `entity` filtered by `params` (the list page's query
    parameters) in `fmt` ("csv" or "xlsx"). PermissionDenied without the export permission;
    ValidationError naming the parameter for an unknown list, format or filter value; Http404 for
    a customer filter the actor cannot see. Only the first page is read here."""
    if not can_export(actor):
        raise PermissionDenied(
            _("You may not export lists. An administrator can give you the export permission.")
        )
    spec = entity_get(entity)
    fmt = (fmt or "").lower()
    if fmt not in FORMATS:
        raise ValidationError({"format": [_("Choose csv or xlsx.")]})
    p = Params(params, actor)
    filters = spec.parse(p)
    p.check()
    costs = can_see_costs(actor)
    columns = [c for c in spec.columns(actor) if costs or not c.costs]
    language = language or getattr(actor, "language", "") or get_language() or settings.LANGUAGE_CODE
    with override(language):
        headers = [str(c.header) for c in columns]
    try:
        tz = ZoneInfo(getattr(actor, "timezone", "") or settings.TIME_ZONE)
    except (ValueError, KeyError):
        tz = ZoneInfo("UTC")
    export = Export(
        actor=actor, entity=spec, fmt=fmt, filters=filters, used_params=p.used, columns=columns,
        headers=headers, language=language, tz=tz, via=via, page_size=page_size,
        mask=_mask_keys(actor, columns),
    )  # fmt: skip
    export.start()
    return export
