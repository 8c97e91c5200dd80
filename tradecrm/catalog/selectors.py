"""Reads of the catalogue.

Products and price lists belong to the whole company: every signed-in user sees every one of
them, so the `*_get_for_user` loaders raise Http404 only for ids that do not exist. What depends
on the role is the cost side: purchase cost, VAT and rebate rates and the supplier are returned
only for `can_see_costs(user)` (administrators and managers) — in lists, details, the picker
and exports alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from tradecrm.accounts.access import can_see_costs
from tradecrm.core.ids import parse_id
from tradecrm.core.paging import Sort, keyset_page
from tradecrm.core.search import apply_search
from tradecrm.documents.lines import carton_cbm

from .models import PriceList, PriceListItem, Product, ProductPhoto
from .validation import COST_FIELDS, normalize_hs_code

PRODUCT_SORTS = {
    "name": Sort("name_en", False),
    "-name": Sort("name_en", True),
    "sku": Sort("sku", False),
    "-sku": Sort("sku", True),
    "-updated_at": Sort("updated_at", True, "datetime"),
    "updated_at": Sort("updated_at", False, "datetime"),
}
PUBLIC_FIELDS = (
    "id", "sku", "name_en", "name_zh", "specification", "description", "category", "hs_code", "unit", "moq",
    "units_per_carton", "carton_length_cm", "carton_width_cm", "carton_height_cm", "carton_gross_weight_kg",
    "carton_net_weight_kg", "carton_cbm", "packing_notes", "active", "version", "created_at", "updated_at",
)  # fmt: skip
MAX_LIMIT = 200


def sees_costs(user) -> bool:
    """`can_see_costs`, with None (the system: the CLI without --user) seeing everything."""
    return user is None or can_see_costs(user)


def product_fields(user) -> tuple[str, ...]:
    """The product columns this user may read."""
    return PUBLIC_FIELDS + COST_FIELDS if sees_costs(user) else PUBLIC_FIELDS


@dataclass
class ProductFilters:
    q: str = ""
    category: str = ""
    active: bool | None = None  # None: both
    hs_code: str = ""  # a prefix: "7323" finds 7323.93.00 and 7323.99.00
    sort: str = "name"


def products_for_user(user) -> QuerySet:
    return Product.objects.all()


def product_get_for_user(user, product_id) -> Product:
    """Products are shared by the whole company: 404 only for an id that does not exist."""
    product_id = parse_id(product_id)
    if product_id is None:
        raise Http404
    try:
        return products_for_user(user).select_related("created_by", "updated_by").get(pk=product_id)
    except Product.DoesNotExist:
        raise Http404 from None


product_get = product_get_for_user


def product_filter(user, f: ProductFilters) -> QuerySet:
    qs = products_for_user(user)
    if f.category:
        qs = qs.filter(category=f.category)
    if f.active is not None:
        qs = qs.filter(active=f.active)
    if f.hs_code:
        prefix = normalize_hs_code(f.hs_code)
        qs = qs.filter(hs_code__startswith=prefix) if prefix.isdigit() else qs.none()
    if f.q:
        qs = apply_search(qs, f.q)
    return qs


def product_list(user, f: ProductFilters, *, cursor: str | None = None, limit: int = 50):
    """One page of products as dicts (cost fields only for permitted roles), each with the id of
    its first photo: (rows, next_cursor, prev_cursor)."""
    sort = PRODUCT_SORTS.get(f.sort, PRODUCT_SORTS["name"])
    limit = max(1, min(int(limit), MAX_LIMIT))
    rows, nxt, prev = keyset_page(product_filter(user, f), sort, cursor, limit, product_fields(user))
    attach_first_photo(rows)
    return rows, nxt, prev


def attach_first_photo(rows: list[dict]) -> None:
    ids = [r["id"] for r in rows]
    first: dict[int, int] = {}
    if ids:
        for product_id, photo_id in (
            ProductPhoto.objects.filter(product_id__in=ids)
            .order_by("product_id", "-position", "-id")
            .values_list("product_id", "id")
        ):
            first[product_id] = photo_id  # the last one written per product is the first in order
    for r in rows:
        r["photo_id"] = first.get(r["id"])


def product_categories() -> list[str]:
    return list(
        Product.objects.exclude(category="")
        .order_by("category")
        .values_list("category", flat=True)
        .distinct()
    )


def product_photos(product: Product) -> list[ProductPhoto]:
    return list(product.photos.all())


def photo_get_for_user(user, photo_id) -> ProductPhoto:
    photo_id = parse_id(photo_id)
    if photo_id is None:
        raise Http404
    try:
        return ProductPhoto.objects.select_related("product").get(pk=photo_id)
    except ProductPhoto.DoesNotExist:
        raise Http404 from None


# --- price lists --------------------------------------------------------------------------------


def price_lists_for_user(user) -> QuerySet:
    return PriceList.objects.all()


def price_list_get_for_user(user, price_list_id) -> PriceList:
    price_list_id = parse_id(price_list_id)
    if price_list_id is None:
        raise Http404
    try:
        return price_lists_for_user(user).select_related("updated_by").get(pk=price_list_id)
    except PriceList.DoesNotExist:
        raise Http404 from None


def price_item_get_for_user(user, item_id) -> PriceListItem:
    item_id = parse_id(item_id)
    if item_id is None:
        raise Http404
    try:
        return PriceListItem.objects.select_related("price_list", "product").get(pk=item_id)
    except PriceListItem.DoesNotExist:
        raise Http404 from None


def price_list_rows(user) -> list[dict]:
    """Every price list with its number of prices, by name (there are tens, not thousands)."""
    return list(
        price_lists_for_user(user)
        .annotate(prices=Count("items"))
        .order_by("name", "id")
        .values(
            "id", "name", "currency", "valid_from", "valid_until", "notes", "active", "version", "prices",
            "created_at", "updated_at",
        )
    )  # fmt: skip


def price_list_items(price_list: PriceList, *, q: str = "") -> QuerySet:
    qs = PriceListItem.objects.filter(price_list=price_list)
    if q:
        qs = qs.filter(product__in=apply_search(Product.objects.all(), q))
    return qs.order_by("product__sku", "min_quantity").values(
        "id", "product_id", "product__sku", "product__name_en", "product__name_zh", "product__unit",
        "product__active", "min_quantity", "unit_price",
    )  # fmt: skip


def product_prices(product: Product) -> list[dict]:
    """The product's prices on every list: list, currency, validity, quantity break, price."""
    return list(
        PriceListItem.objects.filter(product=product)
        .order_by("price_list__currency", "price_list__name", "min_quantity")
        .values(
            "id", "price_list_id", "price_list__name", "price_list__currency", "price_list__active",
            "price_list__valid_from", "price_list__valid_until", "min_quantity", "unit_price",
        )
    )  # fmt: skip


