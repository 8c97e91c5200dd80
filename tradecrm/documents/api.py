"""JSON API of quotations (/api/v1/quotations) and proforma invoices (/api/v1/proforma-invoices).

Thin, like the other apps' APIs: reads go through the selectors (a document is found when its
customer is visible to you; otherwise 404, as if missing), writes through the services.
Validation errors are 422 with the field at fault (line fields as `lines.<index>.<field>`, index
from 0); a stale `version` is 409 with who changed it; a change of a document that is no longer
a draft (issued, accepted…) is 409 too, with the reason and the document's status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router

from tradecrm.accounts.access import can_see_costs
from tradecrm.core.api import (
    DELETE,
    LIST,
    PATCH,
    READ,
    WRITE,
    Conflict,
    Id,
    check_delete_version,
    created_response,
    json_response,
    not_modified,
    object_response,
    page_response,
    person_name,
    required_version,
    user_ref,
)
from tradecrm.core.ids import parse_id
from tradecrm.customers.selectors import company_get_for_user

from . import selectors, services
from .schemas import (
    ActionIn,
    DocumentListQuery,
    Locked,
    ProformaCreate,
    ProformaOut,
    ProformaPage,
    ProformaPatch,
    QuotationCreate,
    QuotationOut,
    QuotationPage,
    QuotationPatch,
    RevisionIn,
)
from .services import DocumentLocked
from .validation import to_date

quotations = Router(tags=["quotations"])
proformas = Router(tags=["proforma invoices"])

# 409: a stale version (Conflict) or a document whose status forbids the change (Locked)
CHANGE = {**PATCH, 409: Conflict | Locked}
ACTION = {**WRITE, 409: Conflict | Locked, 428: PATCH[428]}
REMOVE = {**DELETE, 409: Conflict | Locked}

LINE_FIELDS = (
    "id", "position", "product_id", "sku", "name", "name_zh", "specification", "hs_code", "unit", "quantity",
    "unit_price", "discount_percent", "amount", "units_per_carton", "cartons", "gross_weight_kg", "net_weight_kg",
    "cbm", "note",
)  # fmt: skip
COST_FIELDS = ("unit_cost_cny", "vat_rate", "tax_rebate_rate")
DOC_FIELDS = (
    "id", "number", "base_number", "revision", "status", "contact_id", "opportunity_id", "seller_id", "language",
    "document_date", "currency", "incoterm", "incoterm_place", "port_of_loading", "port_of_destination",
    "payment_terms", "deposit_percent", "payment_days", "payment_terms_note", "lead_time_days", "shipping_marks",
    "packing_notes", "remarks", "subtotal", "discount_total", "total_amount", "total_cartons",
    "total_gross_weight_kg", "total_net_weight_kg", "total_cbm", "issued_at", "previous_id", "version",
    "created_at", "updated_at",
)  # fmt: skip
QUOTATION_FIELDS = ("inquiry_id", "valid_until", "approved_at", "decided_at", "decision_note")
PROFORMA_FIELDS = (
    "quotation_id", "bank_account_id", "deposit_amount", "balance_amount", "deposit_due_date", "balance_due_date",
)  # fmt: skip


def _locked(exc: DocumentLocked) -> HttpResponse:
    return json_response({"detail": exc.message_text, "status": exc.status}, status=409)


def guarded(call: Callable[[], object]):
    """Run a service call; a change refused for the document's status answers 409."""
    try:
        return call(), None
    except DocumentLocked as exc:
        return None, _locked(exc)


def document_out(user, doc, kind: str) -> dict:
    lines = list(doc.lines.all())
    with_costs = can_see_costs(user)
    out = {k: getattr(doc, k) for k in DOC_FIELDS}
    out["company"] = {"id": doc.company_id, "name": doc.company.name}
    out["owner"] = user_ref(doc.owner)
    out["issued_by"] = user_ref(doc.issued_by)
    out["lines"] = []
    for line in lines:
        row = {k: getattr(line, k) for k in LINE_FIELDS}
        row.update({k: (getattr(line, k) if with_costs else None) for k in COST_FIELDS})
        out["lines"].append(row)
    out["containers"] = selectors.containers(doc)
    out["fx"] = (
        {
            "rate": doc.fx_rate,
            "date": doc.fx_date,
            "source": doc.fx_source,
            "base_currency": doc.base_currency,
        }
        if doc.fx_rate is not None
        else None
    )
    view = selectors.document_margin(user, doc, lines)
    if view is not None and view.margin is not None:
        m = view.margin
        out["margin"] = {
            "revenue_cny": m.revenue_cny, "cost_cny": m.cost_cny, "rebate_cny": m.rebate_cny,
            "margin_cny": m.margin_cny, "margin_percent": m.margin_percent, "complete": m.complete,
            "rate_to_cny": view.rate,
        }  # fmt: skip
    else:
        out["margin"] = None
    if kind == "quotation":
        out.update({k: getattr(doc, k) for k in QUOTATION_FIELDS})
        out["approved_by"] = user_ref(doc.approved_by)
    else:
        out.update({k: getattr(doc, k) for k in PROFORMA_FIELDS})
    return out


