"""Field rules of the catalogue, shared by the web forms, the API, the CLI and the spreadsheet
importer.

`clean_product` / `clean_price_list` / `clean_price` take raw values (strings from a form or a
CSV, numbers from JSON or a spreadsheet) and return clean ones, or raise
ValidationError({field: [messages]}) naming every bad field at once.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from tradecrm.core.errors import Errors
from tradecrm.core.money import is_currency

from .models import PriceList, PriceListItem, Product, Unit

PRODUCT_TEXT_LIMITS = {
    "sku": 64,
    "name_en": 255,
    "name_zh": 255,
    "specification": 5000,
    "description": 20000,
    "category": 120,
    "packing_notes": 5000,
    "supplier": 255,
}
# field: (lowest, lowest allowed itself?, highest or None)
PRODUCT_DECIMALS: dict[str, tuple[Decimal, bool, Decimal | None]] = {
    "moq": (Decimal(0), False, None),
    "carton_length_cm": (Decimal(0), True, None),
    "carton_width_cm": (Decimal(0), True, None),
    "carton_height_cm": (Decimal(0), True, None),
    "carton_gross_weight_kg": (Decimal(0), True, None),
    "carton_net_weight_kg": (Decimal(0), True, None),
    "carton_cbm": (Decimal(0), True, None),
    "purchase_cost_cny": (Decimal(0), True, None),
    "vat_rate": (Decimal(0), True, Decimal(100)),
    "tax_rebate_rate": (Decimal(0), True, Decimal(100)),
}
PERCENT_FIELDS = ("vat_rate", "tax_rebate_rate")
MAX_UNITS_PER_CARTON = 1_000_000
# Cost side: purchase cost, VAT, rebate and the supplier are shown only to `can_see_costs` roles.
COST_FIELDS = ("purchase_cost_cny", "vat_rate", "tax_rebate_rate", "supplier")
PRODUCT_FIELDS = (
    "sku", "name_en", "name_zh", "specification", "description", "category", "hs_code", "unit", "moq",
    "units_per_carton", "carton_length_cm", "carton_width_cm", "carton_height_cm", "carton_gross_weight_kg",
    "carton_net_weight_kg", "carton_cbm", "packing_notes", "purchase_cost_cny", "vat_rate", "tax_rebate_rate",
    "supplier", "active",
)  # fmt: skip

_HS_SEPARATORS = re.compile(r"[\s.\-\u00a0]+")
_HS = re.compile(r"^\d{6,10}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")

# What people type or export for a unit, besides the codes: English labels and plurals, Chinese.
UNIT_ALIASES = {
    "pc": "pcs", "piece": "pcs", "pieces": "pcs", "个": "pcs", "件": "pcs", "只": "pcs", "支": "pcs",
    "台": "pcs", "把": "pcs", "块": "pcs", "条": "pcs", "sets": "set", "套": "set", "pairs": "pair",
    "双": "pair", "对": "pair", "dozens": "dozen", "doz": "dozen", "dz": "dozen", "打": "dozen",
    "boxes": "box", "盒": "box", "cartons": "carton", "ctn": "carton", "ctns": "carton", "箱": "carton",
    "bags": "bag", "袋": "bag", "包": "bag", "rolls": "roll", "卷": "roll", "sheets": "sheet", "张": "sheet",
    "kgs": "kg", "kilogram": "kg", "kilograms": "kg", "千克": "kg", "公斤": "kg", "tons": "ton", "t": "ton",
    "mt": "ton", "metric ton": "ton", "metric tons": "ton", "吨": "ton", "meter": "m", "meters": "m",
    "metre": "m", "metres": "m", "米": "m", "sqm": "m2", "m²": "m2", "平方米": "m2", "平米": "m2",
    "cbm": "m3", "m³": "m3", "立方米": "m3", "方": "m3", "litre": "l", "litres": "l", "liter": "l",
    "liters": "l", "升": "l",
}  # fmt: skip
_TRUE = {"1", "true", "yes", "y", "on", "是", "有效", "启用", "active"}
_FALSE = {"0", "false", "no", "n", "off", "否", "无效", "停用", "inactive", ""}


def plain(number: Decimal | None) -> str:
    """A Decimal without trailing zeros or an exponent: 20.00 → "20", 0.0500 → "0.05"."""
    if number is None:
        return ""
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _places(field: str) -> tuple[int, int]:
    f = Product._meta.get_field(field)
    return f.max_digits, f.decimal_places


def parse_decimal(value: Any, places: int, *, percent: bool = False) -> Decimal:
    """A Decimal from a Decimal, int, float (a spreadsheet cell) or text ("1,234.5", "12,5",
    "13%" for a percentage). Floats are rounded to `places` when the rest is binary noise
    (0.30000000000000004); otherwise more places than the field holds are refused later.
    Raises ValueError."""
    if isinstance(value, bool):
        raise ValueError("bool")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("not finite")
        rounded = round(value, places)
        number = Decimal(repr(rounded if abs(value - rounded) < 1e-9 else value))
    elif isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip().replace(" ", "").replace("\u00a0", "")
        if percent and text.endswith("%"):
            text = text[:-1]
        if "," in text:
            if "." in text or _THOUSANDS.match(text):
                text = text.replace(",", "")  # 1,234.5 / 1,500: thousands
            elif text.count(",") == 1:
                text = text.replace(",", ".")  # 12,5: a decimal comma
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(text) from None
    else:
        raise ValueError(repr(value))
    if not number.is_finite():
        raise ValueError("not finite")
    return number


def decimal_places_of(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def check_decimal(
    errors: Errors, field: str, value: Any, *, max_digits: int, places: int, low: Decimal, low_ok: bool,
    high: Decimal | None, percent: bool = False,
) -> Decimal | None:  # fmt: skip
    """The value as a Decimal of at most `places` decimals within the bounds, or None after
    adding a message for `field`."""
    try:
        number = parse_decimal(value, places, percent=percent)
    except ValueError:
        errors.add(field, _("“%(value)s” is not a number.") % {"value": value})
        return None
    if decimal_places_of(number) > places:
        errors.add(field, _("At most %(places)d decimal places.") % {"places": places})
        return None
    if low_ok and number < low:
        errors.add(field, _("Enter a number of at least %(limit)s.") % {"limit": low})
        return None
    if not low_ok and number <= low:
        errors.add(field, _("Enter a number greater than %(limit)s.") % {"limit": low})
        return None
    if high is not None and number > high:
        errors.add(field, _("Enter a number of at most %(limit)s.") % {"limit": high})
        return None
    biggest = Decimal(10) ** (max_digits - places)
    if abs(number) >= biggest:
        errors.add(field, _("Enter a number below %(limit)s.") % {"limit": biggest})
        return None
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def normalize_hs_code(value: Any) -> str:
    """ "7323.93.00" → "73239300". A number from a spreadsheet lost its leading zero (0901.21 was
    typed as 90121): HS codes have 6, 8 or 10 digits, so an odd count gets the zero back."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        digits = str(value)
        return "0" + digits if len(digits) in (5, 7, 9) else digits
    return _HS_SEPARATORS.sub("", unicodedata.normalize("NFKC", str(value)))


