"""The arithmetic of trade-document lines, shared by quotations, proforma invoices and orders:
line amount after discount, cartons, weights and volume from the product's packing, totals,
a container estimate, and the margin against cost with the export tax rebate.

Pure functions over Decimals: no database access, so services call them for every line of a
200-line document without cost, and tests check them directly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0")
HUNDRED = Decimal("100")
CM3_PER_M3 = Decimal("1000000")


def _q(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def money(value: Decimal, precision: int = 2) -> Decimal:
    """Round an amount to the currency's minor unit (2 places unless told otherwise)."""
    return _q(value, "1" if precision == 0 else "0." + "0" * (precision - 1) + "1")


def carton_cbm(length_cm, width_cm, height_cm) -> Decimal | None:
    """Outer volume of one carton in m³, from its dimensions in cm (None if one is missing)."""
    if not (length_cm and width_cm and height_cm):
        return None
    return _q(Decimal(length_cm) * Decimal(width_cm) * Decimal(height_cm) / CM3_PER_M3, "0.0001")


@dataclass(frozen=True)
class Packing:
    """Per-carton packing of a product, as copied onto a line."""

    units_per_carton: int | None = None
    gross_weight_kg: Decimal | None = None
    net_weight_kg: Decimal | None = None
    cbm: Decimal | None = None

    @classmethod
    def of_product(cls, product) -> Packing:
        cbm = product.carton_cbm or carton_cbm(
            product.carton_length_cm, product.carton_width_cm, product.carton_height_cm
        )
        return cls(
            units_per_carton=product.units_per_carton,
            gross_weight_kg=product.carton_gross_weight_kg,
            net_weight_kg=product.carton_net_weight_kg,
            cbm=cbm,
        )


@dataclass(frozen=True)
class LineFigures:
    amount: Decimal
    gross_amount: Decimal  # before discount
    cartons: int
    gross_weight_kg: Decimal
    net_weight_kg: Decimal
    cbm: Decimal


def line_figures(
    *,
    quantity: Decimal,
    unit_price: Decimal,
    discount_percent: Decimal = ZERO,
    packing: Packing | None = None,
    precision: int = 2,
) -> LineFigures:
    """Amount = quantity × unit price × (1 − discount); cartons = quantity ÷ units per carton,
    rounded up (a part-filled carton still ships); weights and volume per carton × cartons."""
    gross = quantity * unit_price
    amount = money(gross * (HUNDRED - (discount_percent or ZERO)) / HUNDRED, precision)
    cartons = 0
    gw = nw = cbm = ZERO
    if packing and packing.units_per_carton:
        cartons = math.ceil(quantity / Decimal(packing.units_per_carton))
        gw = _q((packing.gross_weight_kg or ZERO) * cartons, "0.001")
        nw = _q((packing.net_weight_kg or ZERO) * cartons, "0.001")
        cbm = _q((packing.cbm or ZERO) * cartons, "0.0001")
    return LineFigures(amount, money(gross, precision), cartons, gw, nw, cbm)


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal  # before discounts
    discount_total: Decimal
    total_amount: Decimal
    total_cartons: int
    total_gross_weight_kg: Decimal
    total_net_weight_kg: Decimal
    total_cbm: Decimal


def totals(lines: Iterable) -> Totals:
    """Totals of lines with `quantity`, `unit_price`, `amount`, `cartons`, `gross_weight_kg`,
    `net_weight_kg`, `cbm` (attributes or dict keys)."""
    sub = disc = amt = gw = nw = cbm = ZERO
    cartons = 0
    for line in lines:
        get = line.get if isinstance(line, dict) else lambda k, _l=line: getattr(_l, k)
        gross = money(get("quantity") * get("unit_price"))
        sub += gross
        amt += get("amount")
        disc += gross - get("amount")
        cartons += get("cartons") or 0
        gw += get("gross_weight_kg") or ZERO
        nw += get("net_weight_kg") or ZERO
        cbm += get("cbm") or ZERO
    return Totals(sub, max(disc, ZERO), amt, cartons, gw, nw, cbm)


