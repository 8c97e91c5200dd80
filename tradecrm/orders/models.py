"""Orders / sales contracts (订单/合同), their status history, shipments (出运), receivables and
payments received (回款).

An order carries the trade terms and the frozen exchange rate of a trade document (it usually comes
from an issued proforma invoice). Its lines are the customer's purchase history, read by the
customer page, grading and reports. Receivables (deposit, balance) are booked in the order's
currency at the order's rate; a payment records its own currency and the rate on the day it was
received, so the FX difference against the booked amount can be reported.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tradecrm.core.models import TimeStamped
from tradecrm.documents.models import DocumentLine, TradeDocument


class OrderStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    IN_PRODUCTION = "production", _("In production")
    READY = "ready", _("Ready to ship")
    SHIPPED = "shipped", _("Shipped")
    CUSTOMS_CLEARED = "cleared", _("Customs cleared")
    DELIVERED = "delivered", _("Delivered")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


# The normal chain; a step may be skipped forwards, never taken backwards (except by cancelling).
ORDER_FLOW = (
    OrderStatus.CONFIRMED,
    OrderStatus.IN_PRODUCTION,
    OrderStatus.READY,
    OrderStatus.SHIPPED,
    OrderStatus.CUSTOMS_CLEARED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
)


class Order(TradeDocument):
    status = models.CharField(_("status"), max_length=10, choices=OrderStatus.choices,
                              default=OrderStatus.CONFIRMED)
    proforma = models.ForeignKey("documents.ProformaInvoice", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="orders", verbose_name=_("proforma invoice"))
    quotation = models.ForeignKey("documents.Quotation", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="orders", verbose_name=_("quotation"))
    customer_po = models.CharField(_("customer's PO number"), max_length=64, blank=True)
    delivery_date = models.DateField(_("planned shipment date"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("status since"), null=True, blank=True)
    paid_amount = models.DecimalField(_("received"), max_digits=18, decimal_places=2, default=Decimal("0"))

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["company", "document_date"], name="order_company_idx"),
            models.Index(fields=["status", "document_date"], name="order_status_idx"),
            models.Index(fields=["updated_at", "id"], name="order_updated_idx"),
            models.Index(fields=["document_date", "id"], name="order_date_idx"),
            # The dashboard's partial months (reports.dashboard: edge_orders) read the orders of a
            # date range with every column they need from this index alone, not from the table
            # (1M-customer bench: 390 ms -> 130 ms for a manager's 27 edge days on SQLite).
            # (the id too: SQLite keeps it in every index entry, PostgreSQL only where it is named)
            models.Index(fields=["document_date", "company", "status", "owner", "total_amount", "fx_rate",
                                 "currency", "id"], name="order_report_idx"),  # fmt: skip
        ]
        constraints = [
            models.UniqueConstraint(fields=["number"], condition=~Q(number=""), name="order_number_unique"),
            models.CheckConstraint(condition=Q(total_amount__gte=0), name="order_total_not_negative"),
            # One live order per proforma invoice (a cancelled one frees the PI): the services check
            # first for a message naming the order; this keeps two simultaneous clicks honest.
            models.UniqueConstraint(fields=["proforma"], name="order_one_per_proforma",
                                    condition=Q(proforma__isnull=False) & ~Q(status="cancelled")),
        ]


class OrderLine(DocumentLine):
    # indexed by orderline_order_idx below (the order first, then what the reports sum)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", db_index=False)

    class Meta(DocumentLine.Meta):
        verbose_name = _("order line")
        indexes = [
            models.Index(fields=["product", "order"], name="orderline_product_idx"),
            # the customer list's HS-code filter collects the buyers of a code prefix by this range
            # (customers.selectors.hs_company_ids)
            models.Index(fields=["hs_code", "order"], name="orderline_hs_idx"),
            # an order's lines, and the dashboard's sales by product for a set of orders read from
            # the index alone (replaces the plain foreign-key index on order)
            models.Index(fields=["order", "product", "quantity", "amount"], name="orderline_order_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="order_line_price_not_negative"),
            models.CheckConstraint(condition=Q(discount_percent__gte=0, discount_percent__lte=100),
                                   name="order_line_discount_percent"),
        ]


class OrderStatusChange(models.Model):
    """One step of an order's status chain: when it happened (`effective_on`, may be earlier than
    it was recorded), when and by whom it was recorded."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=10, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=OrderStatus.choices)
    effective_on = models.DateField(_("date"))
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["order", "changed_at"], name="order_status_change_idx")]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status} -> {self.to_status}"


class ShipmentStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    BOOKED = "booked", _("Space booked")
    DEPARTED = "departed", _("Departed")
    ARRIVED = "arrived", _("Arrived")
    DELIVERED = "delivered", _("Delivered")