def _row(r: dict, kind: str) -> dict:
    keep = ("id", "number", "revision", "status", "contact_id", "document_date", "currency", "total_amount",
            "incoterm", "incoterm_place", "issued_at", "version", "created_at", "updated_at")  # fmt: skip
    out = {k: r[k] for k in keep}
    out["company"] = {"id": r["company_id"], "name": r["company__name"]}
    out["owner"] = (
        {"id": r["owner_id"], "username": r["owner__username"],
         "name": person_name(r["owner__first_name"], r["owner__last_name"], r["owner__username"])}
        if r["owner_id"] else None
    )  # fmt: skip
    extra = ("valid_until",) if kind == "quotation" else ("quotation_id", "deposit_amount", "balance_amount")
    out.update({k: r[k] for k in extra})
    return out


def _filters(request, query) -> selectors.DocumentFilters:
    owner = None
    if query.owner:
        owner = request.auth.id if query.owner == "me" else parse_id(query.owner)
        if owner is None:
            raise ValidationError({"owner": [_("Enter “me” or a user id.")]})
    dates: dict[str, dt.date | None] = {}
    for name in ("date_from", "date_to"):
        raw = getattr(query, name)
        dates[name] = to_date(raw) if raw else None
        if raw and dates[name] is None:
            raise ValidationError({name: [_("Enter a date, e.g. 2026-03-09.")]})
    return selectors.DocumentFilters(
        status=query.status or "", company=query.company_id, owner=owner, q=query.q, sort=query.sort, **dates
    )


def _company(request, company_id):
    try:
        return company_get_for_user(request.auth, company_id)
    except Http404:
        raise ValidationError({"company": [_("No company with id %(id)s.") % {"id": company_id}]}) from None


def _fresh_quotation(request, pk: int):
    return selectors.quotation_get_for_user(request.auth, pk)


def _fresh_proforma(request, pk: int):
    return selectors.proforma_get_for_user(request.auth, pk)


# --- quotations ---------------------------------------------------------------------------------


@quotations.get("", response={200: QuotationPage, **LIST}, summary="List quotations")
def list_quotations(request: HttpRequest, query: Query[DocumentListQuery]):
    """Quotations of the customers you can see, latest change first. Filters combine with AND;
    `q` matches the number or the customer's name."""
    f = _filters(request, query)
    rows, nxt, prev = selectors.quotation_list(
        request.auth, f, cursor=query.cursor or None, limit=query.limit
    )
    return page_response([_row(r, "quotation") for r in rows], nxt, prev)


@quotations.post("", response={201: QuotationOut, **WRITE}, summary="Create a draft quotation")
def create_quotation(request: HttpRequest, payload: QuotationCreate):
    """A draft with its lines. Line errors name the line: `lines.2.quantity` (index from 0) with
    “Line 3: quantity must be greater than zero.”"""
    data = payload.model_dump(exclude_unset=True)
    company = _company(request, data.pop("company"))
    lines = data.pop("lines", [])
    doc = services.quotation_create(actor=request.auth, company=company, data=data, lines=lines)
    return created_response(
        document_out(request.auth, _fresh_quotation(request, doc.pk), "quotation"), "quotations"
    )


@quotations.get(
    "/{int:quotation_id}", response={200: QuotationOut, 304: None, **READ}, summary="Get a quotation"
)
def get_quotation(request: HttpRequest, quotation_id: Id):
    doc = _fresh_quotation(request, quotation_id)
    return not_modified(request, doc.version) or object_response(document_out(request.auth, doc, "quotation"))


@quotations.patch(
    "/{int:quotation_id}",
    response={200: QuotationOut, **CHANGE},
    summary="Change a draft quotation (409 once issued: make a revision)",
)
def patch_quotation(request: HttpRequest, quotation_id: Id, payload: QuotationPatch):
    """Send the fields to change and the `version` you last read (or If-Match). `lines`, when
    sent, replaces the whole list. An issued quotation cannot change: 409 with
    “Quotation Q-… is issued and cannot be changed; make a revision.”"""
    data = payload.model_dump(exclude_unset=True)
    version = required_version(request, data.pop("version", None))
    lines = data.pop("lines", None)
    doc = _fresh_quotation(request, quotation_id)
    _done, refused = guarded(lambda: services.quotation_update(actor=request.auth, quotation=doc, version=version,
                                                                data=data, lines=lines))  # fmt: skip
    if refused:
        return refused
    return object_response(document_out(request.auth, _fresh_quotation(request, quotation_id), "quotation"))


