"""HTML forms for orders, shipments and payments. They carry raw values only: every rule lives in
validation.py and runs inside the services, whose ValidationError `apply_errors` puts on the
fields (so the browser and the API give the same messages)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tradecrm.catalog.models import Unit
from tradecrm.core.money import currency_choices
from tradecrm.customers.forms import BLANK, ServiceForm, assignable_users
from tradecrm.customers.widgets import FastSelect
from tradecrm.documents.models import Incoterm, PaymentTerms

from .models import OrderStatus, ShipmentStatus
from .validation import CONTAINER_TYPES

DATE = {"type": "date"}


def _text(label, *, area: bool = False, **kw) -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": 2}) if area else kw.pop("widget", forms.TextInput)
    return forms.CharField(label=label, required=False, strip=True, widget=widget, **kw)


def _date(label, **kw) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.DateInput(attrs=DATE), **kw)


class ListErrorsMixin:
    """The service reports problems of a repeated part (lines, containers) under one key, each
    message naming its row: they are shown above that part's table, not at the top."""

    list_field = ""

    def apply_errors(self, exc: ValidationError) -> None:
        self.list_errors = []
        if hasattr(exc, "error_dict") and self.list_field in exc.message_dict:
            rest = dict(exc.message_dict)
            self.list_errors = rest.pop(self.list_field)
            if not rest:
                return
            exc = ValidationError(rest)
        super().apply_errors(exc)


class OrderForm(ListErrorsMixin, ServiceForm):
    """The header of a direct order; on an existing order the customer, currency and date are
    shown, not edited (they fix the number and the exchange rate)."""

    list_field = "lines"

    company = forms.CharField(
        label=_("Customer"), required=False, widget=FastSelect(attrs={"data-search": ""})
    )
    currency = forms.CharField(
        label=_("Currency"), required=False, widget=FastSelect(attrs={"data-search": ""})
    )
    document_date = _date(_("Order date"))
    customer_po = _text(_("Customer's PO number"))
    delivery_date = _date(_("Planned shipment date"))
    contact = forms.ChoiceField(label=_("Contact"), required=False)
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    incoterm = forms.ChoiceField(label=_("Incoterm"), choices=BLANK + Incoterm.choices, required=False)
    incoterm_place = _text(_("Named place"))
    port_of_loading = _text(_("Port of loading"))
    port_of_destination = _text(_("Port of destination"))
    payment_terms = forms.ChoiceField(
        label=_("Payment terms"), choices=BLANK + PaymentTerms.choices, required=False
    )
    deposit_percent = _text(
        _("Deposit (%)"), widget=forms.NumberInput(attrs={"min": 0, "max": 100, "step": "0.01"})
    )
    payment_days = _text(_("Payment days"), widget=forms.NumberInput(attrs={"min": 0}))
    payment_terms_note = _text(_("Payment terms detail"))
    shipping_marks = _text(_("Shipping marks"), area=True)
    packing_notes = _text(_("Packing"), area=True)
    remarks = _text(_("Remarks"), area=True)

    CREATE_ONLY = ("company", "currency", "document_date", "deposit_percent")

    def __init__(self, *args, user, company=None, companies=(), order=None, **kwargs):
        if order is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "customer_po": order.customer_po,
                "delivery_date": order.delivery_date.isoformat() if order.delivery_date else "",
                "contact": order.contact_id or "", "owner": order.owner_id or "", "incoterm": order.incoterm,
                "incoterm_place": order.incoterm_place, "port_of_loading": order.port_of_loading,
                "port_of_destination": order.port_of_destination, "payment_terms": order.payment_terms,
                "payment_days": order.payment_days if order.payment_days is not None else "",
                "payment_terms_note": order.payment_terms_note, "shipping_marks": order.shipping_marks,
                "packing_notes": order.packing_notes, "remarks": order.remarks, "version": order.version,
            }  # fmt: skip
        super().__init__(*args, **kwargs)
        self.order = order
        if order is not None:
            for name in self.CREATE_ONLY:
                del self.fields[name]
            company = order.company
        else:
            self.fields["company"].widget.choices = BLANK + [(str(c.pk), c.name) for c in companies]
            self.fields["currency"].widget.choices = currency_choices()
            if company is not None:
                self.initial.setdefault("company", str(company.pk))
                self.initial.setdefault("currency", company.currency or "USD")
            else:
                self.initial.setdefault("currency", "USD")
        contacts = (
            list(company.contacts.order_by("-is_primary", "last_name", "first_name", "id")) if company else []
        )
        self.fields["contact"].choices = BLANK + [(str(c.pk), c.full_name) for c in contacts]
        current = [order.owner_id] if order is not None and order.owner_id else []
        self.fields["owner"].choices = [(str(u.pk), str(u)) for u in assignable_users(user, current)]
        self.initial.setdefault("owner", str(user.pk))


class LineForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), required=False)
    name = forms.CharField(label=_("Description"), required=False)
    quantity = forms.CharField(label=_("Quantity"), required=False)
    unit = forms.ChoiceField(label=_("Unit"), choices=BLANK + Unit.choices, required=False)
    unit_price = forms.CharField(label=_("Unit price"), required=False)
    discount_percent = forms.CharField(label=_("Discount (%)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs["class"] = (
                "form-select form-select-sm" if name == "unit" else "form-control form-control-sm"
            )
            field.widget.attrs["aria-label"] = str(field.label)

    def row(self) -> dict | None:
        d = self.cleaned_data
        if not any((d.get(k) or "").strip() for k in ("sku", "name", "quantity", "unit_price")):
            return None
        return {k: v for k, v in d.items() if v not in (None, "")}


LineFormSet = forms.formset_factory(LineForm, extra=0)


def line_formset(data=None, *, lines=(), extra: int = 3):
    initial = [
        {"sku": ln.sku, "name": ln.name, "quantity": ln.quantity.normalize(), "unit": ln.unit,
         "unit_price": ln.unit_price.normalize(), "discount_percent": ln.discount_percent.normalize() or ""}
        for ln in lines
    ]  # fmt: skip
    formset = forms.formset_factory(LineForm, extra=extra)(data, initial=initial or None, prefix="lines")
    return formset


def formset_rows(formset) -> list[dict]:
    return [row for form in formset.forms if form.is_valid() and (row := form.row()) is not None]


class StatusForm(ServiceForm):
    status = forms.ChoiceField(label=_("New status"))
    effective_on = _date(_("Date"))
    note = _text(pgettext_lazy("order status", "Note"))

    def __init__(self, *args, statuses=(), **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(OrderStatus.choices)
        self.fields["status"].choices = [(s, labels[s]) for s in statuses]


class ShipmentForm(ListErrorsMixin, ServiceForm):
    list_field = "containers"
    status = forms.ChoiceField(label=_("Status"), choices=ShipmentStatus.choices)
    bl_number = _text(_("B/L number"))
    booking_number = _text(_("Booking number"))
    carrier = _text(_("Shipping line"))
    forwarder = _text(_("Freight forwarder"))
    vessel = _text(_("Vessel"))
    voyage = _text(_("Voyage"))
    port_of_loading = _text(_("Port of loading"))
    port_of_discharge = _text(_("Port of discharge"))
    etd = _date(_("ETD"))
    eta = _date(_("ETA"))
    atd = _date(_("Departed on"))
    ata = _date(_("Arrived on"))
    notes = _text(_("Notes"), area=True)

    def __init__(self, *args, shipment=None, order=None, **kwargs):
        if "initial" not in kwargs:
            if shipment is not None:
                kwargs["initial"] = {
                    f: (getattr(shipment, f).isoformat() if hasattr(getattr(shipment, f), "isoformat")
                        else getattr(shipment, f) or "")
                    for f in ("status", "bl_number", "booking_number", "carrier", "forwarder", "vessel", "voyage",
                              "port_of_loading", "port_of_discharge", "etd", "eta", "atd", "ata", "notes")
                }  # fmt: skip
                kwargs["initial"]["version"] = shipment.version
            elif order is not None:
                kwargs["initial"] = {"port_of_loading": order.port_of_loading,
                                     "port_of_discharge": order.port_of_destination}  # fmt: skip
        super().__init__(*args, **kwargs)


class ContainerForm(forms.Form):
    number = forms.CharField(label=_("Container number"), required=False)
    type = forms.ChoiceField(
        label=_("Type"), choices=BLANK + [(t, t) for t in CONTAINER_TYPES], required=False
    )
    seal = forms.CharField(label=_("Seal number"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs["class"] = (
                "form-select form-select-sm" if name == "type" else "form-control form-control-sm"
            )
            field.widget.attrs["aria-label"] = str(field.label)


def container_formset(data=None, *, containers=(), extra: int = 2):
    return forms.formset_factory(ContainerForm, extra=extra)(data, initial=list(containers) or None,
                                                             prefix="containers")  # fmt: skip


def container_rows(formset) -> list[dict]:
    return [
        {k: (form.cleaned_data.get(k) or "") for k in ("number", "type", "seal")}
        for form in formset.forms
        if form.is_valid()
        and any((form.cleaned_data.get(k) or "").strip() for k in ("number", "type", "seal"))
    ]


class PaymentForm(ServiceForm):
    amount = _text(_("Amount received"), widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"}))
    currency = forms.CharField(
        label=_("Currency"), required=False, widget=FastSelect(attrs={"data-search": ""})
    )
    received_on = _date(_("Received on"))
    bank_charges = _text(
        _("Bank charges"),
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
        help_text=_("Deducted by the banks; the customer is credited with amount + charges."),
    )
    receivable = forms.ChoiceField(label=_("Apply to"), required=False)
    reference = _text(_("Bank reference"))
    note = _text(pgettext_lazy("payment", "Note"))

    def __init__(self, *args, order, receivables=(), today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].widget.choices = currency_choices()
        self.initial.setdefault("currency", order.currency)
        if today is not None:
            self.initial.setdefault("received_on", today.isoformat())
        self.fields["receivable"].choices = [("", _("The oldest open receivables first"))] + [
            (
                str(r.pk),
                f"{r.get_kind_display()} · {r.due_date:%Y-%m-%d} · {r.currency} {r.amount - r.paid_amount:,.2f}",
            )
            for r in receivables
        ]


class WriteOffForm(ServiceForm):
    note = _text(_("Reason"))
