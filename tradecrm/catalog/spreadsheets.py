"""Products and price lists in and out of spreadsheets: XLSX export (xlsxwriter), XLSX/XLS/ODS
import (python-calamine) and CSV import.

Import in two phases, like every importer here: every row is read and validated first (errors
"row N, column X: reason", with N the row number the spreadsheet program shows); if any row is
bad nothing is written. Otherwise, unless it is a dry run, everything is written in one
transaction with one audit event. Products are matched by SKU, ignoring case (the stored
spelling of a matched SKU is kept): a row is
*created*, *updated* or *unchanged*; importing the same file twice leaves everything unchanged
the second time, and an exported file imported back changes nothing.

The header row may sit below title rows (the first 30 rows are searched for it) and may be in
English or Chinese (货号, 英文品名, 中文品名, 规格, 海关编码, 单位, 起订量, 装箱数, 外箱尺寸, 毛重,
净重, 体积, 采购价, 增值税率, 退税率, 供应商, 分类…). Columns present are applied, empty cells
clear their field; columns absent are left alone (so a sales rep's export, without the cost
columns, does not wipe costs when a manager imports it back). Unknown columns are listed as
ignored.
"""

from __future__ import annotations

import codecs
import copy
import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import IO, Any

import python_calamine
import xlsxwriter
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.audit.services import audit_record
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.core.uploads import human_size

from .models import PriceList, PriceListItem, Product
from .selectors import price_list_items, sees_costs
from .services import _apply_cbm, product_search_text, require_catalog_editor
from .validation import COST_FIELDS, PERCENT_FIELDS, clean_price, clean_product, plain

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
HEADER_SEARCH_ROWS = 30
PREVIEW_ROWS = 200
MAX_ERRORS = 500
SPREADSHEET_EXTENSIONS = ("xlsx", "xlsm", "xls", "xlsb", "ods")


@dataclass(frozen=True)
class Column:
    field: str
    header: str  # the English header written on export
    aliases: tuple[str, ...] = ()
    kind: str = "text"  # text | number | bool


PRODUCT_COLUMNS = (
    Column("sku", "SKU", ("货号", "产品货号", "产品编号", "产品编码", "编号", "item no", "item number", "item code",
                          "product code", "article no", "art no")),
    Column("name_en", "Name (English)", ("name", "英文品名", "英文名称", "英文名", "english name", "product name",
                                         "name en")),
    Column("name_zh", "Name (Chinese)", ("中文品名", "中文名称", "中文名", "chinese name", "name zh", "name cn")),
    Column("specification", "Specification", ("spec", "specs", "specifications", "规格", "规格型号", "型号规格")),
    Column("description", "Description", ("描述", "产品描述", "说明")),
    Column("category", "Category", ("分类", "类别", "产品分类", "品类")),
    Column("hs_code", "HS code", ("hs", "hscode", "hs编码", "海关编码", "商品编码", "海关商品编码", "税则号",
                                  "tariff code")),
    Column("unit", "Unit", ("单位", "计量单位", "uom")),
    Column("moq", "MOQ", ("起订量", "最小起订量", "minimum order quantity", "min order quantity")),
    Column("units_per_carton", "Units per carton", ("装箱数", "每箱数量", "装箱量", "每箱个数", "pcs per carton",
                                                    "pcs/ctn", "qty/ctn", "qty per carton", "packing qty"),
           "number"),
    Column("carton_length_cm", "Carton length (cm)", ("length", "长", "箱长", "外箱长", "外箱长度"), "number"),
    Column("carton_width_cm", "Carton width (cm)", ("width", "宽", "箱宽", "外箱宽", "外箱宽度"), "number"),
    Column("carton_height_cm", "Carton height (cm)", ("height", "高", "箱高", "外箱高", "外箱高度"), "number"),
    Column("carton_gross_weight_kg", "Gross weight per carton (kg)", ("gross weight", "gw", "g.w.", "毛重",
                                                                      "单箱毛重", "每箱毛重"), "number"),
    Column("carton_net_weight_kg", "Net weight per carton (kg)", ("net weight", "nw", "n.w.", "净重", "单箱净重",
                                                                  "每箱净重"), "number"),
    Column("carton_cbm", "CBM per carton", ("cbm", "volume", "体积", "单箱体积", "每箱体积", "volume per carton",
                                            "立方"), "number"),
    Column("packing_notes", "Packing notes", ("packing", "包装", "包装方式", "包装说明")),
    Column("purchase_cost_cny", "Purchase cost (CNY)", ("cost", "purchase cost", "purchase price", "采购价",
                                                        "成本价", "成本", "进价", "采购单价"), "number"),
    Column("vat_rate", "VAT rate (%)", ("vat", "增值税率", "增值税", "税率"), "number"),
    Column("tax_rebate_rate", "Export tax-rebate rate (%)", ("rebate", "tax rebate", "rebate rate", "退税率",
                                                             "出口退税率"), "number"),
    Column("supplier", "Supplier", ("factory", "供应商", "工厂", "厂家", "生产厂家")),
    Column("active", "Active", ("是否有效", "有效", "启用", "状态"), "bool"),
)  # fmt: skip
# "60×40×35" in one column instead of three
CARTON_SIZE = Column("carton_size", "Carton size (cm)", ("carton size", "carton dimensions", "meas", "measurement",
                                                         "外箱尺寸", "纸箱尺寸", "外箱规格", "箱规尺寸"))  # fmt: skip