def _valid_lists(currency: str | None, on: dt.date) -> QuerySet:
    qs = PriceList.objects.filter(active=True)
    if currency:
        qs = qs.filter(currency=currency)
    return qs.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=on)).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=on)
    )


def _list_rank(row: dict) -> tuple:
    # the most recently started list wins; an open-ended one (no start) counts as the oldest
    start = row["price_list__valid_from"]
    return (start is not None, start or dt.date.min, row["price_list_id"])


@dataclass(frozen=True)
class PriceMatch:
    unit_price: Decimal
    currency: str
    min_quantity: Decimal
    price_list_id: int
    price_list_name: str


def price_lookup(product, currency: str, quantity=None, on_date: dt.date | None = None) -> PriceMatch | None:
    """The price for `quantity` of `product` in `currency` on `on_date` (default today): among the
    active price lists in that currency valid that day and having a break at or below the
    quantity, the one that started last; on it, the highest break not above the quantity.
    None when there is none (also when the quantity is below every break)."""
    product_id = product.pk if isinstance(product, Product) else parse_id(product)
    currency = (currency or "").strip().upper()
    if product_id is None or not currency:
        return None
    on = on_date or timezone.localdate()
    qty = Decimal(str(quantity)) if quantity not in (None, "") else Decimal(1)
    rows = list(
        PriceListItem.objects.filter(
            product_id=product_id, price_list__in=_valid_lists(currency, on), min_quantity__lte=qty
        ).values("price_list_id", "price_list__name", "price_list__valid_from", "min_quantity", "unit_price")
    )
    if not rows:
        return None
    best = max(rows, key=lambda r: (*_list_rank(r), r["min_quantity"]))
    return PriceMatch(
        unit_price=best["unit_price"],
        currency=currency,
        min_quantity=best["min_quantity"],
        price_list_id=best["price_list_id"],
        price_list_name=best["price_list__name"],
    )


