"""Customs records (海关数据): shipment-level trade records bought from data vendors, linked to
the buyer (consignee/importer) they were matched to. Freight forwarders and NVOCCs named as
consignee are recognised and never linked as buyers."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tradecrm.core.models import TimeStamped


class CustomsRecord(TimeStamped):
    company = models.ForeignKey(
        "customers.Company",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customs_records",
        verbose_name=_("customer"),
    )
    importer_name = models.CharField(_("importer / consignee"), max_length=255)
    importer_key = models.CharField(max_length=255, blank=True, db_index=True)  # normalised name
    importer_country = models.CharField(_("importer country"), max_length=2, blank=True)
    importer_address = models.TextField(_("importer address"), blank=True)
    exporter_name = models.CharField(_("exporter / shipper"), max_length=255, blank=True)
    # the normalised exporter name: one supplier however the vendor spells it
    exporter_key = models.CharField(max_length=255, blank=True)
    exporter_country = models.CharField(_("exporter country"), max_length=2, blank=True)
    notify_party = models.CharField(_("notify party"), max_length=255, blank=True)
    is_forwarder = models.BooleanField(_("consignee is a forwarder"), default=False)
    hs_code = models.CharField(_("HS code"), max_length=10, blank=True)
    product_description = models.TextField(_("product description"), blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=18, decimal_places=3, null=True, blank=True)
    quantity_unit = models.CharField(_("quantity unit"), max_length=16, blank=True)
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=18, decimal_places=3, null=True, blank=True)
    value = models.DecimalField(_("value"), max_digits=18, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    date = models.DateField(_("date"))
    port_of_loading = models.CharField(_("port of loading"), max_length=120, blank=True)
    port_of_discharge = models.CharField(_("port of discharge"), max_length=120, blank=True)
    bl_number = models.CharField(_("B/L number"), max_length=64, blank=True)
    origin_country = models.CharField(_("country of origin"), max_length=2, blank=True)
    fingerprint = models.CharField(max_length=40, unique=True)  # same record imported twice is one row
    import_job = models.ForeignKey(
        "imports.ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("customs record")
        verbose_name_plural = _("customs records")
        indexes = [
            models.Index(fields=["company", "date"], name="customs_company_idx"),
            models.Index(fields=["hs_code", "date"], name="customs_hs_idx"),
            models.Index(fields=["date", "id"], name="customs_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.importer_name} ← {self.exporter_name}"
