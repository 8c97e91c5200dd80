"""Field rules of quotations and proforma invoices, shared by the web forms, the API and the CLI.

`clean_header` checks the document's terms (parties, currency, dates, Incoterm and named place,
ports, payment terms with deposit, lead time, marks and notes); `clean_lines` checks the line
list and works out every figure through `documents.lines`. Both take raw values (strings from a
form, typed values from JSON) and raise ValidationError({field: [messages]}) naming every bad
field at once; a line's fields are named `lines.<index>.<field>` (index from 0, as in the JSON
list) and their messages name the line as people count it ("Line 3: …").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from tradecrm.catalog.models import Product, Unit
from tradecrm.core import money
from tradecrm.core.errors import Errors
from tradecrm.core.ids import parse_id
from tradecrm.customers.models import Company, Contact

from . import lines as figures
from .models import SEA_INCOTERMS, BankAccount, DocumentLanguage, Incoterm, PaymentTerms, SellerProfile

TEXT_MAX = 20000
PLACE_MAX = 120
NOTE_MAX = 255
MAX_LINES = 1000
MAX_DAYS = 3650
DEFAULT_VALIDITY_DAYS = 30
HUNDRED = Decimal("100")
ZERO = Decimal("0")
# Payment terms that split the amount into a deposit and a balance: the deposit % is required.
DEPOSIT_TERMS = frozenset({PaymentTerms.TT_DEPOSIT, PaymentTerms.TT_BL})
# Limits of the model's decimal columns (digits before the point)
QTY_MAX = Decimal("99999999999")  # 14 digits, 3 decimals
PRICE_MAX = Decimal("999999999999")  # 16 digits, 4 decimals
AMOUNT_MAX = Decimal("9999999999999999")  # 18 digits, 2 decimals

HEADER_TEXT = {
    "incoterm_place": PLACE_MAX,
    "port_of_loading": PLACE_MAX,
    "port_of_destination": PLACE_MAX,
    "payment_terms_note": NOTE_MAX,
    "shipping_marks": TEXT_MAX,
    "packing_notes": TEXT_MAX,
    "remarks": TEXT_MAX,
}


# --- small parsers ------------------------------------------------------------------------------


def to_decimal(value: Any) -> Decimal | None:
    """A finite Decimal from a Decimal, int or numeric string ("1,234.5" too); None if unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip().replace(",", "").replace(" ", "")
        if not text or len(text) > 40:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
    else:
        return None
    return number if number.is_finite() else None


def places(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def to_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) != 10:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None
    return None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any, limit: int, errors: Errors, name: str) -> str | None:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.add(name, _("Enter text."))
        return None
    value = value.strip()
    if "\x00" in value:
        errors.add(name, _("Null characters are not allowed."))
        return None
    if len(value) > limit:
        errors.add(
            name,
            _("At most %(limit)d characters (this has %(length)d).") % {"limit": limit, "length": len(value)},
        )
        return None
    return value


