"""Writes to the catalogue. One function per change a user can name; the views, the API, the CLI,
the spreadsheet importer and the demo data all call these.

Who may write: administrators and managers (`can_edit_catalog`); sales reps read. `actor=None`
is the system (demo data, migrations) and is not checked.

Deleting a product: allowed even when quotations, proformas or orders have lines with it. Each
line keeps its own copy of the SKU, names, price and packing, and its link to the product is
cleared (SET_NULL). The delete page says how many lines refer to the product and suggests
deactivating it instead, which hides it from the picker and keeps the link.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, models, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.audit.services import audit_record
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.core.search import search_document
from tradecrm.core.uploads import check_upload, file_error
from tradecrm.documents.lines import carton_cbm

from .models import PriceList, PriceListItem, Product, ProductPhoto
from .selectors import price_for, price_lookup  # noqa: F401  (quotations call them from here too)
from .validation import clean_price, clean_price_list, clean_product, plain, sku_owner

PHOTO_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP", "image/gif": "GIF"}
MAX_PHOTOS = 20
DIMENSIONS = ("carton_length_cm", "carton_width_cm", "carton_height_cm")


# --- permissions --------------------------------------------------------------------------------


def can_edit_catalog(user) -> bool:
    """Products and price lists are changed by administrators and managers; sales reps read."""
    return user is None or bool(getattr(user, "is_admin", False) or getattr(user, "is_manager", False))


def require_catalog_editor(user) -> None:
    if not can_edit_catalog(user):
        raise PermissionDenied(_("Only managers and administrators may change products and price lists."))


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


def _jsonable(v: Any) -> Any:
    if isinstance(v, Decimal):
        return plain(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def _changes(before: dict, after: dict) -> dict:
    return {k: [_jsonable(before.get(k)), _jsonable(v)] for k, v in after.items() if before.get(k) != v}


def _conflict(model, pk: int) -> ConcurrentEditError:
    current = model.objects.select_related("updated_by").get(pk=pk)
    return ConcurrentEditError(
        by=str(current.updated_by or "?"), at=current.updated_at, current_version=current.version
    )


# --- products -----------------------------------------------------------------------------------


def format_hs_code(code: str) -> str:
    """ "73239300" → "7323.93.00", the way HS codes are printed on invoices."""
    if len(code) < 6:
        return code
    parts = [code[:4], code[4:6]] + [code[i : i + 2] for i in range(6, len(code), 2)]
    return ".".join(parts)


def product_search_text(product: Product) -> str:
    """SKU, both names, specification, category and the HS code (plain and dotted). The supplier
    is left out: sales reps must not find products by a field they cannot see."""
    hs = f"{product.hs_code} {format_hs_code(product.hs_code)}" if product.hs_code else ""
    return search_document(
        product.sku, product.name_en, product.name_zh, product.specification, product.category, hs
    )


def _apply_cbm(product: Product, clean: dict, before: dict | None) -> None:
    """The carton volume follows the carton size unless one was entered: empty → worked out;
    on a change of size, a volume that was the one worked out from the old size follows too."""
    derived = carton_cbm(product.carton_length_cm, product.carton_width_cm, product.carton_height_cm)
    if "carton_cbm" in clean and clean["carton_cbm"] is not None:
        return
    if product.carton_cbm is None:
        product.carton_cbm = derived
    elif before is not None and any(d in clean for d in DIMENSIONS) and "carton_cbm" not in clean:
        old = carton_cbm(*(before.get(d) for d in DIMENSIONS))
        if old is not None and old == product.carton_cbm:
            product.carton_cbm = derived


def _sku_taken(sku: str) -> ValidationError:
    other = sku_owner(sku)
    if other is None:
        return ValidationError({"sku": [_("The SKU “%(sku)s” is already used.") % {"sku": sku}]})
    return ValidationError(
        {
            "sku": [
                _("The SKU “%(sku)s” is already used by %(product)s (id %(id)d).")
                % {"sku": other.sku, "product": other.name_en, "id": other.pk}
            ]
        }
    )


@transaction.atomic
def product_create(*, actor, data: dict) -> Product:
    """Add a product. `data`: any of validation.PRODUCT_FIELDS; `sku` and `name_en` required."""
    require_catalog_editor(actor)
    clean = clean_product(data)
    product = Product(**clean, created_by=_user(actor), updated_by=_user(actor))
    _apply_cbm(product, clean, None)
    product.search_text = product_search_text(product)
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError:
        # two people saving the same new SKU at once: the case-insensitive index refuses one
        raise _sku_taken(product.sku) from None
    audit_record(
        actor=actor,
        action="product.create",
        obj=product,
        changes={"sku": product.sku, "name_en": product.name_en},
    )
    return product


@transaction.atomic
def product_update(*, actor, product: Product, version: int, data: dict) -> Product:
    """Apply a partial change. Refused with ConcurrentEditError when someone saved in between."""
    require_catalog_editor(actor)
    clean = clean_product(data, instance=product, partial=True)
    tracked = set(clean) | set(DIMENSIONS) | {"carton_cbm"}
    before = {k: getattr(product, k) for k in tracked}
    for k, v in clean.items():
        setattr(product, k, v)
    _apply_cbm(product, clean, before)
    product.search_text = product_search_text(product)
    now = timezone.now()
    fields = {k: getattr(product, k) for k in clean}
    fields["carton_cbm"] = product.carton_cbm
    fields["search_text"] = product.search_text
    try:
        with transaction.atomic():
            updated = Product.objects.filter(pk=product.pk, version=version).update(
                **fields, version=F("version") + 1, updated_at=now, updated_by=_user(actor)
            )
    except IntegrityError:
        raise _sku_taken(product.sku) from None
    if not updated:
        raise _conflict(Product, product.pk)
    product.version = version + 1
    product.updated_at = now
    product.updated_by = _user(actor)
    after = {k: getattr(product, k) for k in tracked}
    audit_record(actor=actor, action="product.update", obj=product, changes=_changes(before, after))
    return product


def product_usage(product: Product) -> int:
    """How many rows of other apps (inquiry and sample items, quotation, proforma and order
    lines) point at the product; they keep their copied data when it is deleted. Their foreign
    keys have no reverse name, so they are found from the model registry."""
    total = 0
    for model in apps.get_models():
        if model._meta.app_label == "catalog":
            continue
        for f in model._meta.concrete_fields:
            if isinstance(f, models.ForeignKey) and f.related_model is Product:
                total += model._base_manager.filter(**{f.attname: product.pk}).count()
    return total


@transaction.atomic
def product_delete(*, actor, product: Product) -> None:
    """Delete a product with its photos and prices. Document lines keep their copy of it."""
    require_catalog_editor(actor)
    names = list(product.photos.values_list("file", flat=True))
    audit_record(
        actor=actor,
        action="product.delete",
        obj=product,
        changes={"sku": product.sku, "name_en": product.name_en, "lines": product_usage(product)},
    )
    product.delete()
    transaction.on_commit(lambda: [default_storage.delete(n) for n in names if n])


# --- photos -------------------------------------------------------------------------------------


@transaction.atomic
def product_photo_add(*, actor, product: Product, upload) -> ProductPhoto:
    """Add a photo (JPEG, PNG, WebP or GIF, sniffed from the bytes; at most the attachment size
    limit). Refused with nothing stored otherwise."""
    require_catalog_editor(actor)
    meta = check_upload(upload)
    if meta["content_type"] not in PHOTO_TYPES:
        raise file_error(
            _("“%(name)s” is not a photo: upload a JPEG, PNG, WebP or GIF image.") % {"name": meta["name"]}
        )
    count = product.photos.count()
    if count >= MAX_PHOTOS:
        raise file_error(_("A product can have at most %(limit)d photos.") % {"limit": MAX_PHOTOS})
    position = (product.photos.aggregate(m=Max("position"))["m"] or 0) + 1 if count else 0
    photo = ProductPhoto(
        product=product,
        name=meta["name"],
        size=meta["size"],
        content_type=meta["content_type"],
        sha256=meta["sha256"],
        position=position,
        uploaded_by=_user(actor),
    )
    photo.file.save(meta["name"], upload, save=False)
    try:
        photo.save()
        audit_record(
            actor=actor,
            action="product.photo_add",
            obj=photo,
            changes={"product": product.pk, "name": meta["name"], "size": meta["size"]},
        )
    except BaseException:
        default_storage.delete(photo.file.name)
        raise
    return photo


@transaction.atomic
def product_photo_delete(*, actor, photo: ProductPhoto) -> None:
    require_catalog_editor(actor)
    name = photo.file.name
    audit_record(
        actor=actor,
        action="product.photo_delete",
        obj=photo,
        changes={"product": photo.product_id, "name": photo.name},
    )
    photo.delete()
    transaction.on_commit(lambda: default_storage.delete(name))


# --- price lists --------------------------------------------------------------------------------


@transaction.atomic
def price_list_create(*, actor, data: dict) -> PriceList:
    """A price list: name (unique), currency (ISO 4217), valid_from/valid_until, notes, active."""
    require_catalog_editor(actor)
    clean = clean_price_list(data)
    price_list = PriceList(**clean, updated_by=_user(actor))
    try:
        with transaction.atomic():
            price_list.save()
    except IntegrityError:
        raise ValidationError(
            {"name": [_("There is already a price list called “%(name)s”.") % {"name": price_list.name}]}
        ) from None
    audit_record(
        actor=actor,
        action="price_list.create",
        obj=price_list,
        changes={"name": price_list.name, "currency": price_list.currency},
    )
    return price_list


@transaction.atomic
def price_list_update(*, actor, price_list: PriceList, version: int, data: dict) -> PriceList:
    require_catalog_editor(actor)
    clean = clean_price_list(data, instance=price_list, partial=True)
    before = {k: getattr(price_list, k) for k in clean}
    now = timezone.now()
    try:
        with transaction.atomic():
            updated = PriceList.objects.filter(pk=price_list.pk, version=version).update(
                **clean, version=F("version") + 1, updated_at=now, updated_by=_user(actor)
            )
    except IntegrityError:
        raise ValidationError(
            {"name": [_("There is already a price list called “%(name)s”.") % {"name": clean.get("name")}]}
        ) from None
    if not updated:
        raise _conflict(PriceList, price_list.pk)
    for k, v in clean.items():
        setattr(price_list, k, v)
    price_list.version = version + 1
    price_list.updated_at = now
    price_list.updated_by = _user(actor)
    audit_record(actor=actor, action="price_list.update", obj=price_list, changes=_changes(before, clean))
    return price_list


@transaction.atomic
def price_list_delete(*, actor, price_list: PriceList) -> None:
    """Delete a price list with its prices. Documents priced from it keep their own prices."""
    require_catalog_editor(actor)
    audit_record(
        actor=actor,
        action="price_list.delete",
        obj=price_list,
        changes={
            "name": price_list.name,
            "currency": price_list.currency,
            "prices": price_list.items.count(),
        },
    )
    price_list.delete()


def _touch(price_list: PriceList, actor) -> None:
    # a price change is a change of the list: its ETag moves, so cached copies are refreshed
    now = timezone.now()
    PriceList.objects.filter(pk=price_list.pk).update(
        version=F("version") + 1, updated_at=now, updated_by=_user(actor)
    )
    price_list.version += 1
    price_list.updated_at = now


@transaction.atomic
def price_set(
    *, actor, price_list: PriceList, product: Product, unit_price: Any, min_quantity: Any = 1
) -> PriceListItem:
    """Set the product's unit price on the list from `min_quantity` up (a quantity break);
    the entry for that break is created or replaced."""
    require_catalog_editor(actor)
    price, qty = clean_price(unit_price=unit_price, min_quantity=min_quantity)
    item = PriceListItem.objects.filter(price_list=price_list, product=product, min_quantity=qty).first()
    before = item.unit_price if item is not None else None
    if item is None:
        item = PriceListItem.objects.create(
            price_list=price_list, product=product, min_quantity=qty, unit_price=price
        )
    elif item.unit_price != price:
        item.unit_price = price
        item.save(update_fields=["unit_price"])
    else:
        return item
    _touch(price_list, actor)
    audit_record(
        actor=actor,
        action="price.set",
        obj=price_list,
        changes={
            "product": product.pk,
            "sku": product.sku,
            "min_quantity": _jsonable(qty),
            "unit_price": [_jsonable(before), _jsonable(price)],
        },
    )
    return item


@transaction.atomic
def price_remove(*, actor, item: PriceListItem) -> None:
    require_catalog_editor(actor)
    price_list = item.price_list
    audit_record(
        actor=actor,
        action="price.remove",
        obj=price_list,
        changes={
            "product": item.product_id,
            "min_quantity": _jsonable(item.min_quantity),
            "unit_price": _jsonable(item.unit_price),
        },
    )
    item.delete()
    _touch(price_list, actor)