# Loadable volume and payload of the common dry containers (practical figures for cartons: the
# nominal inside volume is 33 / 67 / 76 m³, but cartons never fill it).
CONTAINERS = (
    ("20GP", Decimal("28"), Decimal("21700")),
    ("40GP", Decimal("58"), Decimal("26500")),
    ("40HQ", Decimal("68"), Decimal("26500")),
)


def container_estimate(cbm: Decimal, gross_weight_kg: Decimal) -> dict:
    """How many of each container type the goods need (by volume and by weight, whichever binds),
    how full the last one is, and a suggested mix of 40HQ plus at most one 20GP.
    {"20GP": {"count": 2, "fill_percent": 57}, ..., "suggested": "1 × 40HQ + 1 × 20GP"}"""
    out: dict = {}
    if cbm <= 0 and gross_weight_kg <= 0:
        for name, _v, _w in CONTAINERS:
            out[name] = {"count": 0, "fill_percent": 0}
        out["suggested"] = ""
        out["lcl"] = False
        return out
    for name, vol, kg in CONTAINERS:
        need = max(cbm / vol, gross_weight_kg / kg)
        count = max(1, math.ceil(need))
        fill = int((need - (count - 1)) * 100) if need > 0 else 0
        out[name] = {"count": count, "fill_percent": min(fill, 100)}
    hq_vol, hq_kg = CONTAINERS[2][1], CONTAINERS[2][2]
    gp_vol, gp_kg = CONTAINERS[0][1], CONTAINERS[0][2]
    full_hq = math.floor(max(cbm / hq_vol, gross_weight_kg / hq_kg))
    rest_cbm, rest_kg = max(cbm - full_hq * hq_vol, ZERO), max(gross_weight_kg - full_hq * hq_kg, ZERO)
    hq, gp = full_hq, 0
    if rest_cbm > 0 or rest_kg > 0:
        if rest_cbm <= gp_vol and rest_kg <= gp_kg:
            gp = 1
        else:
            hq += 1
    parts = [f"{hq} × 40HQ"] if hq else []
    parts += [f"{gp} × 20GP"] if gp else []
    out["suggested"] = " + ".join(parts)
    # Under ~15 m³ a full container is rarely worth it: shipped as LCL (less than container load).
    out["lcl"] = cbm < Decimal("15") and gross_weight_kg < Decimal("10000")
    return out


@dataclass(frozen=True)
class Margin:
    revenue_cny: Decimal
    cost_cny: Decimal  # purchase cost, VAT included
    rebate_cny: Decimal  # export VAT rebate
    margin_cny: Decimal  # revenue − (cost − rebate)
    margin_percent: Decimal | None  # of revenue
    complete: bool  # every line had a cost


def unit_rebate(unit_cost_cny: Decimal, vat_rate: Decimal, rebate_rate: Decimal) -> Decimal:
    """The export tax rebate on one unit: the VAT-inclusive purchase cost ÷ (1 + VAT) × rebate rate."""
    if not unit_cost_cny or not rebate_rate:
        return ZERO
    return unit_cost_cny / (1 + (vat_rate or ZERO) / HUNDRED) * rebate_rate / HUNDRED


def margin(lines: Iterable, *, rate_to_cny: Decimal) -> Margin:
    """Margin of lines (`quantity`, `amount`, `unit_cost_cny`, `vat_rate`, `tax_rebate_rate`) whose
    amounts are in a currency worth `rate_to_cny` CNY each. Lines without a cost count as revenue
    only and make the result incomplete."""
    revenue = cost = rebate = ZERO
    complete = True
    for line in lines:
        get = line.get if isinstance(line, dict) else lambda k, _l=line: getattr(_l, k)
        revenue += get("amount") * rate_to_cny
        unit_cost = get("unit_cost_cny")
        if unit_cost is None:
            complete = False
            continue
        qty = get("quantity")
        cost += unit_cost * qty
        rebate += unit_rebate(unit_cost, get("vat_rate"), get("tax_rebate_rate")) * qty
    revenue, cost, rebate = money(revenue), money(cost), money(rebate)
    result = revenue - cost + rebate
    percent = _q(result / revenue * HUNDRED, "0.01") if revenue else None
    return Margin(revenue, cost, rebate, result, percent, complete)
