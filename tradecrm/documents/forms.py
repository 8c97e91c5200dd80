"""HTML forms of quotations and proforma invoices: the header form, and the line editor's rows,
read from and written to the POST data as `lines-<n>-<field>`. Every rule lives in validation.py
and runs inside the services; their ValidationError is put back onto the header fields and onto
the line rows (`lines.<n>.<field>`)."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tradecrm.catalog.models import Unit
from tradecrm.core.money import currency_choices
from tradecrm.customers.forms import ServiceForm

from . import lines as figures
from .models import BankAccount, DocumentLanguage, Incoterm, PaymentTerms, SellerProfile
from .validation import clean_lines_collect, line_packing, product_defaults, product_price

BLANK = [("", "—")]


def _date_input():
    return forms.DateInput(attrs={"type": "date"})


class DocumentForm(ServiceForm):
    """The header of a quotation or proforma invoice (`kind` "quotation" / "proforma")."""

    company = forms.ChoiceField(label=_("Customer"), required=False)
    contact = forms.ChoiceField(label=_("Contact"), required=False)
    opportunity = forms.ChoiceField(label=_("Opportunity"), required=False)
    seller = forms.ChoiceField(label=_("Seller (letterhead)"), required=False)
    bank_account = forms.ChoiceField(label=_("Bank account"), required=False)
    currency = forms.ChoiceField(label=_("Currency"), required=False)
    document_date = forms.CharField(label=_("Date"), required=False, widget=_date_input())
    valid_until = forms.CharField(label=_("Valid until"), required=False, widget=_date_input())
    language = forms.ChoiceField(
        label=_("Document language"), choices=DocumentLanguage.choices, required=False
    )
    incoterm = forms.ChoiceField(label=_("Incoterm"), choices=BLANK + Incoterm.choices, required=False)
    incoterm_place = forms.CharField(
        label=_("Named place"), max_length=120, required=False,
        help_text=_("FOB/FAS: the port of loading; CFR/CIF: the port of destination."),
    )  # fmt: skip
    port_of_loading = forms.CharField(label=_("Port of loading"), max_length=120, required=False)
    port_of_destination = forms.CharField(label=_("Port of destination"), max_length=120, required=False)
    payment_terms = forms.ChoiceField(
        label=_("Payment terms"), choices=BLANK + PaymentTerms.choices, required=False
    )
    deposit_percent = forms.CharField(label=_("Deposit (%)"), required=False,
                                      widget=forms.TextInput(attrs={"inputmode": "decimal"}))  # fmt: skip
    payment_days = forms.CharField(label=_("Payment days"), required=False,
                                   widget=forms.NumberInput(attrs={"min": 0, "max": 365}))  # fmt: skip
    payment_terms_note = forms.CharField(label=_("Payment terms detail"), max_length=255, required=False)
    lead_time_days = forms.CharField(label=_("Lead time (days)"), required=False,
                                     widget=forms.NumberInput(attrs={"min": 0, "max": 365}))  # fmt: skip
    deposit_due_date = forms.CharField(label=_("Deposit due"), required=False, widget=_date_input())
    balance_due_date = forms.CharField(label=_("Balance due"), required=False, widget=_date_input())
    shipping_marks = forms.CharField(label=_("Shipping marks"), required=False,
                                     widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    packing_notes = forms.CharField(
        label=_("Packing"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    remarks = forms.CharField(label=_("Remarks"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    sections = [
        (_("Parties"), ["company", "contact", "opportunity", "seller", "bank_account"]),
        (_("Currency and dates"), ["currency", "document_date", "valid_until", "language"]),
        (_("Delivery"), ["incoterm", "incoterm_place", "port_of_loading", "port_of_destination", "lead_time_days"]),
        (_("Payment"), ["payment_terms", "deposit_percent", "payment_days", "payment_terms_note",
                        "deposit_due_date", "balance_due_date"]),
        (_("Marks and notes"), ["shipping_marks", "packing_notes", "remarks"]),
    ]  # fmt: skip

    def __init__(self, *args, kind: str, company=None, companies=None, doc=None, **kwargs):
        if doc is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_of(doc)
        super().__init__(*args, **kwargs)
        self.kind = kind
        if company is not None or doc is not None:
            del self.fields["company"]
        else:
            self.fields["company"].choices = BLANK + [(str(c.pk), c.name) for c in companies or []]
            self.fields["company"].widget.attrs["data-search"] = "1"
        target = doc.company if doc is not None else company
        if target is not None:
            contacts = target.contacts.order_by("-is_primary", "last_name", "first_name", "id")
            self.fields["contact"].choices = BLANK + [(str(c.pk), c.full_name) for c in contacts]
            from tradecrm.sales.models import Opportunity

            opps = Opportunity.objects.filter(company_id=target.pk).order_by("-updated_at")[:100]
            self.fields["opportunity"].choices = BLANK + [(str(o.pk), o.name) for o in opps]
        else:
            del self.fields["contact"], self.fields["opportunity"]
        self.fields["seller"].choices = BLANK + [
            (str(s.pk), str(s)) for s in SellerProfile.objects.order_by("name_en")
        ]
        if kind == "proforma":
            accounts = (
                BankAccount.objects.filter(active=True).select_related("seller").order_by("currency", "label")
            )
            self.fields["bank_account"].choices = BLANK + [
                (str(a.pk), f"{a.currency} · {a} · {a.seller}") for a in accounts
            ]
            del self.fields["valid_until"]
        else:
            for name in ("bank_account", "deposit_due_date", "balance_due_date"):
                del self.fields[name]
        self.fields["currency"].choices = currency_choices()
        self.fields["currency"].widget.attrs["data-search"] = "1"

    def service_data(self) -> dict:
        data = super().service_data()
        data.pop("company", None)
        return data

    def grouped(self):
        for title, names in self.sections:
            fields = [self[n] for n in names if n in self.fields]
            if fields:
                yield title, fields


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def initial_of(doc) -> dict:
    names = [
        "currency", "document_date", "valid_until", "language", "incoterm", "incoterm_place", "port_of_loading",
        "port_of_destination", "payment_terms", "deposit_percent", "payment_days", "payment_terms_note",
        "lead_time_days", "deposit_due_date", "balance_due_date", "shipping_marks", "packing_notes", "remarks",
    ]  # fmt: skip
    out = {n: _text(getattr(doc, n, "")) for n in names if hasattr(doc, n)}
    for fk in ("contact", "opportunity", "seller", "bank_account"):
        if hasattr(doc, f"{fk}_id"):
            out[fk] = str(getattr(doc, f"{fk}_id") or "")
    out["version"] = doc.version
    return out


# --- the line editor ----------------------------------------------------------------------------

ROW_FIELDS = (
    "id", "product", "sku", "name", "name_zh", "specification", "hs_code", "unit", "quantity", "unit_price",
    "discount_percent", "units_per_carton", "carton_gross_weight_kg", "carton_net_weight_kg", "carton_cbm",
    "unit_cost_cny", "note",
)  # fmt: skip
_ROW_KEY = re.compile(r"^lines-(\d{1,4})-([a-z_]+)$")
UNIT_CHOICES = Unit.choices


def rows_from_post(post) -> list[dict]:
    """The editor's rows from the POST data, in row order: {field: text}."""
    found: dict[int, dict] = {}
    for key in post:
        m = _ROW_KEY.match(key)
        if m and m.group(2) in ROW_FIELDS:
            found.setdefault(int(m.group(1)), {})[m.group(2)] = post.get(key, "")
    return [found[i] for i in sorted(found)]


