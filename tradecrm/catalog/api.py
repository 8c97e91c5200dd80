"""JSON API of the catalogue: routers mounted under /api/v1/ in config/api.py.

Thin like customers/api.py: reads through the selectors (products and price lists are shared by
the whole company, so 404 means "no such id"; cost fields only for managers and administrators),
writes through the services (validation, versions, the editor rule: 403 for sales reps).
"""

from __future__ import annotations

from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router
from ninja.files import UploadedFile

from tradecrm.accounts.access import can_see_costs
from tradecrm.core.api import (
    DELETE,
    LIST,
    PATCH,
    READ,
    WRITE,
    Error,
    Id,
    check_delete_version,
    created_response,
    json_response,
    not_modified,
    object_response,
    page_response,
    required_version,
)
from tradecrm.core.errors import ValidationError
from tradecrm.core.money import is_currency
from tradecrm.core.paging import Sort, keyset_page
from tradecrm.customers.schemas import PageQuery

from . import selectors, services, spreadsheets
from .models import PriceListItem
from .schemas import (
    CatalogImportOut,
    CatalogImportRefused,
    PhotoOut,
    PriceItemIn,
    PriceItemOut,
    PriceItemPage,
    PriceListCreate,
    PriceListOut,
    PriceListPage,
    PriceListPatch,
    ProductCreate,
    ProductListQuery,
    ProductOut,
    ProductPage,
    ProductPatch,
    ProductPickerOut,
    ProductPickerQuery,
    ProductPriceOut,
    ProductPriceQuery,
)
from .validation import COST_FIELDS, parse_date, parse_decimal

