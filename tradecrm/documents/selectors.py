"""Reads of quotations and proforma invoices, always scoped to the user: a document is visible
exactly when its customer is (missing and not visible are the same 404)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from tradecrm.accounts.access import can_see_costs, company_visibility_q
from tradecrm.core import fx
from tradecrm.core.ids import parse_id
from tradecrm.core.paging import Sort, keyset_page

from . import lines as figures
from .models import DocumentStatus, ProformaInvoice, Quotation

S = DocumentStatus
RELATED = ("company", "contact", "seller", "owner", "updated_by", "issued_by", "opportunity")


def _visible(qs, user):
    q = company_visibility_q(user, prefix="company__")
    return qs if q is None else qs.filter(q)


def quotations_for_user(user):
    return _visible(Quotation.objects.all(), user)


def proformas_for_user(user):
    return _visible(ProformaInvoice.objects.all(), user)


def _get(qs, user, doc_id):
    doc_id = parse_id(doc_id)
    if doc_id is None or not getattr(user, "is_authenticated", False):
        raise Http404
    doc = _visible(qs, user).filter(pk=doc_id).first()
    if doc is None:
        raise Http404
    return doc


def quotation_get_for_user(user, quotation_id) -> Quotation:
    return _get(
        Quotation.objects.select_related(*RELATED, "approved_by", "inquiry", "previous"), user, quotation_id
    )


def proforma_get_for_user(user, proforma_id) -> ProformaInvoice:
    return _get(
        ProformaInvoice.objects.select_related(*RELATED, "bank_account", "quotation", "previous"),
        user,
        proforma_id,
    )


# --- lists --------------------------------------------------------------------------------------

SORTS = {
    "-updated_at": Sort("updated_at", True, "datetime"),
    "-created_at": Sort("created_at", True, "datetime"),
}
LIST_FIELDS = (
    "id", "number", "revision", "status", "company_id", "company__name", "contact_id", "owner_id",
    "owner__username", "owner__first_name", "owner__last_name", "document_date", "currency", "total_amount",
    "incoterm", "incoterm_place", "issued_at", "version", "created_at", "updated_at",
)  # fmt: skip
QUOTATION_LIST_FIELDS = (*LIST_FIELDS, "valid_until")
PROFORMA_LIST_FIELDS = (*LIST_FIELDS, "quotation_id", "deposit_amount", "balance_amount")


@dataclass
class DocumentFilters:
    status: str = ""
    company: int | None = None
    owner: int | None = None
    opportunity: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    q: str = ""
    sort: str = "-updated_at"


def _filtered(qs, f: DocumentFilters):
    if f.status:
        qs = qs.filter(status=f.status)
    if f.company is not None:
        qs = qs.filter(company_id=f.company)
    if f.owner is not None:
        qs = qs.filter(owner_id=f.owner)
    if f.opportunity is not None:
        qs = qs.filter(opportunity_id=f.opportunity)
    if f.date_from:
        qs = qs.filter(document_date__gte=f.date_from)
    if f.date_to:
        qs = qs.filter(document_date__lte=f.date_to)
    term = (f.q or "").strip()
    if term:
        qs = qs.filter(
            Q(number__icontains=term)
            | Q(company__name__icontains=term)
            | Q(company__name_local__icontains=term)
        )
    return qs


def quotation_list(user, f: DocumentFilters, *, cursor: str | None = None, limit: int = 50):
    """One page of the quotations the user sees, as dicts; (rows, next_cursor, prev_cursor)."""
    qs = _filtered(quotations_for_user(user), f)
    return keyset_page(qs, SORTS.get(f.sort, SORTS["-updated_at"]), cursor, limit, QUOTATION_LIST_FIELDS)


def proforma_list(user, f: DocumentFilters, *, cursor: str | None = None, limit: int = 50):
    qs = _filtered(proformas_for_user(user), f)
    return keyset_page(qs, SORTS.get(f.sort, SORTS["-updated_at"]), cursor, limit, PROFORMA_LIST_FIELDS)


def company_documents(company, *, limit: int = 5) -> dict:
    """The customer's latest quotations and proforma invoices (for its page's card)."""
    return {
        "quotations": list(
            Quotation.objects.filter(company_id=company.pk).order_by("-updated_at", "-id")[:limit]
        ),
        "proformas": list(
            ProformaInvoice.objects.filter(company_id=company.pk).order_by("-updated_at", "-id")[:limit]
        ),
    }


def quotations_expiring(*, within_days: int, today: dt.date | None = None, user=None):
    """Issued quotations whose validity ends within `within_days` days from `today` (inclusive),
    soonest first: what the reminder producer turns into follow-ups. Scoped to `user` if given."""
    today = today or timezone.localdate()
    qs = Quotation.objects.filter(
        status=S.ISSUED, valid_until__gte=today, valid_until__lte=today + dt.timedelta(days=within_days)
    )
    if user is not None:
        qs = _visible(qs, user)
    return qs.order_by("valid_until", "id")


def quotation_history(quotation: Quotation) -> list[Quotation]:
    """Every revision of the quotation (oldest first), the draft of the next one included."""
    if not quotation.base_number:
        return [quotation]
    return list(
        Quotation.objects.filter(base_number=quotation.base_number)
        .order_by("revision", "id")
        .only("id", "number", "revision", "status", "document_date", "total_amount", "currency", "issued_at")
    )


def proforma_history(proforma: ProformaInvoice) -> list[ProformaInvoice]:
    if not proforma.base_number:
        return [proforma]
    return list(ProformaInvoice.objects.filter(base_number=proforma.base_number).order_by("revision", "id"))


# --- figures for the page -----------------------------------------------------------------------


def containers(doc) -> dict:
    return figures.container_estimate(doc.total_cbm, doc.total_gross_weight_kg)


@dataclass
class MarginView:
    margin: figures.Margin | None
    rate: Decimal | None
    rate_date: dt.date | None
    error: str = ""


def document_margin(user, doc, lines=None) -> MarginView | None:
    """Revenue, cost, rebate and margin in CNY (None for users who may not see costs). The rate to
    CNY is the one for the document's date."""
    if not can_see_costs(user):
        return None
    lines = list(doc.lines.all()) if lines is None else lines
    try:
        quote = fx.rate_on(doc.currency, "CNY", doc.document_date)
    except fx.MissingRate as exc:
        return MarginView(None, None, None, exc.messages[0])
    return MarginView(figures.margin(lines, rate_to_cny=quote.rate), quote.rate, quote.date)