def _whole(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        d = to_decimal(value)
        if d is None or d != d.to_integral_value():
            return None
        number = int(d)
    return number if low <= number <= high else None


def _pk(value: Any) -> int | None:
    return parse_id(getattr(value, "pk", value))


# --- header -------------------------------------------------------------------------------------


def default_seller() -> SellerProfile | None:
    return SellerProfile.objects.filter(is_default=True).first()


def default_currency(company: Company) -> str:
    from tradecrm.core.fx import base_currency

    return company.currency if company.currency and money.is_currency(company.currency) else base_currency()


def default_bank_account(seller_id: int | None, currency: str) -> BankAccount | None:
    """The seller's active account in `currency`: the one marked default first."""
    if not seller_id:
        return None
    return (
        BankAccount.objects.filter(seller_id=seller_id, currency=currency, active=True)
        .order_by("-is_default", "id")
        .first()
    )


def incoterm_error(value: Any) -> str:
    return _("“%(value)s” is not an Incoterms 2020 rule; use one of %(rules)s.") % {
        "value": value,
        "rules": ", ".join(Incoterm.values),
    }


def currency_error(value: Any) -> str:
    return _(
        "“%(value)s” is not a currency code; use the three-letter ISO 4217 code, e.g. USD, EUR, CNY."
    ) % {"value": value}


def clean_header(
    data: dict, *, actor, company: Company, kind: str, current=None, today: dt.date | None = None
) -> dict:
    """Clean header values of a quotation (`kind` "quotation") or proforma invoice ("proforma").
    `current` is the document being changed: fields not in `data` keep its values (and the rules
    that combine fields, e.g. a deposit % for T/T deposit terms, look at the result)."""
    from django.utils import timezone

    errors = Errors()
    out: dict[str, Any] = {}
    creating = current is None
    today = today or timezone.localdate()

    def given(name: str) -> bool:
        return name in data

    def value(name: str):
        if name in out:
            return out[name]
        if current is not None:
            return getattr(current, name)
        return None

    # parties: a contact, opportunity or inquiry must belong to this customer
    def of_customer(field: str, model, message: str) -> None:
        raw = data[field]
        if _blank(raw):
            out[field] = None
            return
        pk = _pk(raw)
        found = model.objects.filter(pk=pk, company_id=company.pk).first() if pk else None
        if found is None:
            errors.add(field, message)
        else:
            out[field] = found

    from tradecrm.sales.models import Inquiry, Opportunity

    if given("contact"):
        of_customer("contact", Contact, _("Pick a contact of this customer."))
    if given("opportunity"):
        of_customer("opportunity", Opportunity, _("Pick an opportunity of this customer."))
    if kind == "quotation" and given("inquiry"):
        of_customer("inquiry", Inquiry, _("Pick an inquiry of this customer."))
    if given("seller"):
        raw = data["seller"]
        if _blank(raw):
            out["seller"] = default_seller() if creating else None
        else:
            pk = _pk(raw)
            seller = SellerProfile.objects.filter(pk=pk).first() if pk else None
            if seller is None:
                errors.add("seller", _("No seller profile with id %(id)s.") % {"id": raw})
            else:
                out["seller"] = seller
    elif creating:
        out["seller"] = default_seller()

    # currency and dates
    if given("currency") and not _blank(data["currency"]):
        raw = data["currency"]
        code = raw.strip().upper() if isinstance(raw, str) else raw
        if not isinstance(code, str) or not money.is_currency(code):
            errors.add("currency", currency_error(raw))
        else:
            out["currency"] = code
    elif creating or given("currency"):
        out["currency"] = default_currency(company)

    if given("document_date") and not _blank(data["document_date"]):
        day = to_date(data["document_date"])
        if day is None or not (dt.date(2000, 1, 1) <= day <= dt.date(2999, 12, 31)):
            errors.add("document_date", _("Enter a date, e.g. 2026-03-09."))
        else:
            out["document_date"] = day
    elif creating or given("document_date"):
        out["document_date"] = today

    if kind == "quotation":
        if given("valid_until") and not _blank(data["valid_until"]):
            day = to_date(data["valid_until"])
            if day is None:
                errors.add("valid_until", _("Enter a date, e.g. 2026-03-09."))
            else:
                out["valid_until"] = day
        elif creating or given("valid_until"):
            start = out.get("document_date") or value("document_date") or today
            out["valid_until"] = start + dt.timedelta(days=DEFAULT_VALIDITY_DAYS)
        valid, start = value("valid_until"), value("document_date")
        if valid and start and "valid_until" not in errors.by_field and valid < start:
            errors.add(
                "valid_until",
                _("The quotation cannot expire before its date (%(date)s).") % {"date": start.isoformat()},
            )
    else:
        for name in ("deposit_due_date", "balance_due_date"):
            if given(name):
                if _blank(data[name]):
                    out[name] = None
                else:
                    day = to_date(data[name])
                    if day is None:
                        errors.add(name, _("Enter a date, e.g. 2026-03-09."))
                    else:
                        out[name] = day
        if given("bank_account"):
            raw = data["bank_account"]
            if _blank(raw):
                out["bank_account"] = None
            else:
                pk = _pk(raw)
                account = BankAccount.objects.filter(pk=pk, active=True).first() if pk else None
                if account is None:
                    errors.add("bank_account", _("No active bank account with id %(id)s.") % {"id": raw})
                else:
                    out["bank_account"] = account

    if given("language") and not _blank(data["language"]):
        if data["language"] not in DocumentLanguage.values:
            errors.add(
                "language",
                _("“%(value)s” is not one of the available choices.") % {"value": data["language"]},
            )
        else:
            out["language"] = data["language"]
    elif creating:
        out["language"] = DocumentLanguage.EN

    # free text
    for name, limit in HEADER_TEXT.items():
        if given(name):
            text = _text(data[name], limit, errors, name)
            if text is not None:
                out[name] = text

    # Incoterm and its named place
    if given("incoterm"):
        raw = data["incoterm"]
        if _blank(raw):
            out["incoterm"] = ""
        else:
            code = raw.strip().upper() if isinstance(raw, str) else raw
            if code not in Incoterm.values:
                errors.add("incoterm", incoterm_error(raw))
            else:
                out["incoterm"] = code
    elif creating:
        out["incoterm"] = ""
    incoterm = value("incoterm") or ""
    if incoterm and "incoterm" not in errors.by_field and "incoterm_place" not in errors.by_field:
        place = value("incoterm_place") or ""
        if not place and incoterm in SEA_INCOTERMS:
            # FOB/FAS name the port of loading, CFR/CIF the port of destination
            port = value("port_of_loading" if incoterm in ("FOB", "FAS") else "port_of_destination") or ""
            if port:
                out["incoterm_place"] = place = port
        if not place:
            if incoterm in ("FOB", "FAS"):
                message = _("Enter the port of loading for %(rule)s, e.g. “%(rule)s Ningbo”.")
            elif incoterm in SEA_INCOTERMS:
                message = _("Enter the port of destination for %(rule)s, e.g. “%(rule)s Hamburg”.")
            else:
                message = _("Enter the named place for %(rule)s, e.g. “%(rule)s Chicago warehouse”.")
            errors.add("incoterm_place", message % {"rule": incoterm})
        elif incoterm in ("FOB", "FAS") and not value("port_of_loading"):
            out["port_of_loading"] = place
        elif incoterm in ("CFR", "CIF") and not value("port_of_destination"):
            out["port_of_destination"] = place

    # payment terms
    if given("payment_terms"):
        raw = data["payment_terms"]
        if _blank(raw):
            out["payment_terms"] = ""
        elif raw not in PaymentTerms.values:
            errors.add(
                "payment_terms",
                _("“%(value)s” is not one of the payment terms (%(choices)s).")
                % {"value": raw, "choices": ", ".join(PaymentTerms.values)},
            )
        else:
            out["payment_terms"] = raw
    elif creating:
        out["payment_terms"] = ""
    if given("deposit_percent"):
        raw = data["deposit_percent"]
        if _blank(raw):
            out["deposit_percent"] = None
        else:
            number = to_decimal(raw)
            if number is None or not (ZERO <= number <= HUNDRED) or places(number) > 2:
                errors.add("deposit_percent", _("Enter a deposit percentage from 0 to 100, e.g. 30."))
            else:
                out["deposit_percent"] = number
    terms = value("payment_terms") or ""
    if (
        terms in DEPOSIT_TERMS
        and "payment_terms" not in errors.by_field
        and "deposit_percent" not in errors.by_field
        and value("deposit_percent") is None
    ):
        errors.add(
            "deposit_percent",
            _("Enter the deposit percentage for “%(terms)s”, e.g. 30.")
            % {"terms": PaymentTerms(terms).label},
        )
    for name, high in (("payment_days", 365), ("lead_time_days", 365)):
        if given(name):
            raw = data[name]
            if _blank(raw):
                out[name] = None
            else:
                number = _whole(raw, 0, high)
                if number is None:
                    errors.add(name, _("Enter a whole number of days from 0 to %(max)d.") % {"max": high})
                else:
                    out[name] = number
    errors.raise_if_any()
    return out


# --- lines --------------------------------------------------------------------------------------

LINE_TEXT = {
    "sku": 64,
    "name": 500,
    "name_zh": 500,
    "specification": TEXT_MAX,
    "hs_code": 12,
    "note": NOTE_MAX,
}
COST_FIELDS = ("unit_cost_cny", "vat_rate", "tax_rebate_rate")
PACKING_FIELDS = ("carton_gross_weight_kg", "carton_net_weight_kg", "carton_cbm")
STORED_LINE_FIELDS = (
    "position", "product", "sku", "name", "name_zh", "specification", "hs_code", "unit", "quantity",
    "unit_price", "discount_percent", "amount", "units_per_carton", "cartons", "gross_weight_kg",
    "net_weight_kg", "cbm", "unit_cost_cny", "vat_rate", "tax_rebate_rate", "note",
)  # fmt: skip


@dataclass
class CleanLines:
    """The cleaned lines (dicts of STORED_LINE_FIELDS) and their totals."""

    lines: list[dict] = field(default_factory=list)
    totals: figures.Totals | None = None
    total_cost_cny: Decimal | None = None
    total_rebate_cny: Decimal | None = None


def price_lookup():
    """`catalog`'s price_for(product, currency, quantity, date) when the catalogue offers one."""
    for module in ("tradecrm.catalog.services", "tradecrm.catalog.selectors", "tradecrm.catalog.pricing"):
        try:
            mod = __import__(module, fromlist=["price_for"])
        except ImportError:
            continue
        fn = getattr(mod, "price_for", None)
        if callable(fn):
            return fn
    return None


def product_price(product: Product, currency: str, quantity: Decimal | None, on: dt.date) -> Decimal | None:
    fn = price_lookup()
    if fn is None:
        return None
    try:
        price = fn(product, currency, quantity or Decimal("1"), on)
    except Exception:  # noqa: BLE001 - a pricing problem must not stop a quotation being written
        return None
    if price is None:
        return None
    price = getattr(price, "unit_price", price)
    return to_decimal(price)


def product_defaults(product: Product) -> dict:
    """What a line copies from its product (a catalogue edit later does not change the line)."""
    packing = figures.Packing.of_product(product)
    return {
        "product": product,
        "sku": product.sku,
        "name": product.name_en,
        "name_zh": product.name_zh,
        "specification": product.specification,
        "hs_code": product.hs_code,
        "unit": product.unit,
        "units_per_carton": packing.units_per_carton,
        "carton_gross_weight_kg": packing.gross_weight_kg,
        "carton_net_weight_kg": packing.net_weight_kg,
        "carton_cbm": packing.cbm,
        "unit_cost_cny": product.purchase_cost_cny,
        "vat_rate": product.vat_rate,
        "tax_rebate_rate": product.tax_rebate_rate,
    }


def line_packing(line) -> dict:
    """Per-carton packing of a stored line, worked back from its totals (for keeping it on edit)."""
    cartons = line.cartons or 0
    if not cartons:
        return {"carton_gross_weight_kg": None, "carton_net_weight_kg": None, "carton_cbm": None}
    step = Decimal("0.000001")
    return {
        "carton_gross_weight_kg": (line.gross_weight_kg / cartons).quantize(step),
        "carton_net_weight_kg": (line.net_weight_kg / cartons).quantize(step),
        "carton_cbm": (line.cbm / cartons).quantize(step),
    }


def existing_line_values(line) -> dict:
    out = {k: getattr(line, k) for k in STORED_LINE_FIELDS if k not in ("position", "amount", "cartons")}
    out["product"] = line.product
    out.update(line_packing(line))
    return out


class _LineCleaner:
    def __init__(self, *, currency: str, on: dt.date, allow_costs: bool, existing: dict[int, Any]):
        self.currency = currency
        self.precision = money.currency_precision(currency) if money.is_currency(currency) else 2
        self.on = on
        self.allow_costs = allow_costs
        self.existing = existing
        self.products: dict[int, Product] = {}
        self.used: set[int] = set()

    def load_products(self, raw_lines: list) -> None:
        ids = set()
        for raw in raw_lines:
            if isinstance(raw, dict):
                pk = _pk(raw.get("product")) if not _blank(raw.get("product")) else None
                if pk:
                    ids.add(pk)
        if ids:
            self.products = {p.pk: p for p in Product.objects.filter(pk__in=ids)}

    def clean(self, index: int, raw: Any, errors: Errors) -> dict | None:
        no = index + 1
        prefix = f"lines.{index}"

        def bad(name: str, message: str) -> None:
            errors.add(f"{prefix}.{name}", _("Line %(no)d: %(message)s") % {"no": no, "message": message})

        if not isinstance(raw, dict):
            errors.add(prefix, _("Line %(no)d: enter the line as an object with its fields.") % {"no": no})
            return None
        before = len(errors.by_field)
        base: dict[str, Any] = {}
        line_id = _pk(raw.get("id")) if not _blank(raw.get("id")) else None
        if line_id is not None:
            old = self.existing.get(line_id)
            if old is None:
                bad("id", _("no line with id %(id)s on this document.") % {"id": raw.get("id")})
            elif line_id in self.used:
                bad("id", _("the line with id %(id)s is listed twice.") % {"id": line_id})
            else:
                self.used.add(line_id)
                base = existing_line_values(old)
        product = base.get("product")
        if "product" in raw:
            if _blank(raw["product"]):
                product = None
            else:
                pk = _pk(raw["product"])
                product = self.products.get(pk) if pk else None
                if product is None:
                    bad("product", _("no product with id %(id)s.") % {"id": raw["product"]})
                elif base.get("product") is None or base["product"].pk != product.pk:
                    base = {**base, **product_defaults(product)}
        out: dict[str, Any] = {"product": product, "id": line_id if base else None}

        for name, limit in LINE_TEXT.items():
            if name in raw and raw[name] is not None:
                text = raw[name]
                if not isinstance(text, str):
                    bad(name, _("enter text."))
                    continue
                text = text.strip()
                if "\x00" in text:
                    bad(name, _("null characters are not allowed."))
                elif len(text) > limit:
                    bad(
                        name,
                        _("%(field)s has at most %(limit)d characters.") % {"field": name, "limit": limit},
                    )
                else:
                    out[name] = text
            else:
                out[name] = base.get(name) or ""
        if not out.get("name") and f"{prefix}.name" not in errors.by_field:
            bad("name", _("enter a description or pick a product."))

        unit = raw.get("unit") if not _blank(raw.get("unit")) else base.get("unit") or Unit.PCS
        if unit not in Unit.values:
            bad(
                "unit",
                _("“%(value)s” is not a unit (%(units)s).")
                % {"value": unit, "units": ", ".join(Unit.values)},
            )
        out["unit"] = unit

        # quantity
        quantity = None
        raw_qty = raw.get("quantity", base.get("quantity"))
        if _blank(raw_qty):
            bad("quantity", _("enter the quantity."))
        else:
            quantity = to_decimal(raw_qty)
            if quantity is None:
                bad("quantity", _("“%(value)s” is not a number.") % {"value": raw_qty})
            elif quantity <= 0:
                bad("quantity", _("quantity must be greater than zero."))
                quantity = None
            elif places(quantity) > 3 or quantity > QTY_MAX:
                bad("quantity", _("enter a quantity with at most 3 decimals and 11 digits."))
                quantity = None
        out["quantity"] = quantity

        # unit price (from the price list when a product line has none)
        price = None
        raw_price = raw.get("unit_price", base.get("unit_price"))
        if _blank(raw_price) and product is not None:
            raw_price = product_price(product, self.currency, quantity, self.on)
        if _blank(raw_price):
            bad("unit_price", _("enter the unit price."))
        else:
            price = to_decimal(raw_price)
            if price is None:
                bad("unit_price", _("“%(value)s” is not a price.") % {"value": raw_price})
            elif price < 0:
                bad("unit_price", _("the unit price cannot be negative."))
                price = None
            elif places(price) > 4 or price > PRICE_MAX:
                bad("unit_price", _("enter a price with at most 4 decimals."))
                price = None
        out["unit_price"] = price

        discount = ZERO
        raw_disc = raw.get("discount_percent", base.get("discount_percent"))
        if not _blank(raw_disc):
            discount = to_decimal(raw_disc)
            if discount is None or not (ZERO <= discount <= HUNDRED) or places(discount) > 2:
                bad("discount_percent", _("enter a discount percentage from 0 to 100."))
                discount = ZERO
        out["discount_percent"] = discount

        # packing per carton: the product's, or given for a free line
        upc = raw.get("units_per_carton", base.get("units_per_carton"))
        if _blank(upc):
            out["units_per_carton"] = None
        else:
            number = _whole(upc, 1, 10_000_000)
            if number is None:
                bad("units_per_carton", _("enter the units per carton as a whole number from 1."))
            out["units_per_carton"] = number
        per_carton: dict[str, Decimal | None] = {}
        for name in PACKING_FIELDS:
            rawp = raw.get(name, base.get(name))
            if _blank(rawp):
                per_carton[name] = None
                continue
            number = to_decimal(rawp)
            if number is None or number < 0 or number > Decimal("100000"):
                bad(name, _("enter a weight or volume per carton of 0 or more."))
                number = None
            per_carton[name] = number

        # costs: copied from the product; typed in only by those who may see them
        for name in COST_FIELDS:
            rawc = raw.get(name) if (self.allow_costs and name in raw) else base.get(name)
            if _blank(rawc):
                out[name] = None
                continue
            number = to_decimal(rawc)
            limit = PRICE_MAX if name == "unit_cost_cny" else HUNDRED
            if number is None or number < 0 or number > limit:
                bad(name, _("enter a number of 0 or more."))
                number = None
            out[name] = number

        if len(errors.by_field) > before:
            return None
        packing = figures.Packing(
            units_per_carton=out["units_per_carton"],
            gross_weight_kg=per_carton["carton_gross_weight_kg"],
            net_weight_kg=per_carton["carton_net_weight_kg"],
            cbm=per_carton["carton_cbm"],
        )
        f = figures.line_figures(
            quantity=quantity,
            unit_price=price,
            discount_percent=discount,
            packing=packing,
            precision=self.precision,
        )
        if f.amount > AMOUNT_MAX:
            bad("quantity", _("the amount is too large."))
            return None
        out.update(
            position=no,
            amount=f.amount,
            cartons=f.cartons,
            gross_weight_kg=f.gross_weight_kg,
            net_weight_kg=f.net_weight_kg,
            cbm=f.cbm,
        )
        out.update({k: v for k, v in per_carton.items()})
        return out


def clean_lines_collect(
    raw_lines: Any, *, currency: str, on: dt.date, allow_costs: bool = False, existing=()
) -> tuple[CleanLines, Errors]:
    """Clean every line and work out its figures; returns the good lines and the errors (used by
    the line editor to show what it can while some lines are wrong)."""
    errors = Errors()
    result = CleanLines()
    if not isinstance(raw_lines, list | tuple):
        errors.add("lines", _("Enter the lines as a list."))
        return result, errors
    if len(raw_lines) > MAX_LINES:
        errors.add("lines", _("At most %(max)d lines per document.") % {"max": MAX_LINES})
        return result, errors
    cleaner = _LineCleaner(
        currency=currency, on=on, allow_costs=allow_costs, existing={line.pk: line for line in existing}
    )
    cleaner.load_products(list(raw_lines))
    for index, raw in enumerate(raw_lines):
        line = cleaner.clean(index, raw, errors)
        if line is not None:
            result.lines.append(line)
    result.totals = figures.totals(result.lines)
    if result.totals.total_amount > AMOUNT_MAX:
        errors.add("lines", _("The total is too large."))
    result.total_cost_cny, result.total_rebate_cny = cost_totals(result.lines)
    return result, errors


def clean_lines(
    raw_lines: Any, *, currency: str, on: dt.date, allow_costs: bool = False, existing=()
) -> CleanLines:
    result, errors = clean_lines_collect(
        raw_lines, currency=currency, on=on, allow_costs=allow_costs, existing=existing
    )
    errors.raise_if_any()
    return result


def cost_totals(lines) -> tuple[Decimal | None, Decimal | None]:
    """Purchase cost and export tax rebate of the lines in CNY (None when no line has a cost)."""
    cost = rebate = ZERO
    any_cost = False
    for line in lines:
        get = line.get if isinstance(line, dict) else lambda k, _l=line: getattr(_l, k)
        unit_cost = get("unit_cost_cny")
        if unit_cost is None:
            continue
        any_cost = True
        qty = get("quantity")
        cost += unit_cost * qty
        rebate += figures.unit_rebate(unit_cost, get("vat_rate"), get("tax_rebate_rate")) * qty
    if not any_cost:
        return None, None
    return figures.money(cost), figures.money(rebate)
