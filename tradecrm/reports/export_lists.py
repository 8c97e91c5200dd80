"""The lists an export can be made of: for each, which query parameters it reads (the list page's),
how they become that app's own filter dataclass, how its rows are read (through that app's own
selector, so visibility and filters mean what they mean on the page) and which columns it has."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from tradecrm.core.paging import Sort

from .exports import (
    ID,
    CapHeader,
    Column,
    Params,
    fcol,
    pages_by_id,
    pages_by_list,
    pages_by_sort,
)

CUSTOMS_PARAMS = ("hs", "date_from", "date_to", "country", "origin", "company", "company_id", "supplier", "importer",
                  "q", "linked", "job")  # fmt: skip


# --- the lists -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entity:
    key: str
    label: Any  # plural, for file and sheet names
    model: Any
    params: tuple[str, ...]  # the query parameters it understands (documentation and OpenAPI)
    parse: Callable[[Params], Any]  # → the list page's filter dataclass
    read: Callable[[Any, Any, list[str], int], Iterator[list[dict]]]  # (user, filters, fields, size)
    columns: Callable[[Any], list[Column]]  # (user) → columns


def _company_columns(user) -> list[Column]:
    from tradecrm.customers.models import Company, Tag

    m = Company
    names = (
        "name", "name_local", "country", "city", "address", "website", "email", "phones", "industry", "tax_id",
        "business_type", "company_size", "annual_purchase", "main_products", "hs_codes", "source", "source_detail",
        "timezone", "office_start", "office_end", "preferred_language", "currency", "credit_rating",
        "cooperation_since", "status",
    )  # fmt: skip
    cols = [fcol(m, "id"), *(fcol(m, n) for n in names)]
    cols += [
        fcol(m, "owner__username"),
        fcol(m, "team__name"),
        Column("_tags", CapHeader(Tag._meta.verbose_name_plural), "list"),
        fcol(m, "notes"),
        fcol(m, "last_contact_at"),
        fcol(m, "next_followup_at"),
        fcol(m, "created_at"),
        fcol(m, "updated_at"),
    ]
    return cols


def _company_parse(p: Params):
    from tradecrm.customers.filtering import export_filters
    from tradecrm.customers.models import BusinessType, Source, Status
    from tradecrm.customers.selectors import CompanyFilters

    base = CompanyFilters(
        q=p.text("q"),
        country=p.country(),
        owner=p.owner(),
        tag=p.tag(),
        source=p.choice("source", Source.choices),
        status=p.choice("status", Status.choices),
        business_type=p.choice("business_type", BusinessType.choices),
    )
    # the smart-list filters (tier, products bought, HS code, last contact) and `segment`
    return export_filters(p, base)


def _company_read(user, f, fields, size):
    from tradecrm.customers.selectors import attach_tags, company_filter

    for rows in pages_by_id(company_filter(user, f), fields, size):
        attach_tags(rows)
        for r in rows:
            r["_tags"] = [t["name"] for t in r["tags"]]
        yield rows


def _contact_columns(user) -> list[Column]:
    from tradecrm.customers.models import Contact

    m = Contact
    names = (
        "first_name", "last_name", "name_local", "title", "seniority", "emails", "phones", "whatsapp", "wechat",
        "linkedin", "skype", "birthday", "is_primary", "preferred_language", "notes", "created_at", "updated_at",
    )  # fmt: skip
    return [fcol(m, "id"), fcol(m, "company_id"), fcol(m, "company__name"), *(fcol(m, n) for n in names)]


def _contact_parse(p: Params):
    return {"q": p.text("q"), "company": p.id("company", "company_id")}


def _contact_read(user, f, fields, size):
    from tradecrm.core.search import apply_search
    from tradecrm.customers.models import Contact
    from tradecrm.customers.selectors import company_get_for_user, contacts_for_user

    # the pieces `contact_list` is made of: a customer's contacts (404 when not visible) or all the
    # visible ones, then the search
    if f["company"] is not None:
        qs = Contact.objects.filter(company=company_get_for_user(user, f["company"]))
    else:
        qs = contacts_for_user(user)
    if f["q"]:
        qs = apply_search(qs, f["q"])
    yield from pages_by_id(qs, fields, size)


def _product_columns(user) -> list[Column]:
    """The catalogue's own export columns (`catalog.spreadsheets.export_columns`: no cost columns
    for sales reps) with their English headers, which its importer reads back; plus the ID."""
    from tradecrm.catalog.spreadsheets import export_columns

    kinds = {"number": "number", "bool": "bool", "text": "text"}
    return [Column("id", ID, "number")] + [
        Column(c.field, c.header, kinds[c.kind]) for c in export_columns(user)
    ]


def _product_parse(p: Params):
    from tradecrm.catalog.selectors import ProductFilters

    status = p.text("active", 5) or "1"  # like the list page: active products unless asked otherwise
    if status not in ("1", "0", "all"):
        p.error("active", _("Enter 1 (active), 0 (inactive) or all."))
        status = "1"
    return ProductFilters(
        q=p.text("q"),
        category=p.text("category", 120),
        active=None if status == "all" else status == "1",
        hs_code=p.text("hs", 14),
    )


def _product_read(user, f, fields, size):
    from tradecrm.catalog.selectors import product_filter

    # SKU order, like the catalogue's own export
    yield from pages_by_sort(product_filter(user, f), Sort("sku", False), fields, size)


def _inquiry_columns(user) -> list[Column]:
    from tradecrm.sales.models import Inquiry

    m = Inquiry
    names = (
        "received_at", "channel", "channel_detail", "status", "company_id", "company__name", "buyer_name",
        "buyer_company", "buyer_email", "buyer_phone", "buyer_country", "subject", "message", "destination_country",
        "destination_port", "target_currency", "incoterm", "owner__username", "replied_at", "opportunity_id",
        "created_at", "updated_at",
    )  # fmt: skip
    return [fcol(m, "id"), *(fcol(m, n) for n in names)]


def _inquiry_parse(p: Params):
    from tradecrm.sales.models import InquiryChannel, InquiryStatus
    from tradecrm.sales.selectors import InquiryFilters

    return InquiryFilters(
        status=p.choice("status", InquiryStatus.choices),
        channel=p.choice("channel", InquiryChannel.choices),
        owner=p.owner(),
        unlinked=p.flag("unlinked"),
        company=p.id("company", "company_id"),
    )


def _inquiry_read(user, f, fields, size):
    from tradecrm.sales.models import Inquiry
    from tradecrm.sales.selectors import inquiry_list

    yield from pages_by_list(inquiry_list, user, f, Inquiry, fields, size)


def _opportunity_columns(user) -> list[Column]:
    from tradecrm.sales.models import Opportunity

    m = Opportunity
    return [
        fcol(m, "id"),
        fcol(m, "name"),
        fcol(m, "company_id"),
        fcol(m, "company__name"),
        Column("_pipeline", CapHeader(m._meta.get_field("pipeline").verbose_name)),
        Column("_stage", CapHeader(m._meta.get_field("stage").verbose_name)),
        *(fcol(m, n) for n in ("status", "amount", "currency", "probability", "expected_close_date")),
        fcol(m, "owner__username"),
        Column("_loss_reason", CapHeader(m._meta.get_field("loss_reason").verbose_name)),
        *(fcol(m, n) for n in ("loss_note", "closed_at", "stage_entered_at", "description")),
        fcol(m, "created_at"),
        fcol(m, "updated_at"),
    ]


def _opportunity_parse(p: Params):
    from tradecrm.sales.models import OpportunityStatus
    from tradecrm.sales.selectors import OpportunityFilters

    return OpportunityFilters(
        pipeline=p.id("pipeline"),
        stage=p.id("stage"),
        owner=p.owner(),
        status=p.choice("status", OpportunityStatus.choices),
        close_month=p.month("close_month"),
        company=p.id("company", "company_id"),
        sort="-created_at",  # stable while the export runs (updated_at moves)
    )


_OPPORTUNITY_EXTRA = ("pipeline__name", "stage__key", "stage__name", "loss_reason__key", "loss_reason__name")


def _opportunity_read(user, f, fields, size):
    from tradecrm.sales.defaults import loss_reason_label, pipeline_label, stage_label
    from tradecrm.sales.models import Opportunity
    from tradecrm.sales.selectors import opportunity_list

    # pipeline, stage and loss reason names as the pages show them (the default ones translated)
    fields = list(dict.fromkeys([*fields, *_OPPORTUNITY_EXTRA]))
    for rows in pages_by_list(opportunity_list, user, f, Opportunity, fields, size):
        for r in rows:
            r["_pipeline"] = pipeline_label(r["pipeline__name"])
            r["_stage"] = stage_label(r["stage__key"], r["stage__name"])
            reason = r["loss_reason__name"]
            r["_loss_reason"] = "" if reason is None else loss_reason_label(r["loss_reason__key"], reason)
        yield rows


_DOCUMENT_FIELDS = (
    "number", "revision", "status", "document_date", "company_id", "company__name", "currency", "subtotal",
    "discount_total", "total_amount", "incoterm", "incoterm_place", "port_of_loading", "port_of_destination",
    "payment_terms", "deposit_percent", "payment_days", "lead_time_days", "total_cartons", "total_gross_weight_kg",
    "total_net_weight_kg", "total_cbm", "fx_rate",
)  # fmt: skip


def _document_columns(model, extra: tuple[str, ...]) -> Callable[[Any], list[Column]]:
    def columns(user) -> list[Column]:
        cols = [fcol(model, "id"), *(fcol(model, n) for n in _DOCUMENT_FIELDS + extra)]
        cols += [fcol(model, "total_cost_cny", costs=True), fcol(model, "total_rebate_cny", costs=True)]
        cols += [fcol(model, n) for n in ("owner__username", "issued_at", "created_at", "updated_at")]
        return cols

    return columns


def _document_parse(p: Params):
    from tradecrm.documents.models import DocumentStatus
    from tradecrm.documents.selectors import DocumentFilters

    return DocumentFilters(
        status=p.choice("status", DocumentStatus.choices),
        company=p.id("company", "company_id"),
        owner=p.owner(),
        opportunity=p.id("opportunity", "opportunity_id"),
        date_from=p.date("date_from"),
        date_to=p.date("date_to"),
        q=p.text("q", 100),
        sort="-created_at",
    )


def _quotation_read(user, f, fields, size):
    from tradecrm.documents.models import Quotation
    from tradecrm.documents.selectors import quotation_list

    yield from pages_by_list(quotation_list, user, f, Quotation, fields, size)


def _proforma_read(user, f, fields, size):
    from tradecrm.documents.models import ProformaInvoice
    from tradecrm.documents.selectors import proforma_list

    yield from pages_by_list(proforma_list, user, f, ProformaInvoice, fields, size)


def _order_columns(user) -> list[Column]:
    from tradecrm.orders.models import Order

    m = Order
    names = (
        "number", "status", "document_date", "company_id", "company__name", "customer_po", "currency",
        "total_amount", "paid_amount", "fx_rate", "incoterm", "incoterm_place", "payment_terms", "deposit_percent",
        "payment_days", "delivery_date", "port_of_loading", "port_of_destination", "total_cartons",
        "total_gross_weight_kg", "total_net_weight_kg", "total_cbm",
    )  # fmt: skip
    cols = [fcol(m, "id"), *(fcol(m, n) for n in names)]
    cols.insert(cols.index(next(c for c in cols if c.key == "paid_amount")) + 1,
                Column("_open", gettext_lazy("Open amount"), "number"))  # fmt: skip
    cols += [fcol(m, "total_cost_cny", costs=True), fcol(m, "total_rebate_cny", costs=True)]
    cols += [fcol(m, n) for n in ("proforma_id", "owner__username", "created_at", "updated_at")]
    return cols


def _order_parse(p: Params):
    from tradecrm.orders.models import OrderStatus
    from tradecrm.orders.selectors import OrderFilters

    return OrderFilters(
        status=p.choice("status", OrderStatus.choices),
        company=p.id("company", "company_id"),
        owner=p.owner(),
        date_from=p.date("date_from"),
        date_to=p.date("date_to"),
        q=p.text("q", 100),
    )


def _order_read(user, f, fields, size):
    from tradecrm.orders.models import Order
    from tradecrm.orders.selectors import order_list

    fields = list(dict.fromkeys([*fields, "total_amount", "paid_amount"]))
    for rows in pages_by_list(order_list, user, f, Order, fields, size):
        for r in rows:
            r["_open"] = r["total_amount"] - r["paid_amount"]
        yield rows


def _customs_columns(user) -> list[Column]:
    from tradecrm.customs.models import CustomsRecord

    m = CustomsRecord
    names = (
        "date", "importer_name", "importer_country", "importer_address", "exporter_name", "exporter_country",
        "notify_party", "is_forwarder", "hs_code", "product_description", "quantity", "quantity_unit", "weight_kg",
        "value", "currency", "port_of_loading", "port_of_discharge", "bl_number", "origin_country", "company_id",
        "company__name", "created_at",
    )  # fmt: skip
    return [fcol(m, "id"), *(fcol(m, n) for n in names)]


def _customs_parse(p: Params):
    from tradecrm.customs.selectors import filters_from_params

    raw = {k: p.text(k) for k in CUSTOMS_PARAMS if k != "company_id"}
    raw["company"] = raw["company"] or p.text("company_id")
    filters, errors = filters_from_params(raw)
    for name, message in errors.items():
        p.error(name, message)
    return filters


def _customs_read(user, f, fields, size):
    from tradecrm.customs.selectors import customs_record_queryset

    yield from pages_by_id(customs_record_queryset(user, f), fields, size)


def build_entities() -> dict[str, Entity]:
    """Every list, by its key (`exports.ENTITY_KEYS`)."""
    from tradecrm.catalog.models import Product
    from tradecrm.customers.models import Company, Contact
    from tradecrm.customs.models import CustomsRecord
    from tradecrm.documents.models import ProformaInvoice, Quotation
    from tradecrm.orders.models import Order
    from tradecrm.sales.models import Inquiry, Opportunity

    doc = ("status", "company", "company_id", "owner", "opportunity", "date_from", "date_to", "q")
    return {
        "companies": Entity(
            "companies", pgettext_lazy("export", "Customers"), Company,
            ("q", "country", "owner", "tag", "source", "status", "business_type", "tier", "product", "hs",
             "contact_after", "contact_before", "segment"),
            _company_parse, _company_read, _company_columns,
        ),
        "contacts": Entity(
            "contacts", gettext_lazy("Contacts"), Contact, ("q", "company", "company_id"),
            _contact_parse, _contact_read, _contact_columns,
        ),
        "products": Entity(
            "products", gettext_lazy("Products"), Product, ("q", "category", "active", "hs"),
            _product_parse, _product_read, _product_columns,
        ),
        "inquiries": Entity(
            "inquiries", gettext_lazy("Inquiries"), Inquiry,
            ("status", "channel", "owner", "unlinked", "company", "company_id"),
            _inquiry_parse, _inquiry_read, _inquiry_columns,
        ),
        "opportunities": Entity(
            "opportunities", gettext_lazy("Opportunities"), Opportunity,
            ("pipeline", "stage", "owner", "status", "close_month", "company", "company_id"),
            _opportunity_parse, _opportunity_read, _opportunity_columns,
        ),
        "quotations": Entity(
            "quotations", gettext_lazy("Quotations"), Quotation, doc,
            _document_parse, _quotation_read, _document_columns(Quotation, ("valid_until",)),
        ),
        "proformas": Entity(
            "proformas", gettext_lazy("Proforma invoices"), ProformaInvoice, doc,
            _document_parse, _proforma_read,
            _document_columns(ProformaInvoice, ("deposit_amount", "balance_amount", "deposit_due_date",
                                                "balance_due_date", "quotation_id")),
        ),
        "orders": Entity(
            "orders", gettext_lazy("Orders"), Order,
            ("status", "company", "company_id", "owner", "date_from", "date_to", "q"),
            _order_parse, _order_read, _order_columns,
        ),
        "customs": Entity(
            "customs", gettext_lazy("Customs records"), CustomsRecord,
            CUSTOMS_PARAMS,
            _customs_parse, _customs_read, _customs_columns,
        ),
    }  # fmt: skip