@quotations.delete("/{int:quotation_id}", response={204: None, **REMOVE}, summary="Delete a draft quotation")
def delete_quotation(request: HttpRequest, quotation_id: Id):
    """Only a quotation that was never issued (409 otherwise)."""
    doc = _fresh_quotation(request, quotation_id)
    check_delete_version(request, doc)
    _done, refused = guarded(lambda: services.quotation_delete(actor=request.auth, quotation=doc))
    return refused or HttpResponse(status=204)


def _quotation_action(request, quotation_id: int, payload: ActionIn, run, *, needs_version: bool = False):
    data = payload.model_dump(exclude_unset=True)
    version = required_version(request, data.get("version")) if needs_version else data.get("version")
    if version is None:
        from tradecrm.core.api import if_match

        version = if_match(request)
    doc = _fresh_quotation(request, quotation_id)
    result, refused = guarded(lambda: run(doc, version, (data.get("note") or "")))
    if refused:
        return refused
    return result


def _quotation_answer(request, result, created: bool = False):
    if getattr(result, "_meta", None) is not None and result._meta.model_name == "proformainvoice":
        return created_response(document_out(request.auth, _fresh_proforma(request, result.pk), "proforma"),
                                "proforma-invoices")  # fmt: skip
    doc = _fresh_quotation(request, result.pk)
    out = document_out(request.auth, doc, "quotation")
    return created_response(out, "quotations") if created else object_response(out)


QUOTATION_ACTIONS = {
    "submit": ("Submit for approval", lambda u, d, v, n: services.quotation_submit(actor=u, quotation=d, version=v)),
    "approve": ("Approve (managers, administrators)",
                lambda u, d, v, n: services.quotation_approve(actor=u, quotation=d, version=v, note=n)),
    "reject-approval": ("Send back to the author with a note (managers, administrators)",
                        lambda u, d, v, n: services.quotation_approval_reject(actor=u, quotation=d, note=n, version=v)),
    "accept": ("The buyer accepted", lambda u, d, v, n: services.quotation_accept(actor=u, quotation=d, version=v,
                                                                                  note=n)),
    "reject": ("The buyer rejected (note: why)",
               lambda u, d, v, n: services.quotation_reject(actor=u, quotation=d, note=n, version=v)),
    "expire": ("Mark as expired", lambda u, d, v, n: services.quotation_expire(actor=u, quotation=d, version=v)),
    "cancel": ("Cancel a draft", lambda u, d, v, n: services.quotation_cancel(actor=u, quotation=d, version=v)),
}  # fmt: skip


def _register_quotation_action(name: str, summary: str, run):
    @quotations.post(f"/{{int:quotation_id}}/{name}", response={200: QuotationOut, **ACTION}, summary=summary,
                     operation_id=f"quotation_{name.replace('-', '_')}")  # fmt: skip
    def action(request: HttpRequest, quotation_id: Id, payload: ActionIn):
        result = _quotation_action(request, quotation_id, payload, lambda d, v, n: run(request.auth, d, v, n))
        return result if isinstance(result, HttpResponse) else _quotation_answer(request, result)

    return action


for _name, (_summary, _run) in QUOTATION_ACTIONS.items():
    _register_quotation_action(_name, _summary, _run)


@quotations.post(
    "/{int:quotation_id}/issue",
    response={200: QuotationOut, **ACTION},
    summary="Issue: number, frozen exchange rate, snapshot",
)
def issue_quotation(request: HttpRequest, quotation_id: Id, payload: ActionIn):
    """Takes the next number (Q-2026-0012; a revision Q-2026-0012-R2), freezes the rate of the
    currency to the base currency for the document's date and stores the snapshot printed on the
    PDF. 422 on `currency` without a rate for that date (nothing changes); 422 without lines or
    without a needed approval; 409 on a stale version. Needs `version`."""
    result = _quotation_action(
        request, quotation_id, payload,
        lambda d, v, n: services.quotation_issue(actor=request.auth, quotation=d, version=v), needs_version=True,
    )  # fmt: skip
    return result if isinstance(result, HttpResponse) else _quotation_answer(request, result)


@quotations.post(
    "/{int:quotation_id}/revise", response={201: QuotationOut, **ACTION}, summary="Make a draft revision"
)
def revise_quotation(request: HttpRequest, quotation_id: Id, payload: RevisionIn):
    """A new draft (revision + 1, same base number) of an issued quotation; the old one is
    superseded when the revision is issued. Answers the new draft."""
    doc = _fresh_quotation(request, quotation_id)
    new = services.quotation_revise(actor=request.auth, quotation=doc)
    return _quotation_answer(request, new, created=True)


