"""Products an exporter sells: names in English and Chinese, HS code, packing, purchase cost in CNY,
export tax-rebate rate, photos and price lists per currency.

Packing figures are per export carton (`units_per_carton`, outer dimensions, gross/net weight), so
that a quotation line can work out cartons, weight and volume from its quantity.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tradecrm.core.models import TimeStamped


class Unit(models.TextChoices):
    PCS = "pcs", pgettext_lazy("unit", "pieces")
    SET = "set", pgettext_lazy("unit", "sets")
    PAIR = "pair", pgettext_lazy("unit", "pairs")
    DOZEN = "dozen", pgettext_lazy("unit", "dozens")
    BOX = "box", pgettext_lazy("unit", "boxes")
    CARTON = "carton", pgettext_lazy("unit", "cartons")
    BAG = "bag", pgettext_lazy("unit", "bags")
    ROLL = "roll", pgettext_lazy("unit", "rolls")
    SHEET = "sheet", pgettext_lazy("unit", "sheets")
    KG = "kg", pgettext_lazy("unit", "kilograms")
    TON = "ton", pgettext_lazy("unit", "metric tons")
    M = "m", pgettext_lazy("unit", "metres")
    M2 = "m2", pgettext_lazy("unit", "square metres")
    M3 = "m3", pgettext_lazy("unit", "cubic metres")
    L = "l", pgettext_lazy("unit", "litres")


QTY = {"max_digits": 14, "decimal_places": 3}
PRICE = {"max_digits": 16, "decimal_places": 4}
PERCENT = {"max_digits": 5, "decimal_places": 2}


class Product(TimeStamped):
    """A product in the catalogue. `sku` is unique; `search_text` is what product search indexes."""

    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=255)
    name_zh = models.CharField(_("name (Chinese)"), max_length=255, blank=True)
    specification = models.TextField(_("specification"), blank=True)
    description = models.TextField(_("description"), blank=True)
    category = models.CharField(_("category"), max_length=120, blank=True)
    hs_code = models.CharField(_("HS code"), max_length=12, blank=True,
                               help_text=_("6 to 10 digits, e.g. 7323930000."))
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.PCS)
    moq = models.DecimalField(_("minimum order quantity"), **QTY, null=True, blank=True)
    # packing, per export carton
    units_per_carton = models.PositiveIntegerField(_("units per carton"), null=True, blank=True)
    carton_length_cm = models.DecimalField(_("carton length (cm)"), max_digits=7, decimal_places=1, null=True,
                                           blank=True)
    carton_width_cm = models.DecimalField(_("carton width (cm)"), max_digits=7, decimal_places=1, null=True,
                                          blank=True)
    carton_height_cm = models.DecimalField(_("carton height (cm)"), max_digits=7, decimal_places=1, null=True,
                                           blank=True)
    carton_gross_weight_kg = models.DecimalField(_("gross weight per carton (kg)"), max_digits=9, decimal_places=3,
                                                 null=True, blank=True)
    carton_net_weight_kg = models.DecimalField(_("net weight per carton (kg)"), max_digits=9, decimal_places=3,
                                               null=True, blank=True)
    carton_cbm = models.DecimalField(_("volume per carton (m³)"), max_digits=9, decimal_places=4, null=True,
                                     blank=True, help_text=_("Worked out from the carton size when left empty."))
    packing_notes = models.TextField(_("packing notes"), blank=True)
    # cost side (seen only by roles allowed to see margins)
    purchase_cost_cny = models.DecimalField(_("purchase cost (CNY, VAT included)"), **PRICE, null=True, blank=True)
    vat_rate = models.DecimalField(_("VAT rate (%)"), **PERCENT, default=Decimal("13"))
    tax_rebate_rate = models.DecimalField(_("export tax-rebate rate (%)"), **PERCENT, default=Decimal("0"))
    supplier = models.CharField(_("supplier"), max_length=255, blank=True)
    active = models.BooleanField(_("active"), default=True)
    search_text = models.TextField(default="", editable=False)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [
            models.Index(fields=["name_en", "id"], name="product_name_idx"),
            models.Index(fields=["updated_at", "id"], name="product_updated_idx"),
            models.Index(fields=["hs_code"], name="product_hs_idx"),
            models.Index(fields=["category", "name_en"], name="product_category_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(tax_rebate_rate__gte=0, tax_rebate_rate__lte=100),
                                   name="product_rebate_percent"),
            models.CheckConstraint(condition=Q(vat_rate__gte=0, vat_rate__lte=100), name="product_vat_percent"),
            # "vf-500" and "VF-500" are one product: imports match SKUs without regard to case
            models.UniqueConstraint(Lower("sku"), name="product_sku_ci_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name_en}"


class ProductPhoto(models.Model):
    """A photo of a product, stored under the data dir (media/products/); type sniffed from the bytes."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(max_length=255, upload_to="products/%Y/%m/")
    name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    position = models.PositiveSmallIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("product photo")
        verbose_name_plural = _("product photos")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class PriceList(TimeStamped):
    """Selling prices in one currency (e.g. "FOB Ningbo USD 2026", "EU distributors EUR")."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    currency = models.CharField(_("currency"), max_length=3)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"


class PriceListItem(models.Model):
    """A product's unit price on a price list, from `min_quantity` up (quantity breaks)."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="prices")
    min_quantity = models.DecimalField(_("from quantity"), **QTY, default=Decimal("1"))
    unit_price = models.DecimalField(_("unit price"), **PRICE)

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        constraints = [
            models.UniqueConstraint(fields=["price_list", "product", "min_quantity"], name="price_unique_break"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="price_not_negative"),
            models.CheckConstraint(condition=Q(min_quantity__gt=0), name="price_min_quantity_positive"),
        ]
        indexes = [models.Index(fields=["product", "price_list"], name="price_product_idx")]

    def __str__(self) -> str:
        return f"{self.product_id} @ {self.unit_price} from {self.min_quantity}"