products = Router(tags=["products"])
price_lists = Router(tags=["price-lists"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOWNLOAD = {"200": {"description": "An XLSX file, as a download.", "content": {XLSX: {}}}}


def _photo_url(photo_id: int) -> str:
    return f"/api/v1/products/photos/{photo_id}"


def _product_row(r: dict, user) -> dict:
    out = {k: r[k] for k in selectors.PUBLIC_FIELDS}
    if can_see_costs(user):
        out.update({k: r[k] for k in COST_FIELDS})
    if "photo_id" in r:
        out["photo_id"] = r["photo_id"]
    return out


def _product_out(product, user) -> dict:
    fields = selectors.product_fields(user)
    out = {k: getattr(product, k) for k in fields}
    out["photos"] = [
        {"id": p.pk, "name": p.name, "content_type": p.content_type, "size": p.size, "url": _photo_url(p.pk)}
        for p in selectors.product_photos(product)
    ]
    return out


def _xlsx(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _import_response(result) -> HttpResponse:
    data = result.as_dict()
    if result.ok:
        return json_response(data)
    data["detail"] = [{"field": None, "message": spreadsheets.describe_error(e)} for e in result.errors]
    return json_response(data, status=422)


# --- products -----------------------------------------------------------------------------------


@products.get("", response={200: ProductPage, **LIST}, summary="List products")
def list_products(request: HttpRequest, query: Query[ProductListQuery]):
    """Every product of the company (everyone sees the catalogue), by name unless `sort` says
    otherwise. Purchase cost, VAT, rebate and supplier only for managers and administrators."""
    user = request.auth
    filters = selectors.ProductFilters(
        q=query.q, category=query.category, active=query.active, hs_code=query.hs_code, sort=query.sort
    )
    rows, nxt, prev = selectors.product_list(user, filters, cursor=query.cursor or None, limit=query.limit)
    return page_response([_product_row(r, user) for r in rows], nxt, prev)


@products.post("", response={201: ProductOut, **WRITE}, summary="Create a product")
def create_product(request: HttpRequest, payload: ProductCreate):
    """Managers and administrators (403 for sales reps). `carton_cbm` is worked out from the
    carton size when not given."""
    product = services.product_create(actor=request.auth, data=payload.model_dump(exclude_unset=True))
    return created_response(_product_out(product, request.auth), "products")


@products.get(
    "/export",
    response={200: None, **READ},
    summary="Export products as XLSX",
    openapi_extra={"responses": DOWNLOAD},
)
def export_products(request: HttpRequest, query: Query[ProductListQuery]):
    """The products matching the filters (all by default), one row each, English headers; no
    cost columns for sales reps; 403 without the export permission. Imports back unchanged."""
    from tradecrm.reports.exports import export_prepare
    from tradecrm.reports.views import download_response

    params = {"q": query.q, "category": query.category, "hs": query.hs_code,
              "active": "all" if query.active is None else ("1" if query.active else "0")}  # fmt: skip
    prepared = export_prepare(
        actor=request.auth, entity="products", fmt="xlsx", params={k: v for k, v in params.items() if v}, via="api"
    )
    return download_response(prepared)


@products.post(
    "/import",
    response={
        200: CatalogImportOut,
        422: CatalogImportRefused,
        400: Error,
        401: Error,
        403: Error,
        413: Error,
    },
    summary="Import products from XLSX or CSV",
)
def import_products(request: HttpRequest, file: File[UploadedFile], dry_run: Form[bool] = False):
    """multipart/form-data: `file` (XLSX, XLS, ODS or CSV; headers in English or Chinese, possibly
    below title rows) and `dry_run`. Products are matched by SKU. Every row is validated first:
    with any bad row nothing is written and the answer is 422 with each “row N, column X:
    reason”. `dry_run=true` reports what would be created, updated and left unchanged."""
    result = spreadsheets.products_import(
        actor=request.auth, file=file.read(), filename=file.name or "", dry_run=dry_run
    )
    return _import_response(result)


@products.get("/picker", response={200: ProductPickerOut, **LIST}, summary="Products for a document line")
def picker(request: HttpRequest, query: Query[ProductPickerQuery]):
    """Active products matching `q`, by SKU, with packing and today's price per currency: what a
    quotation line needs. Same answer as the web UI's picker (`/products/picker/`)."""
    try:
        on = parse_date(query.date) if query.date else None
    except ValueError:
        raise ValidationError(
            {"date": [_("“%(value)s” is not a date (use YYYY-MM-DD).") % {"value": query.date}]}
        ) from None
    items = selectors.products_for_picker(request.auth, query.q, limit=query.limit, on_date=on)
    return json_response({"items": items})


@products.get("/{int:product_id}", response={200: ProductOut, 304: None, **READ}, summary="Get a product")
def get_product(request: HttpRequest, product_id: Id):
    product = selectors.product_get_for_user(request.auth, product_id)
    return not_modified(request, product.version) or object_response(_product_out(product, request.auth))


@products.patch("/{int:product_id}", response={200: ProductOut, **PATCH}, summary="Change a product")
def patch_product(request: HttpRequest, product_id: Id, payload: ProductPatch):
    """Send only the fields to change, plus the `version` you last read (or If-Match)."""
    data = payload.model_dump(exclude_unset=True)
    version = required_version(request, data.pop("version", None))
    product = selectors.product_get_for_user(request.auth, product_id)
    product = services.product_update(actor=request.auth, product=product, version=version, data=data)
    return object_response(_product_out(product, request.auth))


@products.delete("/{int:product_id}", response={204: None, **DELETE}, summary="Delete a product")
def delete_product(request: HttpRequest, product_id: Id):
    """Document lines that used it keep their own copy of its data. To stop offering a product
    but keep the link, PATCH `active: false` instead."""
    product = selectors.product_get_for_user(request.auth, product_id)
    check_delete_version(request, product)
    services.product_delete(actor=request.auth, product=product)
    return HttpResponse(status=204)


@products.get(
    "/{int:product_id}/price", response={200: ProductPriceOut, **LIST}, summary="Price for a quantity"
)
def product_price(request: HttpRequest, product_id: Id, query: Query[ProductPriceQuery]):
    """The unit price for `quantity` in `currency` on `date`: from the active price list in that
    currency valid that day (the one that started last), the highest quantity break not above
    the quantity. `unit_price` null when there is none."""
    product = selectors.product_get_for_user(request.auth, product_id)
    errors = {}
    try:
        quantity = parse_decimal(query.quantity, 3)
        if quantity <= 0:
            errors["quantity"] = [_("The quantity must be greater than zero.")]
    except ValueError:
        errors["quantity"] = [_("“%(value)s” is not a number.") % {"value": query.quantity}]
    try:
        on = parse_date(query.date) if query.date else timezone.localdate()
    except ValueError:
        errors["date"] = [_("“%(value)s” is not a date (use YYYY-MM-DD).") % {"value": query.date}]
    currency = query.currency.strip().upper()
    if not is_currency(currency):
        errors["currency"] = [_("“%(value)s” is not an ISO 4217 currency code.") % {"value": query.currency}]
    if errors:
        raise ValidationError(errors)
    match = selectors.price_lookup(product, currency, quantity, on)
    return json_response(
        {
            "product": product.pk,
            "currency": currency,
            "quantity": quantity,
            "date": on,
            "unit_price": match.unit_price if match else None,
            "min_quantity": match.min_quantity if match else None,
            "price_list": {"id": match.price_list_id, "name": match.price_list_name} if match else None,
        }
    )


@products.post("/{int:product_id}/photos", response={201: PhotoOut, **WRITE}, summary="Add a photo")
def upload_photo(request: HttpRequest, product_id: Id, file: File[UploadedFile]):
    """multipart/form-data with the image as `file`: JPEG, PNG, WebP or GIF (sniffed from the
    bytes). Managers and administrators."""
    product = selectors.product_get_for_user(request.auth, product_id)
    photo = services.product_photo_add(actor=request.auth, product=product, upload=file)
    data = {
        "id": photo.pk,
        "name": photo.name,
        "content_type": photo.content_type,
        "size": photo.size,
        "url": _photo_url(photo.pk),
    }
    return json_response(data, status=201, headers={"Location": data["url"]})


@products.get(
    "/photos/{int:photo_id}",
    response={200: None, **READ},
    summary="Download a photo",
    openapi_extra={"responses": {"200": {"description": "The image."}}},
)
def download_photo(request: HttpRequest, photo_id: Id):
    photo = selectors.photo_get_for_user(request.auth, photo_id)
    try:
        handle = photo.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=photo.content_type, filename=photo.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@products.delete("/photos/{int:photo_id}", response={204: None, **DELETE}, summary="Delete a photo")
def delete_photo(request: HttpRequest, photo_id: Id):
    photo = selectors.photo_get_for_user(request.auth, photo_id)
    services.product_photo_delete(actor=request.auth, photo=photo)
    return HttpResponse(status=204)


# --- price lists --------------------------------------------------------------------------------

PRICE_LIST_SORT = Sort("name", False)
PRICE_LIST_FIELDS = (
    "id", "name", "currency", "valid_from", "valid_until", "notes", "active", "version", "created_at", "updated_at",
)  # fmt: skip


def _price_list_out(price_list) -> dict:
    out = {k: getattr(price_list, k) for k in PRICE_LIST_FIELDS}
    out["prices"] = price_list.items.count()
    return out


@price_lists.get("", response={200: PriceListPage, **LIST}, summary="List price lists")
def list_price_lists(request: HttpRequest, query: Query[PageQuery]):
    """Every price list, by name, with its number of prices."""
    qs = selectors.price_lists_for_user(request.auth).annotate(prices=Count("items"))
    rows, nxt, prev = keyset_page(
        qs, PRICE_LIST_SORT, query.cursor or None, query.limit, (*PRICE_LIST_FIELDS, "prices")
    )
    return page_response(rows, nxt, prev)


@price_lists.post("", response={201: PriceListOut, **WRITE}, summary="Create a price list")
def create_price_list(request: HttpRequest, payload: PriceListCreate):
    price_list = services.price_list_create(actor=request.auth, data=payload.model_dump(exclude_unset=True))
    return created_response(_price_list_out(price_list), "price-lists")


@price_lists.get(
    "/{int:price_list_id}", response={200: PriceListOut, 304: None, **READ}, summary="Get a price list"
)
def get_price_list(request: HttpRequest, price_list_id: Id):
    """The list itself; its prices are under /items. The ETag moves when a price changes too."""
    price_list = selectors.price_list_get_for_user(request.auth, price_list_id)
    return not_modified(request, price_list.version) or object_response(_price_list_out(price_list))


@price_lists.patch(
    "/{int:price_list_id}", response={200: PriceListOut, **PATCH}, summary="Change a price list"
)
def patch_price_list(request: HttpRequest, price_list_id: Id, payload: PriceListPatch):
    data = payload.model_dump(exclude_unset=True)
    version = required_version(request, data.pop("version", None))
    price_list = selectors.price_list_get_for_user(request.auth, price_list_id)
    price_list = services.price_list_update(
        actor=request.auth, price_list=price_list, version=version, data=data
    )
    return object_response(_price_list_out(price_list))


@price_lists.delete("/{int:price_list_id}", response={204: None, **DELETE}, summary="Delete a price list")
def delete_price_list(request: HttpRequest, price_list_id: Id):
    price_list = selectors.price_list_get_for_user(request.auth, price_list_id)
    check_delete_version(request, price_list)
    services.price_list_delete(actor=request.auth, price_list=price_list)
    return HttpResponse(status=204)


def _item_out(r: dict) -> dict:
    return {
        "id": r["id"],
        "product": {"id": r["product_id"], "sku": r["product__sku"], "name_en": r["product__name_en"]},
        "min_quantity": r["min_quantity"],
        "unit_price": r["unit_price"],
    }


ITEM_FIELDS = ("id", "product_id", "product__sku", "product__name_en", "min_quantity", "unit_price")


@price_lists.get(
    "/{int:price_list_id}/items", response={200: PriceItemPage, **LIST}, summary="The prices of a list"
)
def list_items(request: HttpRequest, price_list_id: Id, query: Query[PageQuery]):
    """One row per product and quantity break, in the order they were added."""
    price_list = selectors.price_list_get_for_user(request.auth, price_list_id)
    qs = PriceListItem.objects.filter(price_list=price_list)
    rows, nxt, prev = keyset_page(qs, Sort("id", False), query.cursor or None, query.limit, ITEM_FIELDS)
    return page_response([_item_out(r) for r in rows], nxt, prev)


@price_lists.post(
    "/{int:price_list_id}/items", response={200: PriceItemOut, **WRITE}, summary="Set a price on a list"
)
def set_item(request: HttpRequest, price_list_id: Id, payload: PriceItemIn):
    """Sets the product's price from `min_quantity` up; an existing price for that product and
    quantity is replaced."""
    price_list = selectors.price_list_get_for_user(request.auth, price_list_id)
    try:
        product = selectors.product_get_for_user(request.auth, payload.product)
    except Http404:
        raise ValidationError(
            {"product": [_("No product with id %(id)s.") % {"id": payload.product}]}
        ) from None
    item = services.price_set(
        actor=request.auth,
        price_list=price_list,
        product=product,
        unit_price=payload.unit_price,
        min_quantity=payload.min_quantity,
    )
    return json_response(
        {
            "id": item.pk,
            "product": {"id": product.pk, "sku": product.sku, "name_en": product.name_en},
            "min_quantity": item.min_quantity,
            "unit_price": item.unit_price,
        }
    )


@price_lists.delete(
    "/{int:price_list_id}/items/{int:item_id}", response={204: None, **DELETE}, summary="Remove a price"
)
def delete_item(request: HttpRequest, price_list_id: Id, item_id: Id):
    price_list = selectors.price_list_get_for_user(request.auth, price_list_id)
    item = selectors.price_item_get_for_user(request.auth, item_id)
    if item.price_list_id != price_list.pk:
        raise Http404
    services.price_remove(actor=request.auth, item=item)
    return HttpResponse(status=204)


@price_lists.get(
    "/{int:price_list_id}/export",
    response={200: None, **READ},
    summary="Export a price list as XLSX",
    openapi_extra={"responses": DOWNLOAD},
)
def export_price_list(request: HttpRequest, price_list_id: Id):
    """SKU, English name, from quantity, unit price: the layout the import reads."""
    price_list = selectors.price_list_get_for_user(request.auth, price_list_id)
    data = spreadsheets.price_list_export_xlsx(request.auth, price_list)
    return _xlsx(data, f"price-list-{price_list.pk}-{price_list.currency}.xlsx")


@price_lists.post(
    "/{int:price_list_id}/import",
    response={
        200: CatalogImportOut,
        422: CatalogImportRefused,
        400: Error,
        401: Error,
        403: Error,
        404: Error,
        413: Error,
    },
    summary="Import prices from XLSX or CSV",
)
def import_price_list(
    request: HttpRequest, price_list_id: Id, file: File[UploadedFile], dry_run: Form[bool] = False
):
    """multipart/form-data: `file` with SKU (货号), From quantity (optional) and Unit price (单价)
    columns, and `dry_run`. All-or-nothing like the product import; prices not in the file stay."""
    price_list = selectors.price_list_get_for_user(request.auth, price_list_id)
    result = spreadsheets.price_list_import(
        actor=request.auth, price_list=price_list, file=file.read(), filename=file.name or "", dry_run=dry_run
    )
    return _import_response(result)