@quotations.post(
    "/{int:quotation_id}/proforma",
    response={201: ProformaOut, **ACTION},
    summary="Make a draft proforma invoice from an issued or accepted quotation",
)
def quotation_to_proforma(request: HttpRequest, quotation_id: Id, payload: RevisionIn):
    doc = _fresh_quotation(request, quotation_id)
    pi = services.proforma_from_quotation(actor=request.auth, quotation=doc)
    return _quotation_answer(request, pi, created=True)


# --- proforma invoices --------------------------------------------------------------------------


@proformas.get("", response={200: ProformaPage, **LIST}, summary="List proforma invoices")
def list_proformas(request: HttpRequest, query: Query[DocumentListQuery]):
    f = _filters(request, query)
    rows, nxt, prev = selectors.proforma_list(request.auth, f, cursor=query.cursor or None, limit=query.limit)
    return page_response([_row(r, "proforma") for r in rows], nxt, prev)


@proformas.post("", response={201: ProformaOut, **WRITE}, summary="Create a draft proforma invoice")
def create_proforma(request: HttpRequest, payload: ProformaCreate):
    data = payload.model_dump(exclude_unset=True)
    company = _company(request, data.pop("company"))
    lines = data.pop("lines", [])
    doc = services.proforma_create(actor=request.auth, company=company, data=data, lines=lines)
    return created_response(document_out(request.auth, _fresh_proforma(request, doc.pk), "proforma"),
                            "proforma-invoices")  # fmt: skip


@proformas.get(
    "/{int:proforma_id}", response={200: ProformaOut, 304: None, **READ}, summary="Get a proforma invoice"
)
def get_proforma(request: HttpRequest, proforma_id: Id):
    doc = _fresh_proforma(request, proforma_id)
    return not_modified(request, doc.version) or object_response(document_out(request.auth, doc, "proforma"))


@proformas.patch(
    "/{int:proforma_id}",
    response={200: ProformaOut, **CHANGE},
    summary="Change a draft proforma invoice (409 once issued: make a revision)",
)
def patch_proforma(request: HttpRequest, proforma_id: Id, payload: ProformaPatch):
    data = payload.model_dump(exclude_unset=True)
    version = required_version(request, data.pop("version", None))
    lines = data.pop("lines", None)
    doc = _fresh_proforma(request, proforma_id)
    _done, refused = guarded(lambda: services.proforma_update(actor=request.auth, proforma=doc, version=version,
                                                               data=data, lines=lines))  # fmt: skip
    if refused:
        return refused
    return object_response(document_out(request.auth, _fresh_proforma(request, proforma_id), "proforma"))


@proformas.delete(
    "/{int:proforma_id}", response={204: None, **REMOVE}, summary="Delete a draft proforma invoice"
)
def delete_proforma(request: HttpRequest, proforma_id: Id):
    doc = _fresh_proforma(request, proforma_id)
    check_delete_version(request, doc)
    _done, refused = guarded(lambda: services.proforma_delete(actor=request.auth, proforma=doc))
    return refused or HttpResponse(status=204)


@proformas.post(
    "/{int:proforma_id}/issue",
    response={200: ProformaOut, **ACTION},
    summary="Issue: number, bank account in its currency, deposit and balance, frozen rate",
)
def issue_proforma(request: HttpRequest, proforma_id: Id, payload: ActionIn):
    """Needs `version`. 422 on `bank_account` when the seller has no account in the invoice's
    currency, on `currency` without an exchange rate for the date; nothing changes then."""
    data = payload.model_dump(exclude_unset=True)
    version = required_version(request, data.get("version"))
    doc = _fresh_proforma(request, proforma_id)
    services.proforma_issue(actor=request.auth, proforma=doc, version=version)
    return object_response(document_out(request.auth, _fresh_proforma(request, proforma_id), "proforma"))


@proformas.post(
    "/{int:proforma_id}/revise", response={201: ProformaOut, **ACTION}, summary="Make a draft revision"
)
def revise_proforma(request: HttpRequest, proforma_id: Id, payload: RevisionIn):
    doc = _fresh_proforma(request, proforma_id)
    new = services.proforma_revise(actor=request.auth, proforma=doc)
    return created_response(document_out(request.auth, _fresh_proforma(request, new.pk), "proforma"),
                            "proforma-invoices")  # fmt: skip


@proformas.post(
    "/{int:proforma_id}/cancel",
    response={200: ProformaOut, **ACTION},
    summary="Cancel a draft, or an issued invoice without an order",
)
def cancel_proforma(request: HttpRequest, proforma_id: Id, payload: ActionIn):
    data = payload.model_dump(exclude_unset=True)
    doc = _fresh_proforma(request, proforma_id)
    services.proforma_cancel(actor=request.auth, proforma=doc, version=data.get("version"))
    return object_response(document_out(request.auth, _fresh_proforma(request, proforma_id), "proforma"))
