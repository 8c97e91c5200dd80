"""JSON API of customs records (trade records bought from data vendors), mounted at
/api/v1/customs-records.

Reads only, besides linking a record to a customer: records arrive through the import
(/api/v1/imports with entity "customs") and leave by undoing it. A record is found when its
customer is visible to you; records linked to no customer are visible to managers and
administrators only; anything else is 404, as if missing.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from tradecrm.core.api import LIST, READ, WRITE, Id, Text, json_response, page_response
from tradecrm.core.errors import ValidationError
from tradecrm.customers.selectors import company_get_for_user

from . import selectors, services
from .models import CustomsRecord

customs_records = Router(tags=["customs records"])


# --- schemas ------------------------------------------------------------------------------------


class CompanyRef(Schema):
    id: int
    name: str


class RecordOut(Schema):
    id: int
    date: dt.date
    importer_name: str
    importer_country: str
    importer_address: str = ""
    exporter_name: str
    exporter_country: str
    notify_party: str
    is_forwarder: bool = Field(
        description="The consignee is not a buyer: a forwarder / NVOCC, “to order”, a bank."
    )
    hs_code: str
    product_description: str
    quantity: str | None
    quantity_unit: str
    weight_kg: str | None
    value: str | None
    currency: str
    port_of_loading: str
    port_of_discharge: str
    bl_number: str
    origin_country: str
    company: CompanyRef | None
    import_job_id: int | None


class RecordPage(Schema):
    items: list[RecordOut]
    next_cursor: str | None
    prev_cursor: str | None


class RecordQuery(Schema):
    hs: Text = Field("", max_length=20, description="An HS code or its start: 8471 finds 847130.")
    date_from: Text = Field("", max_length=10, description="Date on or after (YYYY-MM-DD).")
    date_to: Text = Field("", max_length=10, description="Date on or before (YYYY-MM-DD).")
    country: Text = Field("", max_length=60, description="Importer's country: code or name.")
    origin: Text = Field("", max_length=60, description="Country of origin: code or name.")
    company: Id | None = Field(None, description="Records linked to this customer.")
    customer: Text = Field("", max_length=100, description="Part of the linked customer's name.")
    supplier: Text = Field("", max_length=100, description="Part of the exporter's name.")
    importer: Text = Field("", max_length=100, description="Part of the importer's name.")
    q: Text = Field("", max_length=100, description="Product description, B/L number, importer or exporter.")
    linked: Literal["", "linked", "unlinked", "forwarder"] = Field(
        "", description="unlinked / forwarder: managers and administrators only."
    )
    job: Id | None = Field(None, description="Records brought by this import job.")
    sort: Literal["-date", "date"] = "-date"
    cursor: Text | None = Field(
        None, max_length=1000, description="`next_cursor` or `prev_cursor` of a page."
    )
    limit: int = Field(50, ge=1, le=200, description="Rows per page (at most 200).")


class Money(Schema):
    currency: str
    amount: str


class HsRow(Schema):
    hs_code: str
    count: int
    weight_kg: str
    value: list[Money]
    last_date: dt.date


class SupplierRow(Schema):
    name: str
    country: str
    count: int
    weight_kg: str
    first_date: dt.date
    last_date: dt.date
    hs_codes: list[str]


class TrendRow(Schema):
    month: str = Field(description="YYYY-MM")
    count: int
    weight_kg: str


class SummaryOut(Schema):
    company: CompanyRef
    count: int
    first_date: dt.date | None
    last_date: dt.date | None
    forwarder_count: int
    hs_total: int
    supplier_total: int
    hs_codes: list[HsRow]
    suppliers: list[SupplierRow]
    trend: list[TrendRow]
    latest: list[RecordOut]


class SummaryQuery(Schema):
    company: Id
    months: int = Field(24, ge=1, le=120, description="Months of trend up to the last record.")


class LinkIn(Schema):
    company: Id
    same_importer: bool = Field(
        True, description="Also the importer's other records (unlinked or at the same customer)."
    )


class UnlinkIn(Schema):
    same_importer: bool = True


class LinkOut(Schema):
    changed: int
    record: RecordOut


# --- helpers ------------------------------------------------------------------------------------


def _s(value):
    return None if value is None else str(value)


def row_out(r: dict) -> dict:
    return {
        "id": r["id"], "date": r["date"], "importer_name": r["importer_name"],
        "importer_country": r["importer_country"], "importer_address": r.get("importer_address", ""),
        "exporter_name": r["exporter_name"], "exporter_country": r["exporter_country"],
        "notify_party": r["notify_party"], "is_forwarder": r["is_forwarder"], "hs_code": r["hs_code"],
        "product_description": r["product_description"], "quantity": _s(r["quantity"]),
        "quantity_unit": r["quantity_unit"], "weight_kg": _s(r["weight_kg"]), "value": _s(r["value"]),
        "currency": r["currency"], "port_of_loading": r["port_of_loading"],
        "port_of_discharge": r["port_of_discharge"], "bl_number": r["bl_number"],
        "origin_country": r["origin_country"],
        "company": {"id": r["company_id"], "name": r["company__name"]} if r["company_id"] else None,
        "import_job_id": r["import_job_id"],
    }  # fmt: skip


def record_out(record: CustomsRecord) -> dict:
    r = {f: getattr(record, f) for f in selectors.LIST_FIELDS if "__" not in f}
    r["importer_address"] = record.importer_address
    r["company__name"] = record.company.name if record.company_id else None
    return row_out(r)


# --- endpoints ----------------------------------------------------------------------------------


@customs_records.get("", response={200: RecordPage, **LIST}, summary="List customs records")
def list_records(request: HttpRequest, query: Query[RecordQuery]):
    """Customs records you can see, newest first (keyset paged). Filters combine with AND."""
    params = query.model_dump()
    params["company"] = str(query.company or "")
    params["job"] = str(query.job or "")
    f, errors = selectors.filters_from_params(params)
    if f.linked in ("unlinked", "forwarder") and not selectors.can_see_unlinked(request.auth):
        errors["linked"] = _("Only managers and administrators see records linked to no customer.")
    if errors:
        raise ValidationError({k: [v] for k, v in errors.items()})
    rows, nxt, prev = selectors.customs_record_list(
        request.auth, f, cursor=query.cursor or None, limit=query.limit
    )
    return page_response([row_out(r) for r in rows], nxt, prev)


@customs_records.get("/summary", response={200: SummaryOut, **LIST}, summary="A customer's import history")
def summary(request: HttpRequest, query: Query[SummaryQuery]):
    """What the customer's customs records show: count and period, HS codes with volumes,
    suppliers, a monthly trend and the latest records (the customer page's panel)."""
    company = company_get_for_user(request.auth, query.company)
    s = selectors.company_customs_summary(company, months=query.months)
    out = {
        "company": {"id": company.pk, "name": company.name}, "count": s["count"], "first_date": s["first_date"],
        "last_date": s["last_date"], "forwarder_count": s["forwarder_count"], "hs_total": s["hs_total"],
        "supplier_total": s["supplier_total"],
        "hs_codes": [{**h, "weight_kg": str(h["weight_kg"]),
                      "value": [{"currency": v["currency"], "amount": str(v["amount"])} for v in h["value"]]}
                     for h in s["hs_codes"]],
        "suppliers": [{k: (str(v) if k == "weight_kg" else v) for k, v in p.items() if k != "key"}
                      for p in s["suppliers"]],
        "trend": [{**t, "weight_kg": str(t["weight_kg"])} for t in s["trend"]],
        "latest": [row_out({**r, "importer_address": ""}) for r in s["latest"]],
    }  # fmt: skip
    return json_response(out)


@customs_records.get("/{int:record_id}", response={200: RecordOut, **READ}, summary="Get a customs record")
def get_record(request: HttpRequest, record_id: Id):
    return json_response(record_out(selectors.customs_record_get_for_user(request.auth, record_id)))


@customs_records.post("/{int:record_id}/link", response={200: LinkOut, **WRITE}, summary="Link to a customer")
def link_record(request: HttpRequest, record_id: Id, payload: LinkIn):
    """Managers and administrators: the record shows `company` buying (with `same_importer`, every
    record of the same importer linked to nobody or to the same customer moves too)."""
    record = selectors.customs_record_get_for_user(request.auth, record_id)
    if not selectors.can_link(request.auth):
        raise PermissionDenied(_("Only managers and administrators may link customs records to customers."))
    try:
        company = company_get_for_user(request.auth, payload.company)
    except Http404:
        raise ValidationError(
            {"company": [_("No customer with id %(id)s.") % {"id": payload.company}]}
        ) from None
    changed = services.customs_record_link(
        actor=request.auth, record=record, company=company, same_importer=payload.same_importer
    )
    record = selectors.customs_record_get_for_user(request.auth, record_id)
    return json_response({"changed": changed, "record": record_out(record)})


@customs_records.post(
    "/{int:record_id}/unlink", response={200: LinkOut, **WRITE}, summary="Unlink from its customer"
)
def unlink_record(request: HttpRequest, record_id: Id, payload: UnlinkIn):
    record = selectors.customs_record_get_for_user(request.auth, record_id)
    if not selectors.can_link(request.auth):
        raise PermissionDenied(_("Only managers and administrators may link customs records to customers."))
    changed = services.customs_record_unlink(
        actor=request.auth, record=record, same_importer=payload.same_importer
    )
    record = selectors.customs_record_get_for_user(request.auth, record_id)
    return json_response({"changed": changed, "record": record_out(record)})
