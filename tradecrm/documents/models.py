"""Trade documents: quotations (报价单) and proforma invoices (形式发票), the seller's letterhead and
bank accounts, gap-free numbering per series, and the PDF templates an admin can adjust.

A document is edited while it is a draft. Issuing it takes the next number of its series (in the
same transaction, so a rolled-back issue consumes no number), freezes the exchange rate with its
date and source, and stores a `snapshot` of everything printed (seller, bank, buyer, lines,
totals). An issued document is never edited or deleted: a change makes a new revision
(Q-2026-0012-R2) that supersedes it.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tradecrm.catalog.models import PERCENT, PRICE, QTY, Unit
from tradecrm.core.crypto import EncryptedTextField, PartlyEncryptedJSONField
from tradecrm.core.models import TimeStamped

# the parts of an issued document's snapshot stored encrypted (bank details, tax ids)
SNAPSHOT_ENCRYPTED = (("bank",), ("seller", "tax_id"), ("buyer", "tax_id"))


class Incoterm(models.TextChoices):
    """Incoterms 2020."""

    EXW = "EXW", _("EXW · Ex Works")
    FCA = "FCA", _("FCA · Free Carrier")
    FAS = "FAS", _("FAS · Free Alongside Ship")
    FOB = "FOB", _("FOB · Free On Board")
    CFR = "CFR", _("CFR · Cost and Freight")
    CIF = "CIF", _("CIF · Cost, Insurance and Freight")
    CPT = "CPT", _("CPT · Carriage Paid To")
    CIP = "CIP", _("CIP · Carriage and Insurance Paid To")
    DAP = "DAP", _("DAP · Delivered at Place")
    DPU = "DPU", _("DPU · Delivered at Place Unloaded")
    DDP = "DDP", _("DDP · Delivered Duty Paid")


# Sea-and-inland-waterway-only terms: their named place is a port.
SEA_INCOTERMS = frozenset({"FAS", "FOB", "CFR", "CIF"})


class PaymentTerms(models.TextChoices):
    TT = "tt", _("T/T (telegraphic transfer)")
    TT_DEPOSIT = "tt_deposit", _("T/T, deposit before production, balance before shipment")
    TT_BL = "tt_bl", _("T/T, deposit, balance against copy of B/L")
    LC_SIGHT = "lc_sight", _("L/C at sight")
    LC_USANCE = "lc_usance", _("L/C usance")
    DP = "dp", _("D/P (documents against payment)")
    DA = "da", _("D/A (documents against acceptance)")
    OA = "oa", _("O/A (open account)")
    CAD = "cad", _("CAD (cash against documents)")
    PAYPAL = "paypal", _("PayPal / card")
    WU = "wu", _("Western Union")
    OTHER = "other", _("Other")


class DocumentLanguage(models.TextChoices):
    EN = "en", _("English")
    ZH = "zh-hans", _("Chinese")
    BILINGUAL = "bilingual", _("English and Chinese")


class SellerProfile(TimeStamped):
    """Our company as it appears on documents (letterhead). Several are allowed (e.g. a Hong Kong
    and a mainland entity); one is the default."""

    name_en = models.CharField(_("company name (English)"), max_length=255)
    name_zh = models.CharField(_("company name (Chinese)"), max_length=255, blank=True)
    address_en = models.TextField(_("address (English)"), blank=True)
    address_zh = models.TextField(_("address (Chinese)"), blank=True)
    phone = models.CharField(_("phone"), max_length=64, blank=True)
    email = models.CharField(_("email"), max_length=254, blank=True)
    website = models.CharField(_("website"), max_length=255, blank=True)
    tax_id = EncryptedTextField(_("tax / registration number"), max_length=64, blank=True)
    logo = models.FileField(_("logo"), max_length=255, upload_to="letterhead/", blank=True)
    is_default = models.BooleanField(_("default"), default=False)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = _("seller profile")
        verbose_name_plural = _("seller profiles")
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="seller_one_default"),
        ]

    def __str__(self) -> str:
        return self.name_en


class BankAccount(TimeStamped):
    """Where the buyer pays: printed on proforma invoices."""

    seller = models.ForeignKey(SellerProfile, on_delete=models.CASCADE, related_name="bank_accounts")
    label = models.CharField(_("label"), max_length=120, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    beneficiary = models.CharField(_("beneficiary"), max_length=255)
    beneficiary_address = models.TextField(_("beneficiary address"), blank=True)
    bank_name = models.CharField(_("bank"), max_length=255)
    # encrypted at rest (core/crypto.py, decision 0011)
    bank_address = EncryptedTextField(_("bank address"), blank=True)
    swift = EncryptedTextField(_("SWIFT / BIC"), max_length=11)
    account_number = EncryptedTextField(_("account number"), max_length=64)
    iban = EncryptedTextField(_("IBAN"), max_length=34, blank=True)
    intermediary_bank = EncryptedTextField(_("intermediary bank"), blank=True)
    is_default = models.BooleanField(_("default for its currency"), default=False)
    active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("bank account")
        verbose_name_plural = _("bank accounts")

    def __str__(self) -> str:
        return self.label or f"{self.bank_name} {self.currency}"


class SeriesKind(models.TextChoices):
    QUOTATION = "quotation", _("Quotation")
    PROFORMA = "proforma", _("Proforma invoice")
    ORDER = "order", _("Order")


class DocumentSeries(models.Model):
    """The counter of one numbering series (kind, year): numbers are taken in the issuing
    transaction with the row locked, so they are unique and without gaps."""

    kind = models.CharField(max_length=12, choices=SeriesKind.choices)
    year = models.PositiveSmallIntegerField()
    prefix = models.CharField(max_length=12)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "year"], name="series_unique_kind_year")]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year} ({self.last_number})"


class DocumentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING_APPROVAL = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    ISSUED = "issued", _("Issued")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    EXPIRED = "expired", _("Expired")
    SUPERSEDED = "superseded", _("Replaced by a revision")
    CANCELLED = "cancelled", _("Cancelled")


# States in which the document's content may still change.
EDITABLE_STATUSES = frozenset({DocumentStatus.DRAFT, DocumentStatus.PENDING_APPROVAL, DocumentStatus.APPROVED})


class TradeDocument(TimeStamped):
    """What quotations and proforma invoices share: parties, trade terms, currency with the frozen
    exchange rate (1 document currency = `fx_rate` base currency, on `fx_date`, from `fx_source`),
    totals kept by the services, and the snapshot printed once issued."""

    company = models.ForeignKey("customers.Company", on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("customer"))
    contact = models.ForeignKey("customers.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("contact"))
    opportunity = models.ForeignKey("sales.Opportunity", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("opportunity"))
    seller = models.ForeignKey(SellerProfile, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("seller"))
    bank_account = models.ForeignKey(BankAccount, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("bank account"))
    number = models.CharField(_("number"), max_length=32, blank=True)
    base_number = models.CharField(max_length=32, blank=True, editable=False)
    revision = models.PositiveSmallIntegerField(_("revision"), default=1)
    status = models.CharField(_("status"), max_length=10, choices=DocumentStatus.choices,
                              default=DocumentStatus.DRAFT)
    language = models.CharField(_("document language"), max_length=10, choices=DocumentLanguage.choices,
                                default=DocumentLanguage.EN)
    document_date = models.DateField(_("date"))
    currency = models.CharField(_("currency"), max_length=3)
    base_currency = models.CharField(max_length=3, blank=True, editable=False)
    fx_rate = models.DecimalField(_("exchange rate"), max_digits=20, decimal_places=10, null=True, blank=True,
                                  editable=False)
    fx_date = models.DateField(_("rate date"), null=True, blank=True, editable=False)
    fx_source = models.CharField(_("rate source"), max_length=120, blank=True, editable=False)
    incoterm = models.CharField(_("Incoterm"), max_length=3, choices=Incoterm.choices, blank=True)
    incoterm_place = models.CharField(_("named place"), max_length=120, blank=True)
    port_of_loading = models.CharField(_("port of loading"), max_length=120, blank=True)
    port_of_destination = models.CharField(_("port of destination"), max_length=120, blank=True)
    payment_terms = models.CharField(_("payment terms"), max_length=12, choices=PaymentTerms.choices, blank=True)
    deposit_percent = models.DecimalField(_("deposit (%)"), **PERCENT, null=True, blank=True)
    payment_days = models.PositiveSmallIntegerField(_("payment days"), null=True, blank=True,
                                                    help_text=_("For usance L/C, D/A and O/A: days after B/L or sight."))
    payment_terms_note = models.CharField(_("payment terms detail"), max_length=255, blank=True)
    lead_time_days = models.PositiveSmallIntegerField(_("lead time (days)"), null=True, blank=True)
    shipping_marks = models.TextField(_("shipping marks"), blank=True)
    packing_notes = models.TextField(_("packing"), blank=True)
    remarks = models.TextField(_("remarks"), blank=True)
    # totals, kept by the services from the lines
    subtotal = models.DecimalField(_("subtotal"), max_digits=18, decimal_places=2, default=Decimal("0"))
    discount_total = models.DecimalField(_("discount"), max_digits=18, decimal_places=2, default=Decimal("0"))
    total_amount = models.DecimalField(_("total"), max_digits=18, decimal_places=2, default=Decimal("0"))
    total_cartons = models.PositiveIntegerField(_("cartons"), default=0)
    total_gross_weight_kg = models.DecimalField(_("gross weight (kg)"), max_digits=14, decimal_places=3,
                                                default=Decimal("0"))
    total_net_weight_kg = models.DecimalField(_("net weight (kg)"), max_digits=14, decimal_places=3,
                                              default=Decimal("0"))
    total_cbm = models.DecimalField(_("volume (m³)"), max_digits=14, decimal_places=4, default=Decimal("0"))
    total_cost_cny = models.DecimalField(_("cost (CNY)"), max_digits=18, decimal_places=2, null=True, blank=True)
    total_rebate_cny = models.DecimalField(_("tax rebate (CNY)"), max_digits=18, decimal_places=2, null=True,
                                           blank=True)
    snapshot = models.JSONField(default=dict, blank=True, editable=False)
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("owner"))
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.number or f"{_('Draft')} #{self.pk}"


class DocumentLine(models.Model):
    """A line of a trade document: from a product (its details copied in) or free text. Amount,
    cartons, weights and volume are kept by the services."""

    position = models.PositiveSmallIntegerField(default=0)
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("product"))
    sku = models.CharField(_("SKU"), max_length=64, blank=True)
    name = models.CharField(_("description"), max_length=500)
    name_zh = models.CharField(_("description (Chinese)"), max_length=500, blank=True)
    specification = models.TextField(_("specification"), blank=True)
    hs_code = models.CharField(_("HS code"), max_length=12, blank=True)
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.PCS)
    quantity = models.DecimalField(_("quantity"), **QTY)
    unit_price = models.DecimalField(_("unit price"), **PRICE)
    discount_percent = models.DecimalField(_("discount (%)"), **PERCENT, default=Decimal("0"))
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2, default=Decimal("0"))
    units_per_carton = models.PositiveIntegerField(_("units per carton"), null=True, blank=True)
    cartons = models.PositiveIntegerField(_("cartons"), default=0)
    gross_weight_kg = models.DecimalField(_("gross weight (kg)"), max_digits=14, decimal_places=3,
                                          default=Decimal("0"))
    net_weight_kg = models.DecimalField(_("net weight (kg)"), max_digits=14, decimal_places=3, default=Decimal("0"))
    cbm = models.DecimalField(_("volume (m³)"), max_digits=14, decimal_places=4, default=Decimal("0"))
    unit_cost_cny = models.DecimalField(_("unit cost (CNY)"), **PRICE, null=True, blank=True)
    vat_rate = models.DecimalField(_("VAT rate (%)"), **PERCENT, null=True, blank=True)
    tax_rebate_rate = models.DecimalField(_("tax-rebate rate (%)"), **PERCENT, null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.name}"


class Quotation(TradeDocument):
    inquiry = models.ForeignKey("sales.Inquiry", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="quotations", verbose_name=_("inquiry"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    previous = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="next_revision", editable=False)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    decided_at = models.DateTimeField(_("answered"), null=True, blank=True)
    decision_note = models.TextField(_("customer's answer"), blank=True)

    # the bank details and tax ids the snapshot copies are encrypted at rest; the rest stays plain JSON
    snapshot = PartlyEncryptedJSONField(default=dict, blank=True, editable=False, paths=SNAPSHOT_ENCRYPTED)

    class Meta:
        verbose_name = _("quotation")
        verbose_name_plural = _("quotations")
        indexes = [
            models.Index(fields=["company", "document_date"], name="quotation_company_idx"),
            models.Index(fields=["status", "valid_until"], name="quotation_status_idx"),
            models.Index(fields=["updated_at", "id"], name="quotation_updated_idx"),
            models.Index(fields=["opportunity"], name="quotation_opp_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["number"], condition=~Q(number=""), name="quotation_number_unique"),
            models.CheckConstraint(condition=Q(total_amount__gte=0), name="quotation_total_not_negative"),
        ]


class QuotationLine(DocumentLine):
    document = models.ForeignKey(Quotation, on_delete=models.CASCADE, related_name="lines")

    class Meta(DocumentLine.Meta):
        verbose_name = _("quotation line")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="quotation_line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="quotation_line_price_not_negative"),
            models.CheckConstraint(condition=Q(discount_percent__gte=0, discount_percent__lte=100),
                                   name="quotation_line_discount_percent"),
        ]


class ProformaInvoice(TradeDocument):
    quotation = models.ForeignKey(Quotation, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="proformas", verbose_name=_("quotation"))
    previous = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="next_revision", editable=False)
    deposit_amount = models.DecimalField(_("deposit"), max_digits=18, decimal_places=2, default=Decimal("0"))
    balance_amount = models.DecimalField(_("balance"), max_digits=18, decimal_places=2, default=Decimal("0"))
    deposit_due_date = models.DateField(_("deposit due"), null=True, blank=True)
    balance_due_date = models.DateField(_("balance due"), null=True, blank=True)

    # the bank details and tax ids the snapshot copies are encrypted at rest; the rest stays plain JSON
    snapshot = PartlyEncryptedJSONField(default=dict, blank=True, editable=False, paths=SNAPSHOT_ENCRYPTED)

    class Meta:
        verbose_name = _("proforma invoice")
        verbose_name_plural = _("proforma invoices")
        indexes = [
            models.Index(fields=["company", "document_date"], name="proforma_company_idx"),
            models.Index(fields=["status", "document_date"], name="proforma_status_idx"),
            models.Index(fields=["updated_at", "id"], name="proforma_updated_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["number"], condition=~Q(number=""), name="proforma_number_unique"),
            models.CheckConstraint(condition=Q(total_amount__gte=0), name="proforma_total_not_negative"),
        ]


class ProformaLine(DocumentLine):
    document = models.ForeignKey(ProformaInvoice, on_delete=models.CASCADE, related_name="lines")

    class Meta(DocumentLine.Meta):
        verbose_name = _("proforma invoice line")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="proforma_line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="proforma_line_price_not_negative"),
            models.CheckConstraint(condition=Q(discount_percent__gte=0, discount_percent__lte=100),
                                   name="proforma_line_discount_percent"),
        ]


class DocumentTemplate(TimeStamped):
    """An admin's version of a PDF template (Django template language, HTML + CSS) for one kind of
    document and language. Without an active one the built-in template file is used."""

    kind = models.CharField(_("document"), max_length=12, choices=SeriesKind.choices)
    language = models.CharField(_("language"), max_length=10, choices=DocumentLanguage.choices)
    name = models.CharField(_("name"), max_length=120)
    source = models.TextField(_("template"))
    active = models.BooleanField(_("in use"), default=False)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = _("document template")
        verbose_name_plural = _("document templates")
        constraints = [
            models.UniqueConstraint(fields=["kind", "language"], condition=Q(active=True),
                                    name="doc_template_one_active"),
        ]

    def __str__(self) -> str:
        return self.name