def normalize_unit(value: Any) -> str:
    text = " ".join(unicodedata.normalize("NFKC", str(value or "")).strip().lower().split())
    if text in Unit.values:
        return text
    if text in UNIT_ALIASES:
        return UNIT_ALIASES[text]
    labels = {str(label).lower(): code for code, label in Unit.choices}
    return labels.get(text, text)


def parse_bool(value: Any) -> bool:
    """True/False from a checkbox, JSON or a spreadsheet cell ("yes", "是", 1…). Raises ValueError."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value if value is not None else "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(text)


def _text(data: dict, errors: Errors, field: str, limit: int, out: dict) -> None:
    if field not in data:
        return
    value = data[field]
    if value is None:
        value = ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        # a spreadsheet cell holding a number, e.g. a SKU like 10023
        value = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    if not isinstance(value, str):
        errors.add(field, _("Enter text."))
        return
    value = value.strip()
    if "\x00" in value:
        errors.add(field, _("Null characters are not allowed."))
        return
    if len(value) > limit:
        errors.add(
            field,
            _("At most %(limit)d characters (this has %(length)d).") % {"limit": limit, "length": len(value)},
        )
        return
    out[field] = value


def sku_owner(sku: str, exclude_pk: int | None = None) -> Product | None:
    """The product whose SKU is `sku`, ignoring case (the SKU index is case-insensitive)."""
    qs = Product.objects.filter(sku__iexact=sku).only("id", "sku", "name_en")
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.first()


def clean_product(
    data: dict, *, instance: Product | None = None, partial: bool = False, check_unique: bool = True
) -> dict:
    """Clean model values for a product from the fields present in `data`. On create (`partial`
    False) the SKU and the English name are required. Cross-field rules (net ≤ gross weight,
    rebate ≤ VAT) compare with `instance`'s values for fields not given."""
    errors = Errors()
    out: dict[str, Any] = {}
    for field, limit in PRODUCT_TEXT_LIMITS.items():
        _text(data, errors, field, limit, out)

    for field, label in (("sku", _("Enter the SKU.")), ("name_en", _("Enter the English name."))):
        if (field in data or not partial) and not out.get(field) and field not in errors.by_field:
            errors.add(field, label)
    sku = out.get("sku")
    if sku and _CONTROL.search(sku):
        errors.add("sku", _("The SKU cannot contain tabs, line breaks or other control characters."))
    elif sku and check_unique:
        other = sku_owner(sku, instance.pk if instance is not None else None)
        if other is not None:
            errors.add(
                "sku",
                _("The SKU “%(sku)s” is already used by %(product)s (id %(id)d).")
                % {"sku": other.sku, "product": other.name_en, "id": other.pk},
            )

    if "hs_code" in data:
        code = normalize_hs_code(data["hs_code"])
        if code and not _HS.match(code):
            errors.add(
                "hs_code",
                _("“%(value)s” is not an HS code: enter 6 to 10 digits (dots and spaces are ignored).")
                % {"value": data["hs_code"]},
            )
        else:
            out["hs_code"] = code

    if "unit" in data or not partial:
        raw = data.get("unit")
        if raw in (None, ""):
            if "unit" in data:
                errors.add("unit", _("Choose a unit."))
            else:
                out["unit"] = Unit.PCS
        else:
            unit = normalize_unit(raw)
            if unit not in Unit.values:
                errors.add(
                    "unit",
                    _("“%(value)s” is not a unit; use one of: %(units)s.")
                    % {"value": raw, "units": ", ".join(Unit.values)},
                )
            else:
                out["unit"] = unit

    for field, (low, low_ok, high) in PRODUCT_DECIMALS.items():
        if field not in data:
            continue
        value = data[field]
        if value is None or (isinstance(value, str) and not value.strip()):
            if field in PERCENT_FIELDS:
                out[field] = Decimal(13) if field == "vat_rate" else Decimal(0)
            else:
                out[field] = None
            continue
        max_digits, places = _places(field)
        number = check_decimal(
            errors, field, value, max_digits=max_digits, places=places, low=low, low_ok=low_ok, high=high,
            percent=field in PERCENT_FIELDS,
        )  # fmt: skip
        if number is not None:
            out[field] = number

    if "units_per_carton" in data:
        value = data["units_per_carton"]
        if value is None or (isinstance(value, str) and not value.strip()):
            out["units_per_carton"] = None
        else:
            try:
                number = parse_decimal(value, 0)
                if number != number.to_integral_value():
                    raise ValueError
            except ValueError:
                errors.add("units_per_carton", _("Enter a whole number of units."))
            else:
                if not 1 <= number <= MAX_UNITS_PER_CARTON:
                    errors.add(
                        "units_per_carton",
                        _("Enter a number of units between 1 and %(limit)d.")
                        % {"limit": MAX_UNITS_PER_CARTON},
                    )
                else:
                    out["units_per_carton"] = int(number)

    if "active" in data:
        try:
            out["active"] = parse_bool(data["active"])
        except ValueError:
            errors.add("active", _("Enter yes or no."))

    def merged(field):
        if field in out:
            return out[field]
        if field in data:  # given but refused
            return None
        return getattr(instance, field, None) if instance is not None else None

    gross, net = merged("carton_gross_weight_kg"), merged("carton_net_weight_kg")
    if (
        gross is not None
        and net is not None
        and net > gross
        and {"carton_gross_weight_kg", "carton_net_weight_kg"} & out.keys()
    ):
        errors.add(
            "carton_net_weight_kg",
            _("The net weight (%(net)s kg) cannot be more than the gross weight (%(gross)s kg).")
            % {"net": plain(net), "gross": plain(gross)},
        )
    vat, rebate = merged("vat_rate"), merged("tax_rebate_rate")
    if vat is None and instance is None and "vat_rate" not in data:
        vat = Decimal(13)
    if (
        vat is not None
        and rebate is not None
        and rebate > vat
        and {"vat_rate", "tax_rebate_rate"} & out.keys()
    ):
        errors.add(
            "tax_rebate_rate",
            _("The export tax-rebate rate (%(rebate)s%%) cannot be higher than the VAT rate (%(vat)s%%).")
            % {"rebate": plain(rebate), "vat": plain(vat)},
        )
    errors.raise_if_any()
    return out


