"""HTML forms of the catalogue. They only carry raw values: every rule is in validation.py and runs
inside the services (see customers/forms.py, ServiceForm)."""

from __future__ import annotations

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from tradecrm.accounts.access import can_see_costs
from tradecrm.core.money import currency_choices
from tradecrm.customers.forms import BLANK, ServiceForm
from tradecrm.customers.widgets import FastSelect

from .models import PriceList, PriceListItem, Product, Unit
from .services import format_hs_code


def _label(model, name: str):
    return capfirst(model._meta.get_field(name).verbose_name)


def _text(model, name: str, widget=None, **kw) -> forms.CharField:
    return forms.CharField(
        label=kw.pop("label", None) or _label(model, name),
        required=False,
        strip=True,
        widget=widget or forms.TextInput,
        **kw,
    )


def _number(model, name: str, step: str = "any", **kw) -> forms.CharField:
    # text in, so "1,5" or "13%" reach the service, which explains what is wrong with them
    attrs = {"inputmode": "decimal", "data-number": name, **kw.pop("attrs", {})}
    return _text(model, name, widget=forms.TextInput(attrs=attrs), **kw)


def _area(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class ProductForm(ServiceForm):
    sku = _text(Product, "sku", widget=forms.TextInput(attrs={"autofocus": True, "maxlength": 64}))
    name_en = _text(Product, "name_en", widget=forms.TextInput(attrs={"maxlength": 255}))
    name_zh = _text(Product, "name_zh", widget=forms.TextInput(attrs={"maxlength": 255}))
    category = _text(Product, "category", widget=forms.TextInput(attrs={"list": "product-categories"}))
    unit = forms.CharField(
        label=_label(Product, "unit"), required=False, widget=FastSelect(choices=Unit.choices)
    )
    hs_code = _text(
        Product, "hs_code", help_text=_("6 to 10 digits; dots and spaces are ignored (7323.93.00).")
    )
    moq = _number(Product, "moq")
    active = forms.BooleanField(label=_label(Product, "active"), required=False)
    specification = _text(Product, "specification", widget=_area())
    description = _text(Product, "description", widget=_area())
    units_per_carton = _number(Product, "units_per_carton", attrs={"inputmode": "numeric"})
    carton_length_cm = _number(Product, "carton_length_cm")
    carton_width_cm = _number(Product, "carton_width_cm")
    carton_height_cm = _number(Product, "carton_height_cm")
    carton_gross_weight_kg = _number(Product, "carton_gross_weight_kg")
    carton_net_weight_kg = _number(Product, "carton_net_weight_kg")
    carton_cbm = _number(
        Product,
        "carton_cbm",
        help_text=_("Leave empty to work it out from the carton size: L × W × H ÷ 1,000,000."),
    )
    packing_notes = _text(Product, "packing_notes", widget=_area(2))
    purchase_cost_cny = _number(Product, "purchase_cost_cny")
    vat_rate = _number(Product, "vat_rate")
    tax_rebate_rate = _number(Product, "tax_rebate_rate")
    supplier = _text(Product, "supplier")

    sections = [
        (
            _("Product"),
            [
                "sku",
                "name_en",
                "name_zh",
                "category",
                "unit",
                "hs_code",
                "moq",
                "active",
                "specification",
                "description",
            ],
        ),
        (
            _("Packing (per export carton)"),
            [
                "units_per_carton",
                "carton_length_cm",
                "carton_width_cm",
                "carton_height_cm",
                "carton_gross_weight_kg",
                "carton_net_weight_kg",
                "carton_cbm",
                "packing_notes",
            ],
        ),  # fmt: skip
        (_("Cost and export tax rebate"), ["purchase_cost_cny", "vat_rate", "tax_rebate_rate", "supplier"]),
    ]

    def __init__(self, *args, user, product: Product | None = None, **kwargs):
        if product is not None and "initial" not in kwargs:
            kwargs["initial"] = product_initial(product)
        elif "initial" not in kwargs:
            kwargs["initial"] = {"unit": Unit.PCS, "active": True, "vat_rate": "13", "tax_rebate_rate": "0"}
        super().__init__(*args, **kwargs)
        if not can_see_costs(user):
            for name in ("purchase_cost_cny", "vat_rate", "tax_rebate_rate", "supplier"):
                del self.fields[name]


def _plain(value) -> str:
    if value is None:
        return ""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def product_initial(p: Product) -> dict:
    data = {
        name: _plain(getattr(p, name)) if not isinstance(getattr(p, name), str | bool) else getattr(p, name)
        for name in (
            "sku", "name_en", "name_zh", "category", "unit", "hs_code", "moq", "active", "specification",
            "description", "units_per_carton", "carton_length_cm", "carton_width_cm", "carton_height_cm",
            "carton_gross_weight_kg", "carton_net_weight_kg", "carton_cbm", "packing_notes", "purchase_cost_cny",
            "vat_rate", "tax_rebate_rate", "supplier",
        )
    }  # fmt: skip
    data["hs_code"] = format_hs_code(p.hs_code) if p.hs_code else ""
    data["version"] = p.version
    return data


class PriceListForm(ServiceForm):
    name = _text(PriceList, "name", widget=forms.TextInput(attrs={"autofocus": True, "maxlength": 120}))
    currency = forms.CharField(
        label=_label(PriceList, "currency"),
        required=False,
        widget=FastSelect(attrs={"data-search": "1"}),
    )
    valid_from = _text(PriceList, "valid_from", widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = _text(PriceList, "valid_until", widget=forms.DateInput(attrs={"type": "date"}))
    active = forms.BooleanField(label=_label(PriceList, "active"), required=False)
    notes = _text(PriceList, "notes", widget=_area(2))

    sections = [(_("Price list"), ["name", "currency", "valid_from", "valid_until", "active", "notes"])]

    def __init__(self, *args, price_list: PriceList | None = None, **kwargs):
        if price_list is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": price_list.name,
                "currency": price_list.currency,
                "valid_from": price_list.valid_from.isoformat() if price_list.valid_from else "",
                "valid_until": price_list.valid_until.isoformat() if price_list.valid_until else "",
                "active": price_list.active,
                "notes": price_list.notes,
                "version": price_list.version,
            }
        elif "initial" not in kwargs:
            kwargs["initial"] = {"currency": "USD", "active": True}
        super().__init__(*args, **kwargs)
        self.fields["currency"].widget.choices = BLANK + currency_choices()


class PriceForm(ServiceForm):
    """A price on a list: from the price-list page (by SKU) or the product page (by list)."""

    sku = forms.CharField(label=_("SKU"), required=False, widget=forms.TextInput(attrs={"maxlength": 64}))
    price_list = forms.CharField(label=_("Price list"), required=False, widget=FastSelect())
    min_quantity = _number(PriceListItem, "min_quantity")
    unit_price = _number(PriceListItem, "unit_price")

    def __init__(self, *args, by: str, price_lists=(), **kwargs):
        kwargs.setdefault("initial", {"min_quantity": "1"})
        super().__init__(*args, **kwargs)
        if by == "sku":
            del self.fields["price_list"]
        else:
            del self.fields["sku"]
            self.fields["price_list"].widget.choices = [
                (str(p.pk), f"{p.name} ({p.currency})") for p in price_lists
            ]


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control", "accept": ".xlsx,.xls,.xlsm,.ods,.csv,text/csv"}
        ),
    )