def rows_from_lines(lines) -> list[dict]:
    rows = []
    for line in lines:
        row = {f: _text(getattr(line, f, "")) for f in ROW_FIELDS if f not in ("product", "id")}
        row["id"] = str(line.pk)
        row["product"] = str(line.product_id or "")
        row.update({k: _text(v) for k, v in line_packing(line).items()})
        rows.append(row)
    return rows


def row_from_product(product, *, currency: str, on, quantity: str = "") -> dict:
    values = product_defaults(product)
    qty = Decimal(quantity) if quantity else (product.moq or None)
    price = product_price(product, currency, qty, on)
    row = {f: _text(values.get(f)) for f in ROW_FIELDS if f in values}
    row.update(id="", product=str(product.pk), quantity=_text(qty), unit_price=_text(price),
               discount_percent="", note="")  # fmt: skip
    return row


def service_lines(rows: list[dict], *, with_costs: bool) -> list[dict]:
    """Rows as the service's line dicts. Without cost rights the cost inputs are not on the page:
    the line's id keeps its cost."""
    out = []
    for row in rows:
        line = {k: v for k, v in row.items() if k in ROW_FIELDS}
        if not line.get("id"):
            line.pop("id", None)
        if not line.get("product"):
            line["product"] = None
        if not with_costs:
            line.pop("unit_cost_cny", None)
        out.append(line)
    return out


class Editor:
    """The line editor's state: rows with their figures and errors, and the totals."""

    def __init__(self, rows: list[dict], *, currency: str, on, errors: dict | None = None):
        self.rows = [{"values": r, "errors": {}, "figures": None} for r in rows]
        self.currency = currency
        self.general: list[str] = []
        raw = service_lines(rows, with_costs=True)
        for line in raw:
            line.pop("id", None)  # figures only: no lookup of stored lines
        clean, collected = clean_lines_collect(raw, currency=currency, on=on, allow_costs=True)
        by_position = {line["position"]: line for line in clean.lines}
        for i, row in enumerate(self.rows):
            row["figures"] = by_position.get(i + 1)
        self.totals = clean.totals or figures.totals([])
        self.containers = figures.container_estimate(self.totals.total_cbm, self.totals.total_gross_weight_kg)
        for name, messages in (errors if errors is not None else collected.by_field).items():
            self.add_error(name, messages)

    def add_error(self, name: str, messages) -> None:
        parts = name.split(".")
        if len(parts) >= 2 and parts[0] == "lines" and parts[1].isdigit() and int(parts[1]) < len(self.rows):
            field = parts[2] if len(parts) > 2 else "name"
            self.rows[int(parts[1])]["errors"].setdefault(field, []).extend(messages)
        elif name == "lines" or name.startswith("lines."):
            self.general.extend(messages)

    @property
    def has_errors(self) -> bool:
        return bool(self.general) or any(r["errors"] for r in self.rows)


def split_errors(exc: ValidationError) -> tuple[dict, dict]:
    """(header errors, line errors) of a service's ValidationError."""
    if not hasattr(exc, "error_dict"):
        return {"__all__": exc.messages}, {}
    header, lines = {}, {}
    for name, messages in exc.message_dict.items():
        (lines if name == "lines" or name.startswith("lines.") else header)[name] = messages
    return header, lines


class NoteForm(forms.Form):
    note = forms.CharField(label=pgettext_lazy("decision", "Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}))  # fmt: skip