# --- price lists --------------------------------------------------------------------------------


def parse_date(value: Any) -> dt.date:
    """A date from a date, a datetime or "YYYY-MM-DD". Raises ValueError."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value.strip())
    raise ValueError(repr(value))


def clean_price_list(data: dict, *, instance: PriceList | None = None, partial: bool = False) -> dict:
    errors = Errors()
    out: dict[str, Any] = {}
    _text(data, errors, "name", 120, out)
    _text(data, errors, "notes", 5000, out)
    if ("name" in data or not partial) and not out.get("name") and "name" not in errors.by_field:
        errors.add("name", _("Enter a name for the price list."))
    name = out.get("name")
    if name:
        other = PriceList.objects.filter(name__iexact=name)
        if instance is not None:
            other = other.exclude(pk=instance.pk)
        if other.exists():
            errors.add("name", _("There is already a price list called “%(name)s”.") % {"name": name})
    if "currency" in data or not partial:
        code = str(data.get("currency") or "").strip().upper()
        if not code:
            errors.add("currency", _("Choose the currency of the price list."))
        elif not is_currency(code):
            errors.add("currency", _("“%(value)s” is not an ISO 4217 currency code.") % {"value": code})
        else:
            out["currency"] = code
    for field in ("valid_from", "valid_until"):
        if field not in data:
            continue
        value = data[field]
        if value in (None, ""):
            out[field] = None
            continue
        try:
            out[field] = parse_date(value)
        except (ValueError, TypeError):
            errors.add(field, _("“%(value)s” is not a date (use YYYY-MM-DD).") % {"value": value})
    if "active" in data:
        try:
            out["active"] = parse_bool(data["active"])
        except ValueError:
            errors.add("active", _("Enter yes or no."))
    start = out.get("valid_from", getattr(instance, "valid_from", None) if "valid_from" not in data else None)
    end = out.get(
        "valid_until", getattr(instance, "valid_until", None) if "valid_until" not in data else None
    )
    if start and end and end < start:
        errors.add(
            "valid_until",
            _("The price list cannot end (%(end)s) before it starts (%(start)s).")
            % {"end": end.isoformat(), "start": start.isoformat()},
        )
    errors.raise_if_any()
    return out


def clean_price(*, unit_price: Any, min_quantity: Any = 1) -> tuple[Decimal, Decimal]:
    """(unit_price, min_quantity) of a price-list entry, or a ValidationError naming both."""
    errors = Errors()
    price_field = PriceListItem._meta.get_field("unit_price")
    qty_field = PriceListItem._meta.get_field("min_quantity")
    price = qty = None
    if unit_price is None or (isinstance(unit_price, str) and not unit_price.strip()):
        errors.add("unit_price", _("Enter the unit price."))
    else:
        price = check_decimal(
            errors, "unit_price", unit_price, max_digits=price_field.max_digits,
            places=price_field.decimal_places, low=Decimal(0), low_ok=True, high=None,
        )  # fmt: skip
    if min_quantity is None or (isinstance(min_quantity, str) and not min_quantity.strip()):
        min_quantity = 1
    qty = check_decimal(
        errors, "min_quantity", min_quantity, max_digits=qty_field.max_digits, places=qty_field.decimal_places,
        low=Decimal(0), low_ok=False, high=None,
    )  # fmt: skip
    errors.raise_if_any()
    return price, qty  # type: ignore[return-value]