PRICE_COLUMNS = (
    Column("sku", "SKU", PRODUCT_COLUMNS[0].aliases),
    Column("name_en", "Name (English)", PRODUCT_COLUMNS[1].aliases),
    Column("min_quantity", "From quantity", ("min quantity", "minimum quantity", "min qty", "quantity from",
                                             "qty from", "起订数量", "起始数量", "最小数量", "数量"), "number"),
    Column("unit_price", "Unit price", ("price", "单价", "价格", "售价", "报价"), "number"),
)  # fmt: skip

_KEY_DROP = re.compile(r"[\s()\[\]{}【】:：*_\-./,，%#'\"]+")
_UNIT_SUFFIXES = ("kgs", "kg", "cm", "mm", "cny", "rmb", "元", "m3", "usd", "eur", "pcs")
_SIZE_SPLIT = re.compile(r"\s*[x×X*✕✖/,]\s*")


def header_key(text: Any) -> str:
    return _KEY_DROP.sub("", unicodedata.normalize("NFKC", str(text or "")).lower())


def _alias_map(columns: Iterable[Column]) -> dict[str, Column]:
    out: dict[str, Column] = {}
    for col in columns:
        for name in (col.field, col.header, *col.aliases):
            out.setdefault(header_key(name), col)
    return out


def match_header(text: Any, aliases: dict[str, Column]) -> Column | None:
    key = header_key(text)
    if not key:
        return None
    if key in aliases:
        return aliases[key]
    for suffix in _UNIT_SUFFIXES:  # "毛重(KG)", "采购价（元）", "Price (USD)"
        if key.endswith(suffix) and key[: -len(suffix)] in aliases:
            return aliases[key[: -len(suffix)]]
    return None


# --- reading ------------------------------------------------------------------------------------


def _read_bytes(file) -> bytes:
    if isinstance(file, bytes | bytearray):
        data = bytes(file)
    else:
        if hasattr(file, "seek"):
            file.seek(0)
        data = file.read(MAX_FILE_BYTES + 1)
        if isinstance(data, str):
            data = data.encode()
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError(
            {"file": [_("The file is larger than %(limit)s.") % {"limit": human_size(MAX_FILE_BYTES)}]}
        )
    return data