def price_for(product, currency: str, quantity=None, on_date: dt.date | None = None) -> Decimal | None:
    """The unit price a quotation line prefills (see `price_lookup`), or None."""
    match = price_lookup(product, currency, quantity, on_date)
    return match.unit_price if match is not None else None


def current_prices(product_ids: list[int], on: dt.date) -> dict[int, dict[str, dict]]:
    """For each product, per currency: the price list that applies on `on` (active, valid, latest
    start) with its quantity breaks. {product_id: {"USD": {"unit_price", "min_quantity",
    "price_list": {"id", "name"}, "breaks": [{"min_quantity", "unit_price"}…]}}}"""
    out: dict[int, dict[str, dict]] = {pid: {} for pid in product_ids}
    if not product_ids:
        return out
    rows = (
        PriceListItem.objects.filter(product_id__in=product_ids, price_list__in=_valid_lists(None, on))
        .order_by("min_quantity")
        .values(
            "product_id", "price_list_id", "price_list__name", "price_list__currency", "price_list__valid_from",
            "min_quantity", "unit_price",
        )
    )  # fmt: skip
    chosen: dict[tuple[int, str], tuple] = {}
    breaks: dict[tuple[int, int], list[dict]] = {}
    for r in rows:
        key = (r["product_id"], r["price_list__currency"])
        rank = _list_rank(r)
        if key not in chosen or rank > chosen[key][0]:
            chosen[key] = (rank, r)
        breaks.setdefault((r["product_id"], r["price_list_id"]), []).append(
            {"min_quantity": r["min_quantity"], "unit_price": r["unit_price"]}
        )
    for (product_id, currency), (_rank, r) in chosen.items():
        steps = breaks[(product_id, r["price_list_id"])]
        out[product_id][currency] = {
            "unit_price": steps[0]["unit_price"],
            "min_quantity": steps[0]["min_quantity"],
            "price_list": {"id": r["price_list_id"], "name": r["price_list__name"]},
            "breaks": steps,
        }
    return out


PICKER_FIELDS = (
    "id", "sku", "name_en", "name_zh", "specification", "hs_code", "unit", "moq", "units_per_carton",
    "carton_length_cm", "carton_width_cm", "carton_height_cm", "carton_gross_weight_kg", "carton_net_weight_kg",
    "carton_cbm",
)  # fmt: skip
PICKER_COST_FIELDS = ("purchase_cost_cny", "vat_rate", "tax_rebate_rate")


def products_for_picker(user, q: str = "", limit: int = 20, on_date: dt.date | None = None) -> list[dict]:
    """Active products matching `q` (SKU, names, specification, HS code) for a document line,
    by SKU, with packing and the current price per currency. Cost fields for permitted roles."""
    limit = max(1, min(int(limit), 50))
    costs = sees_costs(user)
    fields = PICKER_FIELDS + (PICKER_COST_FIELDS if costs else ())
    qs = Product.objects.filter(active=True)
    if q:
        qs = apply_search(qs, q)
    rows = list(qs.order_by("sku", "id").values(*fields)[:limit])
    prices = current_prices([r["id"] for r in rows], on_date or timezone.localdate())
    out = []
    for r in rows:
        cbm = r.pop("carton_cbm") or carton_cbm(
            r["carton_length_cm"], r["carton_width_cm"], r["carton_height_cm"]
        )
        item = {
            "id": r["id"],
            "sku": r["sku"],
            "name_en": r["name_en"],
            "name_zh": r["name_zh"],
            "specification": r["specification"],
            "hs_code": r["hs_code"],
            "unit": r["unit"],
            "moq": r["moq"],
            "packing": {
                "units_per_carton": r["units_per_carton"],
                "carton_length_cm": r["carton_length_cm"],
                "carton_width_cm": r["carton_width_cm"],
                "carton_height_cm": r["carton_height_cm"],
                "gross_weight_kg": r["carton_gross_weight_kg"],
                "net_weight_kg": r["carton_net_weight_kg"],
                "cbm": cbm,
            },
            "prices": prices[r["id"]],
        }
        if costs:
            item["cost"] = {k: r[k] for k in PICKER_COST_FIELDS}
        out.append(item)
    return out