class Shipment(TimeStamped):
    """One shipment of an order (an order may ship in several lots)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    status = models.CharField(_("status"), max_length=10, choices=ShipmentStatus.choices,
                              default=ShipmentStatus.PLANNED)
    bl_number = models.CharField(_("B/L number"), max_length=64, blank=True)
    booking_number = models.CharField(_("booking number"), max_length=64, blank=True)
    containers = models.JSONField(_("containers"), default=list, blank=True,
                                  help_text=_("[{number, type, seal}], e.g. MSKU1234565, 40HQ."))
    carrier = models.CharField(_("shipping line"), max_length=120, blank=True)
    forwarder = models.CharField(_("freight forwarder"), max_length=120, blank=True)
    vessel = models.CharField(_("vessel"), max_length=120, blank=True)
    voyage = models.CharField(_("voyage"), max_length=32, blank=True)
    port_of_loading = models.CharField(_("port of loading"), max_length=120, blank=True)
    port_of_discharge = models.CharField(_("port of discharge"), max_length=120, blank=True)
    etd = models.DateField(_("ETD"), null=True, blank=True)
    eta = models.DateField(_("ETA"), null=True, blank=True)
    atd = models.DateField(_("departed on"), null=True, blank=True)
    ata = models.DateField(_("arrived on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        indexes = [
            models.Index(fields=["order", "etd"], name="shipment_order_idx"),
            models.Index(fields=["status", "eta"], name="shipment_status_idx"),
        ]

    def __str__(self) -> str:
        return self.bl_number or f"{_('Shipment')} #{self.pk}"


class ReceivableKind(models.TextChoices):
    DEPOSIT = "deposit", _("Deposit")
    BALANCE = "balance", _("Balance")
    OTHER = "other", _("Other")


class ReceivableStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PARTIAL = "partial", _("Partly paid")
    PAID = "paid", _("Paid")
    WRITTEN_OFF = "written_off", _("Written off")


class Receivable(models.Model):
    """An amount the customer owes on an order (deposit, balance), in the order's currency."""

    # indexed by receivable_order_idx below (the order first, then what the aging report reads)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="receivables", db_index=False)
    company = models.ForeignKey("customers.Company", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=8, choices=ReceivableKind.choices)
    due_date = models.DateField(_("due"))
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    paid_amount = models.DecimalField(_("received"), max_digits=18, decimal_places=2, default=Decimal("0"))
    status = models.CharField(_("status"), max_length=12, choices=ReceivableStatus.choices,
                              default=ReceivableStatus.OPEN)
    note = models.CharField(_("note"), max_length=255, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("receivable")
        verbose_name_plural = _("receivables")
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["status", "due_date"], name="receivable_due_idx"),
            models.Index(fields=["company", "status"], name="receivable_company_idx"),
            # an order's receivables, and the aging report's for a set of orders from the index alone
            models.Index(fields=["order", "status", "due_date", "amount", "paid_amount"], name="receivable_order_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="receivable_amount_positive"),
            models.CheckConstraint(condition=Q(paid_amount__gte=0) & Q(paid_amount__lte=models.F("amount")),
                                   name="receivable_paid_within_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.currency}"


class Payment(models.Model):
    """Money received. `amount`/`currency` are what arrived; `applied_amount` is what it settles in
    the order's currency. The rate to the base currency on the day it arrived (`fx_*`) against the
    order's frozen rate gives `fx_difference` (base currency)."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    company = models.ForeignKey("customers.Company", on_delete=models.CASCADE, related_name="+")
    receivable = models.ForeignKey(Receivable, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="payments", verbose_name=_("receivable"))
    received_on = models.DateField(_("received on"))
    amount = models.DecimalField(_("amount received"), max_digits=18, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    applied_amount = models.DecimalField(_("settles (order currency)"), max_digits=18, decimal_places=2)
    fx_rate = models.DecimalField(_("rate to base currency"), max_digits=20, decimal_places=10)
    fx_date = models.DateField(_("rate date"))
    fx_source = models.CharField(_("rate source"), max_length=120, blank=True)
    base_amount = models.DecimalField(_("in base currency"), max_digits=18, decimal_places=2)
    fx_difference = models.DecimalField(_("FX difference (base currency)"), max_digits=18, decimal_places=2,
                                        default=Decimal("0"))
    bank_charges = models.DecimalField(_("bank charges"), max_digits=12, decimal_places=2, default=Decimal("0"))
    reference = models.CharField(_("bank reference"), max_length=120, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["received_on", "id"]
        indexes = [
            models.Index(fields=["company", "received_on"], name="payment_company_idx"),
            models.Index(fields=["received_on", "id"], name="payment_date_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(applied_amount__gt=0), name="payment_applied_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} on {self.received_on}"


class PaymentAllocation(models.Model):
    """How much of a payment settled which receivable (order currency). A payment applied to the
    oldest open receivables may settle the deposit and part of the balance; deleting the payment
    gives each receivable back exactly what it took."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="allocations")
    receivable = models.ForeignKey(Receivable, on_delete=models.PROTECT, related_name="allocations")
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("payment allocation")
        verbose_name_plural = _("payment allocations")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_allocation_positive"),
            models.UniqueConstraint(fields=["payment", "receivable"], name="payment_allocation_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} of payment {self.payment_id} to receivable {self.receivable_id}"