def _decode_csv(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Excel on a Chinese Windows saves CSV in GB18030 (GBK)
        return data.decode("gb18030", errors="replace")


def read_rows(file, filename: str = "") -> list[list[Any]]:
    """The cells of the first sheet (or of the CSV), from row 1 / column A."""
    data = _read_bytes(file)
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    looks_binary = data[:2] == b"PK" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    if ext in SPREADSHEET_EXTENSIONS or (ext not in ("csv", "txt", "tsv") and looks_binary):
        try:
            book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
            return book.get_sheet_by_index(0).to_python(skip_empty_area=False)
        except Exception:  # calamine raises several types for damaged or foreign files
            raise ValidationError(
                {
                    "file": [
                        _("“%(name)s” could not be read as a spreadsheet (XLSX, XLS or ODS).")
                        % {"name": filename}
                    ]
                }
            ) from None
    text = _decode_csv(data)
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    return [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass
class Table:
    header_row: int  # 1-based
    columns: dict[int, Column]  # cell index → column
    headers: dict[str, str]  # field → the header text in the file
    ignored: list[str]
    rows: list[tuple[int, list[Any]]]  # (row number, cells)


def find_table(rows: list[list[Any]], columns: Iterable[Column], *, required: str = "sku", extra=()) -> Table:
    """The header row (the first of the first 30 rows with the `required` column and another
    known one) and the data rows below it, empty rows left out."""
    aliases = _alias_map([*columns, *extra])
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found: dict[int, Column] = {}
        for i, cell in enumerate(cells):
            col = match_header(cell, aliases) if isinstance(cell, str) else None
            if col is not None and col.field not in {c.field for c in found.values()}:
                found[i] = col
        if any(c.field == required for c in found.values()) and len(found) >= 2:
            headers = {col.field: str(cells[i]).strip() for i, col in found.items()}
            ignored = [str(c).strip() for i, c in enumerate(cells) if i not in found and not _blank(c)]
            data = []
            for n, row in enumerate(rows[index + 1 :], start=index + 2):
                if any(not _blank(row[i]) for i in found if i < len(row)):
                    data.append((n, row))
            return Table(index + 1, found, headers, ignored, data)
    names = ", ".join(a for a in ("SKU", "货号"))
    raise ValidationError(
        {
            "file": [
                _(
                    "No header row found: none of the first %(n)d rows has a %(names)s column and another known column."
                )
                % {"n": HEADER_SEARCH_ROWS, "names": names}
            ]
        }
    )


def _cells(table: Table, row: list[Any]) -> dict[str, Any]:
    return {col.field: (row[i] if i < len(row) else "") for i, col in table.columns.items()}


def parse_carton_size(value: Any) -> tuple[str, str, str]:
    """ "60×40×35", "60*40*35 cm", "60 x 40 x 35" → ("60", "40", "35"). Raises ValueError."""
    text = unicodedata.normalize("NFKC", str(value)).strip().lower().removesuffix("cm").strip()
    parts = _SIZE_SPLIT.split(text)
    if len(parts) != 3 or not all(parts):
        raise ValueError(text)
    return parts[0], parts[1], parts[2]


# --- results ------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    file_name: str = ""
    dry_run: bool = False
    header_row: int = 0
    columns: list[str] = field(default_factory=list)  # the headers recognised
    ignored_columns: list[str] = field(default_factory=list)
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict] = field(default_factory=list)  # {row, column, message}; row None: the file
    preview: list[dict] = field(default_factory=list)  # {row, sku, name, status, changes}

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def describe_error(error: dict) -> str:
    """“row 12, column HS code: …” (or “column …”, or the message alone)."""
    if error.get("row") is not None:
        return _("row %(row)d, column %(column)s: %(message)s") % {
            "row": error["row"],
            "column": error.get("column") or "",
            "message": error["message"],
        }
    if error.get("column"):
        return _("column %(column)s: %(message)s") % {"column": error["column"], "message": error["message"]}
    return str(error["message"])


def _add_errors(
    result: ImportResult, row: int, exc: ValidationError, headers: dict[str, str], labels: dict
) -> None:
    for fld, messages in exc.message_dict.items():
        column = headers.get(fld) or labels.get(fld, fld)
        for message in messages:
            if len(result.errors) < MAX_ERRORS:
                result.errors.append({"row": row, "column": column, "message": message})


# --- products: import ---------------------------------------------------------------------------

_PRODUCT_LABELS = {c.field: c.header for c in PRODUCT_COLUMNS}
_TRACKED = tuple(c.field for c in PRODUCT_COLUMNS)


def _product_values(cells: dict[str, Any]) -> dict[str, Any]:
    """Raw cell values → the data dict clean_product reads (carton size split, percentages of
    a percent-formatted cell (0.13) read as 13)."""
    data: dict[str, Any] = {}
    for fld, value in cells.items():
        if fld == "carton_size":
            continue
        if isinstance(value, str):
            value = value.strip()
        if fld in PERCENT_FIELDS and isinstance(value, float) and 0 < value < 1:
            value = round(value * 100, 6)
        data[fld] = value
    return data


def _load_existing(skus: list[str]) -> dict[str, Product]:
    found: dict[str, Product] = {}
    for i in range(0, len(skus), 500):
        chunk = skus[i : i + 500]
        for p in Product.objects.annotate(sku_key=Lower("sku")).filter(sku_key__in=chunk):
            found[p.sku.lower()] = p
    return found


def _check_import_size(result: ImportResult, table: Table) -> bool:
    if len(table.rows) > MAX_ROWS:
        result.errors.append(
            {
                "row": None,
                "column": "",
                "message": _("The file has %(rows)d rows; at most %(limit)d can be imported at once.")
                % {"rows": len(table.rows), "limit": MAX_ROWS},
            }
        )
        return False
    return True


def products_import(
    *, actor, file: IO[bytes] | bytes, filename: str = "", dry_run: bool = False
) -> ImportResult:
    """Import products from an XLSX/XLS/ODS/CSV file (see the module's doc). Returns the counts,
    the first rows with their status and, when any row is bad, every error; then nothing is
    written. Raises ValidationError({"file": …}) when the file itself cannot be read."""
    require_catalog_editor(actor)
    table = find_table(read_rows(file, filename), PRODUCT_COLUMNS, extra=(CARTON_SIZE,))
    result = ImportResult(
        file_name=filename,
        dry_run=dry_run,
        header_row=table.header_row,
        columns=list(table.headers.values()),
        ignored_columns=table.ignored,
        rows=len(table.rows),
    )
    if not _check_import_size(result, table):
        return result
    with transaction.atomic():
        plan = _plan_products(result, table)
        if result.errors or dry_run:
            transaction.set_rollback(True)
            return result
        _write_products(actor, plan)
        audit_record(
            actor=actor,
            action="product.import",
            object_type=Product._meta.label_lower,
            changes={
                "file": filename,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "skus": [p.sku for p, _c, _v in plan][:1000],
            },
        )
    return result


def _plan_products(result: ImportResult, table: Table) -> list[tuple[Product, dict, int | None]]:
    """Validate every row; the products to write as (product with the new values, changed
    fields, version read or None for a new one)."""
    raw_rows = [(n, _cells(table, row)) for n, row in table.rows]
    keys = []
    for _n, cells in raw_rows:
        sku = cells.get("sku")
        if isinstance(sku, float) and sku.is_integer():
            sku = int(sku)
        keys.append(str(sku if sku is not None else "").strip().lower())
    existing = _load_existing(sorted({k for k in keys if k}))
    seen: dict[str, int] = {}
    plan: list[tuple[Product, dict, int | None]] = []
    sku_col = table.headers.get("sku", "SKU")
    for (n, cells), key in zip(raw_rows, keys, strict=True):
        data = _product_values(cells)
        row_errors = ValidationError({})
        if "carton_size" in cells and not _blank(cells["carton_size"]):
            try:
                data["carton_length_cm"], data["carton_width_cm"], data["carton_height_cm"] = (
                    parse_carton_size(cells["carton_size"])
                )
            except ValueError:
                row_errors = ValidationError(
                    {
                        "carton_size": [
                            _(
                                "“%(value)s” is not a carton size: enter length × width × height in cm, e.g. 60×40×35."
                            )
                            % {"value": cells["carton_size"]}
                        ]
                    }
                )
        if key and key in seen:
            result.errors.append(
                {
                    "row": n,
                    "column": sku_col,
                    "message": _("The SKU “%(sku)s” is also on row %(other)d.")
                    % {"sku": data.get("sku"), "other": seen[key]},
                }
            )
            continue
        if key:
            seen[key] = n
        product = existing.get(key)
        try:
            clean = clean_product(data, instance=product, partial=product is not None, check_unique=False)
        except ValidationError as exc:
            if row_errors.error_dict:
                exc = ValidationError({**row_errors.error_dict, **exc.error_dict})
            _add_errors(result, n, exc, table.headers, {**_PRODUCT_LABELS, "carton_size": CARTON_SIZE.header})
            continue
        if row_errors.error_dict:
            _add_errors(result, n, row_errors, table.headers, {"carton_size": CARTON_SIZE.header})
            continue
        if product is not None and clean.get("sku", "").lower() == product.sku.lower():
            clean["sku"] = product.sku  # matched ignoring case: the stored spelling stays
        if product is None:
            new = Product(**clean)
            _apply_cbm(new, clean, None)
            changes = {k: getattr(new, k) for k in _TRACKED}
            status = "created"
            result.created += 1
            plan.append((new, changes, None))
        else:
            before = {k: getattr(product, k) for k in _TRACKED}
            after = copy.copy(product)
            for k, v in clean.items():
                setattr(after, k, v)
            _apply_cbm(after, clean, before)
            changes = {k: getattr(after, k) for k in _TRACKED if getattr(after, k) != before[k]}
            if changes:
                status = "updated"
                result.updated += 1
                plan.append((after, changes, product.version))
            else:
                status = "unchanged"
                result.unchanged += 1
        if len(result.preview) < PREVIEW_ROWS:
            name = clean.get("name_en") or (product.name_en if product else "")
            result.preview.append(
                {
                    "row": n,
                    "sku": clean.get("sku") or (product.sku if product else ""),
                    "name": name,
                    "status": status,
                    "changes": [] if status == "created" else [_PRODUCT_LABELS.get(k, k) for k in changes],
                }
            )
    return plan


def _write_products(actor, plan: list[tuple[Product, dict, int | None]]) -> None:
    user = actor if getattr(actor, "pk", None) else None
    now = timezone.now()
    new = []
    for product, _changes, version in plan:
        product.search_text = product_search_text(product)
        if version is None:
            product.created_by = product.updated_by = user
            new.append(product)
            continue
        fields = {k: getattr(product, k) for k in _TRACKED}
        fields["search_text"] = product.search_text
        updated = Product.objects.filter(pk=product.pk, version=version).update(
            **fields, version=F("version") + 1, updated_at=now, updated_by=user
        )
        if not updated:
            current = Product.objects.select_related("updated_by").get(pk=product.pk)
            raise ConcurrentEditError(
                by=str(current.updated_by or "?"), at=current.updated_at, current_version=current.version
            )
    # a catalogue import is thousands of rows, not millions: the ORM's batches are fast enough
    Product.objects.bulk_create(new, batch_size=500)


# --- products: export ---------------------------------------------------------------------------


def export_columns(user) -> tuple[Column, ...]:
    """The columns of an export for this user: without purchase cost, VAT, rebate and supplier
    for roles that may not see costs."""
    hidden = () if sees_costs(user) else COST_FIELDS
    return tuple(c for c in PRODUCT_COLUMNS if c.field not in hidden)


# --- price lists --------------------------------------------------------------------------------


def price_list_export_xlsx(user, price_list: PriceList) -> bytes:
    """SKU, English name, from quantity, unit price: one row per quantity break."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "constant_memory": True})
    ws = book.add_worksheet("Prices")
    bold = book.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1})
    headers = ["SKU", "Name (English)", "From quantity", f"Unit price ({price_list.currency})"]
    for i, (h, w) in enumerate(zip(headers, (18, 36, 14, 16), strict=True)):
        ws.set_column(i, i, w)
        ws.write_string(0, i, h, bold)
    ws.freeze_panes(1, 0)
    for n, r in enumerate(price_list_items(price_list).iterator(chunk_size=2000), start=1):
        ws.write_string(n, 0, r["product__sku"])
        ws.write_string(n, 1, r["product__name_en"])
        ws.write_number(n, 2, float(r["min_quantity"]))
        ws.write_number(n, 3, float(r["unit_price"]))
    book.close()
    return out.getvalue()


def price_list_import(
    *, actor, price_list: PriceList, file: IO[bytes] | bytes, filename: str = "", dry_run: bool = False
) -> ImportResult:
    """Prices for `price_list` from a file with SKU, from quantity (optional, 1) and unit price
    columns. A row sets the price of that product from that quantity; prices not in the file
    stay. All-or-nothing like the product import."""
    require_catalog_editor(actor)
    table = find_table(read_rows(file, filename), PRICE_COLUMNS)
    result = ImportResult(
        file_name=filename,
        dry_run=dry_run,
        header_row=table.header_row,
        columns=list(table.headers.values()),
        ignored_columns=table.ignored,
        rows=len(table.rows),
    )
    if "unit_price" not in table.headers:
        result.errors.append(
            {
                "row": None,
                "column": "",
                "message": _("The file has no unit price column (Unit price or 单价)."),
            }
        )
        return result
    if not _check_import_size(result, table):
        return result
    labels = {c.field: c.header for c in PRICE_COLUMNS}
    sku_col = table.headers.get("sku", "SKU")
    with transaction.atomic():
        rows = [(n, _cells(table, row)) for n, row in table.rows]
        keys = []
        for _n, cells in rows:
            sku = cells.get("sku")
            if isinstance(sku, float) and sku.is_integer():
                sku = int(sku)
            keys.append(str(sku if sku is not None else "").strip())
        products = _load_existing(sorted({k.lower() for k in keys if k}))
        current = {
            (i.product_id, i.min_quantity): i
            for i in PriceListItem.objects.filter(
                price_list=price_list, product_id__in=[p.pk for p in products.values()]
            )
        }
        seen: dict[tuple, int] = {}
        to_create, to_update = [], []
        for (n, cells), sku in zip(rows, keys, strict=True):
            product = products.get(sku.lower())
            if not sku:
                result.errors.append({"row": n, "column": sku_col, "message": _("Enter the SKU.")})
                continue
            if product is None:
                result.errors.append(
                    {
                        "row": n,
                        "column": sku_col,
                        "message": _("No product has the SKU “%(sku)s”.") % {"sku": sku},
                    }
                )
                continue
            try:
                price, qty = clean_price(
                    unit_price=cells.get("unit_price"), min_quantity=cells.get("min_quantity")
                )
            except ValidationError as exc:
                _add_errors(result, n, exc, table.headers, labels)
                continue
            key = (product.pk, qty)
            if key in seen:
                result.errors.append(
                    {
                        "row": n,
                        "column": sku_col,
                        "message": _("“%(sku)s” from %(qty)s is also on row %(other)d.")
                        % {"sku": product.sku, "qty": plain(qty), "other": seen[key]},
                    }
                )
                continue
            seen[key] = n
            item = current.get(key)
            if item is None:
                status = "created"
                result.created += 1
                to_create.append(
                    PriceListItem(price_list=price_list, product=product, min_quantity=qty, unit_price=price)
                )
            elif item.unit_price != price:
                status = "updated"
                result.updated += 1
                item.unit_price = price
                to_update.append(item)
            else:
                status = "unchanged"
                result.unchanged += 1
            if len(result.preview) < PREVIEW_ROWS:
                result.preview.append(
                    {
                        "row": n,
                        "sku": product.sku,
                        "name": product.name_en,
                        "status": status,
                        "min_quantity": qty,
                        "unit_price": price,
                        "changes": [],
                    }
                )
        if result.errors or dry_run:
            transaction.set_rollback(True)
            return result
        PriceListItem.objects.bulk_create(to_create, batch_size=500)
        for item in to_update:
            PriceListItem.objects.filter(pk=item.pk).update(unit_price=item.unit_price)
        if to_create or to_update:
            PriceList.objects.filter(pk=price_list.pk).update(
                version=F("version") + 1,
                updated_at=timezone.now(),
                updated_by=actor if getattr(actor, "pk", None) else None,
            )
            price_list.refresh_from_db(fields=["version", "updated_at", "updated_by"])
        audit_record(
            actor=actor,
            action="price_list.import",
            obj=price_list,
            changes={
                "file": filename,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
            },
        )
    return result
