"""HTML forms of the sales app. They carry raw values only: every rule lives in validation.py and
runs inside the services, whose ValidationError `apply_errors` puts on the fields (so the browser
and the API give the same messages). Item lines (inquiries, samples) are rows of plain inputs
named `item-<n>-<field>`, read by `items_from_post`."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tradecrm.accounts.access import can_reveal
from tradecrm.catalog.models import Product, Unit
from tradecrm.core import geo
from tradecrm.customers.forms import BLANK, ServiceForm, _user_choices, assignable_users
from tradecrm.customers.masking import mask_row
from tradecrm.interactions.validation import user_zone

from .defaults import display_name
from .models import (
    Courier,
    InquiryChannel,
    InquiryStatus,
    LossReason,
    SamplePaidBy,
    StageKind,
)

ITEM_FIELDS = ("product", "description", "quantity", "unit", "target_price")
EMPTY_ROWS = 3
PRODUCT_CHOICES_LIMIT = 500


def _currency_choices():
    try:
        from tradecrm.core.money import currency_choices
    except ImportError:  # the money helpers land with the FX work
        return geo.currency_choices(get_language() or "en")
    return currency_choices()


def _country_choices():
    return geo.country_choices(get_language() or "en")


def _incoterm_choices():
    from tradecrm.documents.models import Incoterm

    return Incoterm.choices


def _local_input(moment, user) -> str:
    return timezone.localtime(moment, user_zone(user)).strftime("%Y-%m-%dT%H:%M") if moment else ""


def _text(label, widget=None, **kw) -> forms.CharField:
    return forms.CharField(label=label, required=False, strip=True, widget=widget or forms.TextInput, **kw)


def _choice(label, choices=(), **kw) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, required=False, choices=choices, **kw)


def product_choices() -> list[tuple[str, str]]:
    rows = (
        Product.objects.filter(active=True)
        .order_by("sku")
        .values_list("id", "sku", "name_en")[:PRODUCT_CHOICES_LIMIT]
    )
    return [("", "—")] + [(str(i), f"{sku} · {name}") for i, sku, name in rows]


def items_from_post(data, prefix: str = "item", fields=ITEM_FIELDS) -> list[dict]:
    """The item rows of a posted form, in order, blank rows kept out."""
    indexes = sorted({int(k.split("-")[1]) for k in data if k.startswith(f"{prefix}-") and k.count("-") == 2
                      and k.split("-")[1].isdigit()})  # fmt: skip
    rows = []
    for i in indexes:
        row = {f: (data.get(f"{prefix}-{i}-{f}") or "").strip() for f in fields}
        if any(row.get(f) for f in fields if f != "unit"):
            rows.append(row)
    return rows


def item_rows(items, extra: int = EMPTY_ROWS, fields=ITEM_FIELDS) -> list[dict]:
    """Rows for the template: the current items (objects or dicts) and a few empty ones."""
    rows = []
    for item in items:
        if isinstance(item, dict):
            rows.append({f: item.get(f, "") or "" for f in fields})
        else:
            rows.append({
                f: ("" if getattr(item, f + "_id" if f == "product" else f, None) is None
                    else str(getattr(item, f + "_id" if f == "product" else f))) for f in fields
            })  # fmt: skip
    for r in rows:
        for f in ("quantity", "target_price"):
            if r.get(f) and "." in str(r[f]):
                r[f] = str(r[f]).rstrip("0").rstrip(".")
    rows += [dict.fromkeys(fields, "") for _ in range(extra)]
    return rows


class InquiryForm(ServiceForm):
    channel = _choice(_("Channel"), BLANK + InquiryChannel.choices)
    channel_detail = _text(
        _("Channel detail"), help_text=_("e.g. RFQ number, show name and booth, landing page.")
    )
    received_at = _text(
        _("Received (your time)"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    status = _choice(_("Status"), [c for c in InquiryStatus.choices if c[0] != InquiryStatus.CONVERTED])
    buyer_name = _text(_("Buyer's name"))
    buyer_company = _text(_("Buyer's company"))
    buyer_email = _text(_("Buyer's email"), widget=forms.EmailInput)
    buyer_phone = _text(_("Buyer's phone"))
    buyer_country = _choice(_("Buyer's country"))
    subject = _text(_("Subject"))
    message = _text(_("Message"), widget=forms.Textarea(attrs={"rows": 4}))
    destination_country = _choice(_("Destination country"))
    destination_port = _text(_("Destination port"))
    target_currency = _choice(_("Currency"))
    incoterm = _choice(_("Incoterm"))
    owner = _choice(_("Owner"))

    def __init__(self, *args, user, inquiry=None, **kwargs):
        if inquiry is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{f: getattr(inquiry, f) for f in (
                    "channel", "channel_detail", "status", "buyer_name", "buyer_company", "buyer_email",
                    "buyer_phone", "buyer_country", "subject", "message", "destination_country", "destination_port",
                    "target_currency", "incoterm")},
                "received_at": _local_input(inquiry.received_at, user),
                "owner": str(inquiry.owner_id or ""),
                "version": inquiry.version,
            }  # fmt: skip
            if not can_reveal(user):  # contact masking; inquiry_update maps an unchanged mask back
                mask_row(kwargs["initial"], ("buyer_email", "buyer_phone"))
        super().__init__(*args, **kwargs)
        countries = BLANK + _country_choices()
        self.fields["buyer_country"].choices = countries
        self.fields["destination_country"].choices = countries
        self.fields["target_currency"].choices = BLANK + _currency_choices()
        self.fields["incoterm"].choices = BLANK + _incoterm_choices()
        for name in ("buyer_country", "destination_country", "target_currency"):
            self.fields[name].widget.attrs["data-search"] = "1"
        current = [inquiry.owner_id] if inquiry is not None and inquiry.owner_id else []
        self.fields["owner"].choices = BLANK + _user_choices(assignable_users(user, current))
        if inquiry is None:
            del self.fields["status"]
            self.initial.setdefault("owner", str(user.pk))
        elif inquiry.status == InquiryStatus.CONVERTED:
            del self.fields["status"]

    def service_data(self) -> dict:
        data = super().service_data()
        if "status" in data and not data["status"]:
            data.pop("status")
        return data


class ConvertForm(ServiceForm):
    """Link to an existing customer or create one from the buyer's details; the opportunity's
    name, value and pipeline."""

    mode = forms.ChoiceField(
        label=_("Customer"),
        choices=[("new", _("Create a new customer")), ("existing", _("Link to an existing customer"))],
        widget=forms.RadioSelect,
        initial="new",
    )
    company = _text(_("Existing customer"), widget=forms.HiddenInput)
    new_name = _text(_("Company name"))
    new_country = _choice(_("Country"))
    new_email = _text(_("Company email"), widget=forms.EmailInput)
    add_contact = forms.BooleanField(label=_("Add the buyer as a contact"), required=False, initial=True)
    contact_first_name = _text(_("First name"))
    contact_last_name = _text(_("Last name"))
    contact_email = _text(_("Email"), widget=forms.EmailInput)
    contact_phone = _text(_("Phone"))
    pipeline = _choice(_("Pipeline"))
    opportunity_name = _text(_("Opportunity name"))
    amount = _text(_("Expected value"), widget=forms.NumberInput(attrs={"step": "0.01", "min": 0}))
    currency = _choice(_("Currency"))
    expected_close_date = _text(_("Expected close date"), widget=forms.DateInput(attrs={"type": "date"}))

    FIELD_MAP = {
        "new_company.name": "new_name", "new_company.country": "new_country", "new_company.email": "new_email",
        "contact.first_name": "contact_first_name", "contact.last_name": "contact_last_name",
        "contact.emails": "contact_email", "contact.phones": "contact_phone",
        "opportunity.name": "opportunity_name", "opportunity.amount": "amount", "opportunity.currency": "currency",
        "opportunity.expected_close_date": "expected_close_date", "opportunity.pipeline": "pipeline",
        "opportunity.stage": "pipeline",
    }  # fmt: skip

    def __init__(self, *args, pipelines, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mode"].widget.attrs["class"] = "form-check-input"
        self.fields["company"].widget.attrs["class"] = ""  # hidden: only carries an error message
        self.fields["new_country"].choices = BLANK + _country_choices()
        self.fields["new_country"].widget.attrs["data-search"] = "1"
        self.fields["currency"].choices = _currency_choices()
        self.fields["currency"].widget.attrs["data-search"] = "1"
        self.fields["pipeline"].choices = [(str(p.pk), display_name(p)) for p in pipelines]

    def apply_errors(self, exc) -> None:
        from django.core.exceptions import ValidationError

        if hasattr(exc, "error_dict"):
            renamed: dict[str, list] = {}
            for field, messages in exc.message_dict.items():
                name = self.FIELD_MAP.get(field, field)
                renamed.setdefault(name if name in self.fields else "__all__", []).extend(messages)
            exc = ValidationError(renamed)
        super().apply_errors(exc)


class OpportunityForm(ServiceForm):
    name = _text(_("Name"))
    contact = _choice(_("Contact"))
    pipeline = _choice(_("Pipeline"))
    stage = _choice(_("Stage"))
    amount = _text(_("Expected value"), widget=forms.NumberInput(attrs={"step": "0.01", "min": 0}))
    currency = _choice(_("Currency"))
    probability = _text(
        _("Win probability (%)"),
        widget=forms.NumberInput(attrs={"min": 0, "max": 100}),
        help_text=_("Empty: the stage's probability."),
    )
    expected_close_date = _text(_("Expected close date"), widget=forms.DateInput(attrs={"type": "date"}))
    owner = _choice(_("Owner"))
    description = _text(_("Description"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user, company, pipelines=(), opportunity=None, **kwargs):
        if opportunity is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": opportunity.name, "contact": str(opportunity.contact_id or ""),
                "amount": opportunity.amount, "currency": opportunity.currency,
                "probability": "" if opportunity.probability is None else opportunity.probability,
                "expected_close_date": opportunity.expected_close_date.isoformat() if opportunity.expected_close_date else "",
                "owner": str(opportunity.owner_id or ""), "description": opportunity.description,
                "version": opportunity.version,
            }  # fmt: skip
        super().__init__(*args, **kwargs)
        contacts = (
            company.contacts.order_by("-is_primary", "last_name", "first_name", "id") if company else []
        )
        self.fields["contact"].choices = BLANK + [(str(c.pk), c.full_name) for c in contacts]
        self.fields["currency"].choices = _currency_choices()
        self.fields["currency"].widget.attrs["data-search"] = "1"
        current = [opportunity.owner_id] if opportunity is not None and opportunity.owner_id else []
        self.fields["owner"].choices = BLANK + _user_choices(assignable_users(user, current))
        if opportunity is None:
            self.fields["pipeline"].choices = [(str(p.pk), display_name(p)) for p in pipelines]
            stages = [(str(s.pk), f"{display_name(p)} · {display_name(s)}") for p in pipelines
                      for s in p.stages.all() if s.kind == StageKind.OPEN]  # fmt: skip
            self.fields["stage"].choices = BLANK + stages
            self.initial.setdefault("owner", str(user.pk))
            if company is not None and company.currency:
                self.initial.setdefault("currency", company.currency)
        else:
            del self.fields["pipeline"]
            del self.fields["stage"]


class MoveForm(forms.Form):
    stage = forms.IntegerField(required=False)
    loss_reason = forms.IntegerField(required=False)
    loss_note = forms.CharField(required=False, max_length=20000)
    version = forms.IntegerField(required=False)
    before = forms.IntegerField(required=False)
    after = forms.IntegerField(required=False)


class PipelineForm(ServiceForm):
    name = _text(_("Name"))
    is_default = forms.BooleanField(label=_("Default pipeline"), required=False)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    copy_stages = forms.BooleanField(label=_("Start with the stages of the default pipeline"), required=False,
                                     initial=True)  # fmt: skip

    def __init__(self, *args, pipeline=None, **kwargs):
        if pipeline is not None and "initial" not in kwargs:
            kwargs["initial"] = {"name": display_name(pipeline), "is_default": pipeline.is_default,
                                 "active": pipeline.active, "version": pipeline.version}  # fmt: skip
        super().__init__(*args, **kwargs)
        if pipeline is not None:
            del self.fields["copy_stages"]

    def service_data(self) -> dict:
        data = super().service_data()
        data.pop("copy_stages", None)
        return data


class StageForm(ServiceForm):
    name = _text(_("Name"))
    probability = _text(_("Win probability (%)"), widget=forms.NumberInput(attrs={"min": 0, "max": 100}))
    kind = forms.ChoiceField(label=_("Kind"), choices=StageKind.choices, initial=StageKind.OPEN)
    stale_days = _text(
        _("Stale after (days)"),
        widget=forms.NumberInput(attrs={"min": 1}),
        help_text=_("Warn the owner when an opportunity stays longer in this stage. Empty: never."),
    )

    def __init__(self, *args, stage=None, **kwargs):
        if stage is not None and "initial" not in kwargs:
            kwargs["initial"] = {"name": display_name(stage), "probability": stage.probability, "kind": stage.kind,
                                 "stale_days": stage.stale_days or ""}  # fmt: skip
        super().__init__(*args, **kwargs)


class SampleForm(ServiceForm):
    requested_on = _text(_("Requested on"), widget=forms.DateInput(attrs={"type": "date"}))
    contact = _choice(_("Contact"))
    opportunity = _choice(_("Opportunity"))
    ship_to = _text(_("Ship to"), widget=forms.Textarea(attrs={"rows": 2}))
    owner = _choice(_("Owner"))
    notes = _text(_("Notes"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, company, opportunities=(), sample=None, **kwargs):
        if sample is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "requested_on": sample.requested_on.isoformat(), "contact": str(sample.contact_id or ""),
                "opportunity": str(sample.opportunity_id or ""), "ship_to": sample.ship_to,
                "owner": str(sample.owner_id or ""), "notes": sample.notes, "version": sample.version,
            }  # fmt: skip
        super().__init__(*args, **kwargs)
        contacts = company.contacts.order_by("-is_primary", "last_name", "first_name", "id")
        self.fields["contact"].choices = BLANK + [(str(c.pk), c.full_name) for c in contacts]
        self.fields["opportunity"].choices = BLANK + [(str(o.pk), o.name) for o in opportunities]
        current = [sample.owner_id] if sample is not None and sample.owner_id else []
        self.fields["owner"].choices = BLANK + _user_choices(assignable_users(user, current))
        if sample is None:
            self.initial.setdefault("owner", str(user.pk))
            self.initial.setdefault("requested_on", timezone.localdate().isoformat())


class SentForm(ServiceForm):
    courier = _choice(_("Courier"), BLANK + Courier.choices)
    tracking_number = _text(_("Tracking number"))
    sent_on = _text(_("Sent on"), widget=forms.DateInput(attrs={"type": "date"}))
    cost = _text(_("Cost"), widget=forms.NumberInput(attrs={"step": "0.01", "min": 0}))
    cost_currency = _choice(_("Cost currency"))
    paid_by = _choice(_("Paid by"), BLANK + SamplePaidBy.choices)
    courier_account = _text(_("Customer's courier account"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cost_currency"].choices = BLANK + _currency_choices()
        self.initial.setdefault("sent_on", timezone.localdate().isoformat())


class ReceivedForm(ServiceForm):
    received_on = _text(_("Received on"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("received_on", timezone.localdate().isoformat())


class FeedbackForm(ServiceForm):
    feedback_rating = _choice(_("Rating"), BLANK + [(str(i), "★" * i) for i in range(1, 6)])
    feedback = _text(_("What the customer said"), widget=forms.Textarea(attrs={"rows": 3}))


def loss_reason_choices() -> list[tuple[str, str]]:
    return [
        (str(r.pk), display_name(r))
        for r in LossReason.objects.filter(active=True).order_by("position", "id")
    ]


def unit_choices() -> list[tuple[str, str]]:
    return [(v, str(label)) for v, label in Unit.choices]
