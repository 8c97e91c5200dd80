"""Field rules for orders, their lines, shipments and payments, shared by the web forms, the API
and the services.

Each `clean_*` takes raw values (strings from a form, typed values from JSON) and returns clean
ones, or raises ValidationError({field: [messages]}) naming every bad field at once. Line
problems are reported under `lines`, each message naming its line ("… (line 3)."); container
problems under `containers`, naming the row.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tradecrm.accounts.access import scope_companies
from tradecrm.catalog.models import Product, Unit
from tradecrm.core.errors import Errors
from tradecrm.core.fx_validation import FieldProblem, currency_code, number_text, rate_date
from tradecrm.core.ids import parse_id
from tradecrm.core.money import currency_precision
from tradecrm.customers.models import Company, Contact
from tradecrm.documents.lines import Packing, line_figures, unit_rebate
from tradecrm.documents.models import Incoterm, PaymentTerms

from .models import ShipmentStatus

MAX_LINES = 500
TEXT_MAX = 20000
QTY_PLACES, QTY_INTEGER_DIGITS = 3, 11  # catalog QTY: max_digits=14, decimal_places=3
PRICE_PLACES, PRICE_INTEGER_DIGITS = 4, 12  # catalog PRICE: max_digits=16, decimal_places=4
AMOUNT_INTEGER_DIGITS = 16  # money columns: max_digits=18, decimal_places=2

CONTAINER_TYPES = ("20GP", "40GP", "40HQ", "45HQ", "20RF", "40RF")
MAX_CONTAINERS = 200

# Order header fields a user may set (currency and date only when the order is made: the number
# and the frozen exchange rate depend on them).
HEADER_TEXT = {
    "customer_po": 64,
    "incoterm_place": 120,
    "port_of_loading": 120,
    "port_of_destination": 120,
    "payment_terms_note": 255,
    "shipping_marks": TEXT_MAX,
    "packing_notes": TEXT_MAX,
    "remarks": TEXT_MAX,
}
SHIPMENT_TEXT = {
    "bl_number": 64,
    "booking_number": 64,
    "carrier": 120,
    "forwarder": 120,
    "vessel": 120,
    "voyage": 32,
    "port_of_loading": 120,
    "port_of_discharge": 120,
    "notes": TEXT_MAX,
}
SHIPMENT_DATES = ("etd", "eta", "atd", "ata")


# --- small parsers ------------------------------------------------------------------------------


def parse_date(value: Any) -> dt.date:
    """A date from a date or text (2026-03-09, 2026/3/9, 2026年3月9日). Raises FieldProblem."""
    return rate_date(value)


def parse_decimal(value: Any, *, places: int, integer_digits: int, label_example: str = "1234.56") -> Decimal:
    """A finite Decimal with at most `places` decimals (rounded half up) and `integer_digits`
    before the point. Raises FieldProblem."""
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, float):
        value = repr(value)  # JSON numbers arrive as floats: 12.5 stays 12.5
    if isinstance(value, Decimal | int):
        number = Decimal(value)
    else:
        text = str(value if value is not None else "").strip()
        if not text:
            raise FieldProblem(_("Enter a number."))
        try:
            number = Decimal(number_text(text))
        except InvalidOperation:
            number = None
        if number is None:
            raise FieldProblem(
                _("Enter a number, e.g. %(example)s (this is “%(value)s”).")
                % {"example": label_example, "value": text[:40]}
            )
    if not number.is_finite():
        raise FieldProblem(
            _("Enter a number, e.g. %(example)s (this is “%(value)s”).")
            % {"example": label_example, "value": value}
        )
    if number.adjusted() >= integer_digits:  # before rounding: 1e400 cannot be quantized
        raise FieldProblem(_("The number is too large."))
    number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if number.adjusted() >= integer_digits:  # 99999.9995 rounds up to 100000.000
        raise FieldProblem(_("The number is too large."))
    return number


def money_text(amount: Decimal, currency: str) -> str:
    """“USD 12,000.00”: the code, then the amount grouped by thousands at the currency's precision.
    Used in messages, which must read the same in every language."""
    places = currency_precision(currency)
    value = Decimal(amount).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{currency} {value:,.{places}f}"


def _text(data: dict, errors: Errors, field: str, limit: int, out: dict, *, key: str | None = None) -> None:
    if field not in data:
        return
    value = data[field]
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(key or field, _("Enter text."))
        return
    value = value.strip()
    if "\x00" in value:
        errors.add(key or field, _("Null characters are not allowed."))
        return
    if len(value) > limit:
        errors.add(
            key or field,
            _("At most %(limit)d characters (this has %(length)d).") % {"limit": limit, "length": len(value)},
        )
        return
    out[field] = value


def _choice(data: dict, errors: Errors, field: str, values, out: dict, *, blank: bool = True) -> None:
    if field not in data:
        return
    value = data[field] if data[field] is not None else ""
    if not isinstance(value, str) or (value not in values and not (blank and value == "")):
        errors.add(field, _("“%(value)s” is not one of the available choices.") % {"value": value})
        return
    out[field] = value


def _optional_date(data: dict, errors: Errors, field: str, out: dict) -> None:
    if field not in data:
        return
    value = data[field]
    if value in (None, ""):
        out[field] = None
        return
    try:
        out[field] = parse_date(value)
    except FieldProblem as exc:
        errors.add(field, str(exc))


def _small_int(data: dict, errors: Errors, field: str, out: dict, maximum: int) -> None:
    if field not in data:
        return
    raw = data[field]
    if raw in (None, ""):
        out[field] = None
        return
    number = None if isinstance(raw, bool) else parse_id(raw) if str(raw).strip() != "0" else 0
    if number is None or number > maximum:
        errors.add(field, _("Enter a whole number from 0 to %(max)d.") % {"max": maximum})
    else:
        out[field] = number


def can_see_company(user, company_id: int) -> bool:
    if user is None:  # the console
        return True
    return scope_companies(Company.objects.filter(pk=company_id), user).exists()


# --- order header -------------------------------------------------------------------------------


def clean_order(data: dict, *, actor, company: Company | None = None, partial: bool = False) -> dict:
    """The header of an order. On create (`partial=False`) `company` (or data["company"], an id
    the actor can see), `currency` and `document_date` are taken; on update only the fields sent,
    and never the customer, currency or date."""
    errors = Errors()
    out: dict[str, Any] = {}
    if not partial:
        if company is None:
            raw = data.get("company")
            company_id = parse_id(getattr(raw, "pk", raw))
            if raw in (None, ""):
                errors.add("company", _("Choose the customer."))
            elif company_id is None or not can_see_company(actor, company_id):
                errors.add("company", _("No customer with id %(id)s.") % {"id": raw})
            else:
                company = Company.objects.get(pk=company_id)
        out["company"] = company
        try:
            out["currency"] = currency_code(data.get("currency") or getattr(company, "currency", "") or "")
        except FieldProblem as exc:
            errors.add("currency", str(exc))
        raw_date = data.get("document_date")
        if raw_date not in (None, ""):
            try:
                out["document_date"] = parse_date(raw_date)
            except FieldProblem as exc:
                errors.add("document_date", str(exc))
    else:
        for fixed in ("company", "currency", "document_date"):
            if fixed in data:
                errors.add(
                    fixed,
                    _(
                        "The customer, currency and date of an order cannot change; cancel it and make a new one."
                    ),
                )
    for field, limit in HEADER_TEXT.items():
        _text(data, errors, field, limit, out)
    _choice(data, errors, "incoterm", Incoterm.values, out)
    _choice(data, errors, "payment_terms", PaymentTerms.values, out)
    _optional_date(data, errors, "delivery_date", out)
    _small_int(data, errors, "payment_days", out, 720)
    _small_int(data, errors, "lead_time_days", out, 720)
    if "deposit_percent" in data:
        raw = data["deposit_percent"]
        if raw in (None, ""):
            out["deposit_percent"] = None
        else:
            try:
                pct = parse_decimal(raw, places=2, integer_digits=3, label_example="30")
            except FieldProblem as exc:
                errors.add("deposit_percent", str(exc))
            else:
                if pct < 0 or pct > 100:
                    errors.add("deposit_percent", _("The deposit is a percentage from 0 to 100."))
                else:
                    out["deposit_percent"] = pct
    target = company
    if "contact" in data:
        raw = data["contact"]
        if raw in (None, ""):
            out["contact"] = None
        else:
            contact_id = parse_id(getattr(raw, "pk", raw))
            contact = (
                Contact.objects.filter(pk=contact_id, company_id=target.pk).first()
                if contact_id and target is not None
                else None
            )
            if contact is None:
                errors.add("contact", _("Pick a contact of this customer."))
            else:
                out["contact"] = contact
    if "owner" in data:
        raw = data["owner"]
        if raw in (None, ""):
            out["owner"] = actor if getattr(actor, "pk", None) else None
        else:
            user_id = parse_id(getattr(raw, "pk", raw))
            user = get_user_model().objects.filter(pk=user_id, is_active=True).first() if user_id else None
            if user is None:
                errors.add("owner", _("No active user with id %(id)s.") % {"id": raw})
            elif target is not None and not can_see_company(user, target.pk):
                errors.add(
                    "owner",
                    _("%(user)s cannot see this customer; share it with them first or pick someone else.")
                    % {"user": user},
                )
            else:
                out["owner"] = user
    errors.raise_if_any()
    return out


# --- lines --------------------------------------------------------------------------------------

LINE_TEXT = {"name": 500, "name_zh": 500, "specification": TEXT_MAX, "hs_code": 12, "note": 255}


def _line_value(raw: dict, field: str):
    value = raw.get(field)
    return "" if value is None else value


def clean_lines(raw_lines: Any, *, currency: str) -> list[dict]:
    """Order lines from raw values: each from a product (`product` id or `sku`; its names, HS code,
    unit, packing and cost are copied unless given) or free text (`name` required), with
    quantity > 0, unit price ≥ 0 and a discount of 0–100 %. Amount, cartons, weights and volume
    come from `documents.lines.line_figures`. Every problem names its line."""
    errors = Errors()
    if not isinstance(raw_lines, list | tuple):
        errors.add("lines", _("Enter a list of lines."))
        errors.raise_if_any()
    if not raw_lines:
        errors.add("lines", _("Add at least one line."))
        errors.raise_if_any()
    if len(raw_lines) > MAX_LINES:
        errors.add("lines", _("At most %(max)d lines per order.") % {"max": MAX_LINES})
        errors.raise_if_any()
    wanted_ids, wanted_skus = set(), set()
    for raw in raw_lines:
        if isinstance(raw, dict):
            pid = parse_id(getattr(raw.get("product"), "pk", raw.get("product")))
            if pid:
                wanted_ids.add(pid)
            elif isinstance(raw.get("sku"), str) and raw["sku"].strip():
                wanted_skus.add(raw["sku"].strip())
    by_id = {p.pk: p for p in Product.objects.filter(pk__in=wanted_ids)} if wanted_ids else {}
    by_sku = {p.sku: p for p in Product.objects.filter(sku__in=wanted_skus)} if wanted_skus else {}
    try:
        precision = currency_precision(currency)
    except Exception:  # unknown currency: reported on the header
        precision = 2
    out: list[dict] = []
    for n, raw in enumerate(raw_lines, start=1):
        line_errors: list[str] = []
        if not isinstance(raw, dict):
            errors.add("lines", _("Line %(n)d is not an object with fields.") % {"n": n})
            continue
        line: dict[str, Any] = {"position": n}
        product = None
        raw_product = raw.get("product")
        if raw_product not in (None, ""):
            pid = parse_id(getattr(raw_product, "pk", raw_product))
            product = by_id.get(pid) if pid else None
            if product is None:
                line_errors.append(_("No product with id %(id)s (line %(n)d).") % {"id": raw_product, "n": n})
        elif isinstance(raw.get("sku"), str) and raw["sku"].strip():
            product = by_sku.get(raw["sku"].strip())  # a SKU not in the catalogue is a free line's code
        texts: dict[str, str] = {}
        for field, limit in {**LINE_TEXT, "sku": 64}.items():
            value = _line_value(raw, field)
            if not isinstance(value, str):
                line_errors.append(_("%(field)s must be text (line %(n)d).") % {"field": field, "n": n})
                continue
            value = value.strip()
            if "\x00" in value:
                line_errors.append(_("Null characters are not allowed (line %(n)d).") % {"n": n})
                continue
            if len(value) > limit:
                line_errors.append(
                    _("%(field)s: at most %(limit)d characters (line %(n)d).")
                    % {"field": field, "limit": limit, "n": n}
                )
                continue
            texts[field] = value
        if product is not None:
            line["product"] = product
            line["sku"] = texts.get("sku") or product.sku
            line["name"] = texts.get("name") or product.name_en
            line["name_zh"] = texts.get("name_zh") or product.name_zh
            line["specification"] = texts.get("specification") or product.specification
            line["hs_code"] = texts.get("hs_code") or product.hs_code
            packing = Packing.of_product(product)
            line["units_per_carton"] = product.units_per_carton
            line["unit_cost_cny"] = product.purchase_cost_cny
            line["vat_rate"] = product.vat_rate
            line["tax_rebate_rate"] = product.tax_rebate_rate
        else:
            line["product"] = None
            line.update({k: texts.get(k, "") for k in ("sku", "name", "name_zh", "specification", "hs_code")})
            packing = None
            if "units_per_carton" in raw and raw["units_per_carton"] not in (None, ""):
                upc = parse_id(raw["units_per_carton"])
                if upc is None or upc > 10_000_000:
                    line_errors.append(
                        _("Units per carton must be a whole number above zero (line %(n)d).") % {"n": n}
                    )
                else:
                    line["units_per_carton"] = upc
                    packing = Packing(units_per_carton=upc)
            if not line["name"]:
                line_errors.append(_("Enter a description or choose a product (line %(n)d).") % {"n": n})
        line["note"] = texts.get("note", "")
        unit = raw.get("unit") or (product.unit if product is not None else Unit.PCS)
        if unit not in Unit.values:
            line_errors.append(_("Unknown unit “%(value)s” (line %(n)d).") % {"value": unit, "n": n})
        line["unit"] = unit
        try:
            quantity = parse_decimal(raw.get("quantity"), places=QTY_PLACES, integer_digits=QTY_INTEGER_DIGITS,
                                     label_example="1000")  # fmt: skip
        except FieldProblem as exc:
            line_errors.append(
                _("Quantity: %(problem)s (line %(n)d).") % {"problem": str(exc).rstrip("."), "n": n}
            )
            quantity = None
        else:
            if quantity <= 0:
                line_errors.append(_("Quantity must be greater than zero (line %(n)d).") % {"n": n})
        try:
            price = parse_decimal(raw.get("unit_price"), places=PRICE_PLACES, integer_digits=PRICE_INTEGER_DIGITS,
                                  label_example="12.50")  # fmt: skip
        except FieldProblem as exc:
            line_errors.append(
                _("Unit price: %(problem)s (line %(n)d).") % {"problem": str(exc).rstrip("."), "n": n}
            )
            price = None
        else:
            if price < 0:
                line_errors.append(_("The unit price cannot be negative (line %(n)d).") % {"n": n})
        discount = Decimal("0")
        if raw.get("discount_percent") not in (None, ""):
            try:
                discount = parse_decimal(
                    raw["discount_percent"], places=2, integer_digits=3, label_example="5"
                )
            except FieldProblem as exc:
                line_errors.append(
                    _("Discount: %(problem)s (line %(n)d).") % {"problem": str(exc).rstrip("."), "n": n}
                )
            else:
                if discount < 0 or discount > 100:
                    line_errors.append(
                        _("The discount is a percentage from 0 to 100 (line %(n)d).") % {"n": n}
                    )
        if line_errors:
            for message in line_errors:
                errors.add("lines", message)
            continue
        figures = line_figures(quantity=quantity, unit_price=price, discount_percent=discount, packing=packing,
                               precision=precision)  # fmt: skip
        if figures.amount.adjusted() >= AMOUNT_INTEGER_DIGITS:
            errors.add("lines", _("The line amount is too large (line %(n)d).") % {"n": n})
            continue
        line.update(
            quantity=quantity, unit_price=price, discount_percent=discount, amount=figures.amount,
            cartons=figures.cartons, gross_weight_kg=figures.gross_weight_kg, net_weight_kg=figures.net_weight_kg,
            cbm=figures.cbm,
        )  # fmt: skip
        out.append(line)
    if (
        not errors.by_field
        and sum((ln["amount"] for ln in out), Decimal(0)).adjusted() >= AMOUNT_INTEGER_DIGITS
    ):
        errors.add("lines", _("The order total is too large."))
    errors.raise_if_any()
    return out


def line_costs(lines: list[dict]) -> tuple[Decimal | None, Decimal | None]:
    """(total purchase cost, total export tax rebate) in CNY of lines that carry a cost; None when
    no line does."""
    costed = [ln for ln in lines if ln.get("unit_cost_cny") is not None]
    if not costed:
        return None, None
    cost = sum((ln["unit_cost_cny"] * ln["quantity"] for ln in costed), Decimal("0"))
    rebate = sum(
        (unit_rebate(ln["unit_cost_cny"], ln.get("vat_rate"), ln.get("tax_rebate_rate")) * ln["quantity"]
         for ln in costed),
        Decimal("0"),
    )  # fmt: skip
    q = Decimal("0.01")
    return cost.quantize(q, rounding=ROUND_HALF_UP), rebate.quantize(q, rounding=ROUND_HALF_UP)


# --- containers (ISO 6346) ----------------------------------------------------------------------


def _letter_values() -> dict[str, int]:
    # A = 10, then each next letter one more, skipping multiples of 11 (11, 22, 33).
    values, v = {}, 10
    for letter in string.ascii_uppercase:
        if v % 11 == 0:
            v += 1
        values[letter] = v
        v += 1
    return values


LETTER_VALUES = _letter_values()
_CONTAINER = re.compile(r"^[A-Z]{3}[UJZ]\d{7}$")


def normalize_container_number(value: str) -> str:
    """“msku 123456-5” → “MSKU1234565” (spaces, hyphens and slashes dropped, upper case)."""
    return re.sub(r"[\s\-/.]", "", str(value or "")).upper()


def container_check_digit(first_ten: str) -> int:
    """The ISO 6346 check digit of owner code + category + serial (10 characters): each character's
    value (digits as they are, letters from LETTER_VALUES) times 2**position, summed, modulo 11;
    a remainder of 10 counts as 0."""
    if len(first_ten) != 10:
        raise ValueError("owner code, category and serial number are 10 characters")
    total = 0
    for position, ch in enumerate(first_ten):
        value = int(ch) if ch.isdigit() else LETTER_VALUES[ch]
        total += value * (2**position)
    return total % 11 % 10


def is_container_number(number: str) -> bool:
    """A valid ISO 6346 container number (normalized: “CSQU3054383”)."""
    return bool(_CONTAINER.match(number)) and int(number[10]) == container_check_digit(number[:10])


def container_number_problem(number: str, row: int) -> str | None:
    """None when `number` (normalized) is a valid ISO 6346 container number, else why not."""
    if not _CONTAINER.match(number):
        return _(
            "“%(value)s” is not a container number: 4 letters (the owner code, ending in U, J or Z), "
            "6 digits and a check digit, e.g. CSQU3054383 (container %(n)d)."
        ) % {"value": number, "n": row}
    expected = container_check_digit(number[:10])
    if int(number[10]) != expected:
        return _(
            "The check digit of %(value)s is wrong: it should end in %(digit)d; check for a typo (container %(n)d)."
        ) % {"value": number, "digit": expected, "n": row}
    return None


def clean_containers(raw: Any) -> list[dict]:
    """[{number, type, seal}] with valid ISO 6346 numbers, known types, no number twice. Rows with
    nothing in them are dropped (empty form rows)."""
    errors = Errors()
    if raw in (None, ""):
        return []
    if not isinstance(raw, list | tuple):
        errors.add("containers", _("Enter a list of containers."))
        errors.raise_if_any()
    if len(raw) > MAX_CONTAINERS:
        errors.add("containers", _("At most %(max)d containers per shipment.") % {"max": MAX_CONTAINERS})
        errors.raise_if_any()
    out: list[dict] = []
    seen: set[str] = set()
    for n, row in enumerate(raw, start=1):
        if not isinstance(row, dict):
            errors.add("containers", _("Container %(n)d is not an object with fields.") % {"n": n})
            continue
        number = normalize_container_number(row.get("number") or "")
        kind = str(row.get("type") or "").strip().upper()
        seal = str(row.get("seal") or "").strip()
        if not (number or kind or seal):
            continue
        if not number:
            errors.add("containers", _("Enter the container number (container %(n)d).") % {"n": n})
            continue
        problem = container_number_problem(number, n)
        if problem:
            errors.add("containers", problem)
            continue
        if number in seen:
            errors.add(
                "containers", _("%(value)s is listed twice (container %(n)d).") % {"value": number, "n": n}
            )
            continue
        seen.add(number)
        if kind not in CONTAINER_TYPES:
            errors.add(
                "containers",
                _("Choose the container type: %(types)s (container %(n)d).")
                % {"types": ", ".join(CONTAINER_TYPES), "n": n},
            )
            continue
        if len(seal) > 32 or "\x00" in seal:
            errors.add(
                "containers", _("The seal number is at most 32 characters (container %(n)d).") % {"n": n}
            )
            continue
        out.append({"number": number, "type": kind, "seal": seal})
    errors.raise_if_any()
    return out


# --- shipments ----------------------------------------------------------------------------------


def clean_shipment(data: dict, *, current=None) -> dict:
    """A shipment's fields; `current` (the shipment being changed) supplies the dates that were not
    sent, so ETA ≥ ETD and arrival ≥ departure are checked against what will be saved."""
    errors = Errors()
    out: dict[str, Any] = {}
    for field, limit in SHIPMENT_TEXT.items():
        _text(data, errors, field, limit, out)
    _choice(data, errors, "status", ShipmentStatus.values, out, blank=False)
    for field in SHIPMENT_DATES:
        _optional_date(data, errors, field, out)
    if "containers" in data:
        try:
            out["containers"] = clean_containers(data["containers"])
        except ValidationError as exc:
            for message in exc.messages:
                errors.add("containers", message)
    if "bl_number" in out:
        out["bl_number"] = out["bl_number"].upper()

    def value(field):
        return out[field] if field in out else (getattr(current, field) if current is not None else None)

    etd, eta, atd, ata = (value(f) for f in SHIPMENT_DATES)
    if etd and eta and eta < etd and "eta" not in errors.by_field:
        errors.add(
            "eta", _("The ETA (%(eta)s) cannot be before the ETD (%(etd)s).") % {"eta": eta, "etd": etd}
        )
    if atd and ata and ata < atd and "ata" not in errors.by_field:
        errors.add(
            "ata",
            _("The arrival (%(ata)s) cannot be before the departure (%(atd)s).") % {"ata": ata, "atd": atd},
        )
    errors.raise_if_any()
    return out


# --- payments -----------------------------------------------------------------------------------


def clean_payment(data: dict, *, today: dt.date) -> dict:
    """amount > 0, an ISO currency, the date received (not after today), bank charges ≥ 0, the
    bank reference and a note."""
    errors = Errors()
    out: dict[str, Any] = {}
    try:
        amount = parse_decimal(data.get("amount"), places=2, integer_digits=AMOUNT_INTEGER_DIGITS)
    except FieldProblem as exc:
        errors.add("amount", str(exc))
    else:
        if amount <= 0:
            errors.add("amount", _("The amount must be greater than zero."))
        else:
            out["amount"] = amount
    try:
        out["currency"] = currency_code(data.get("currency"))
    except FieldProblem as exc:
        errors.add("currency", str(exc))
    raw = data.get("received_on")
    if raw in (None, ""):
        errors.add("received_on", _("Enter the date the money arrived."))
    else:
        try:
            day = parse_date(raw)
        except FieldProblem as exc:
            errors.add("received_on", str(exc))
        else:
            if day > today:
                errors.add(
                    "received_on",
                    _("The date received (%(date)s) is in the future; record a payment when it has arrived.")
                    % {"date": day},
                )
            else:
                out["received_on"] = day
    charges = Decimal("0")
    if data.get("bank_charges") not in (None, ""):
        try:
            charges = parse_decimal(data["bank_charges"], places=2, integer_digits=10, label_example="25")
        except FieldProblem as exc:
            errors.add("bank_charges", str(exc))
        else:
            if charges < 0:
                errors.add("bank_charges", _("Bank charges cannot be negative."))
    out["bank_charges"] = charges
    _text(data, errors, "reference", 120, out)
    _text(data, errors, "note", 255, out)
    errors.raise_if_any()
    return out
