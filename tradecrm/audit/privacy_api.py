"""JSON API of data-subject requests, mounted at /api/v1/privacy: export a customer's data (ZIP)
and erase its personal data. Administrators and managers; a customer the caller cannot see is a
404, as everywhere."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from tradecrm.core.api import READ, WRITE, Error, Id, json_response

from . import privacy

privacy_router = Router(tags=["privacy"])


class ErasureOut(Schema):
    company_id: int
    counts: dict[str, int]


def _company(request: HttpRequest, company_id: int):
    from tradecrm.customers.selectors import company_get_for_user

    company = company_get_for_user(request.auth, company_id)
    privacy.require_handler(request.auth, company)
    return company


@privacy_router.get(
    "/companies/{int:company_id}/data-export",
    response={200: None, 403: Error, **READ},
    summary="Export a customer's data (data-subject request)",
    openapi_extra={"responses": {"200": {"description": "A ZIP: data.json and the attachments, decrypted."}}},
)
def data_export(request: HttpRequest, company_id: Id):
    """Everything stored about the customer: the company, contacts, timeline, follow-ups, inquiries,
    opportunities, samples, document and order headers, the audit events about it, and its files.
    Audited ("export")."""
    company = _company(request, company_id)
    content = privacy.customer_data_export(actor=request.auth, company=company)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{privacy.export_filename(company)}"'
    response["Cache-Control"] = "private, no-store"
    return response


@privacy_router.post(
    "/companies/{int:company_id}/erase",
    response={200: ErasureOut, **WRITE},
    summary="Erase a customer's personal data",
)
def erase(request: HttpRequest, company_id: Id):
    """Anonymises contacts, the company's contact details, tax id and notes, timeline contents and
    attachments; keeps quotations, invoices, orders and payments. Cannot be undone. Audited
    ("erasure")."""
    company = _company(request, company_id)
    counts = privacy.customer_data_erase(actor=request.auth, company=company)
    return json_response({"company_id": company.pk, "counts": counts})


ROUTERS = [("/privacy", privacy_router)]
