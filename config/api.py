"""The REST API, v1: one NinjaAPI mounted at /api/v1/ with OpenAPI at /api/v1/openapi.json.

Callers authenticate with `Authorization: Bearer <token>` (`tradecrm token create USERNAME`) or,
from the web UI, with the signed-in session plus its CSRF token.
"""

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from ninja import Router
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError

from tradecrm.accounts import api as accounts_api
from tradecrm.accounts.auth import ExpiredToken, api_auth, on_expired_token
from tradecrm.analysis import api as analysis_api
from tradecrm.audit import api as audit_api
from tradecrm.audit import privacy_api as audit_privacy_api
from tradecrm.automation import api as automation_api
from tradecrm.campaigns import api as campaigns_api
from tradecrm.catalog import api as catalog_api
from tradecrm.core import api as core_api
from tradecrm.core import fx_api
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.core.paging import BadCursor
from tradecrm.customers import api as customers_api
from tradecrm.customers import segment_api
from tradecrm.customs import api as customs_api
from tradecrm.dedup import api as dedup_api
from tradecrm.dedup import merge_api
from tradecrm.documents import api as documents_api
from tradecrm.documents import print_api as documents_print_api
from tradecrm.followups import api as followups_api
from tradecrm.followups import notification_api
from tradecrm.grading import api as grading_api
from tradecrm.imports import api as imports_api
from tradecrm.integrations import api as integrations_api
from tradecrm.interactions import api as interactions_api
from tradecrm.interactions import whatsapp_api
from tradecrm.mailbox import api as mailbox_api
from tradecrm.orders import api as orders_api
from tradecrm.pool import api as pool_api
from tradecrm.reports import api as reports_api
from tradecrm.sales import api as sales_api
from tradecrm.security import api as security_api
from tradecrm.service import api as service_api

api = core_api.TradeCRMAPI(
    title="TradeCRM API",
    version="1",
    description=(
        "The customer archive of TradeCRM: companies, contacts and tags.\n\n"
        "Authenticate with `Authorization: Bearer <token>` (create one with `tradecrm token create USERNAME`). "
        "You see exactly what you see in the web UI. Lists use keyset pagination: follow `next_cursor`. "
        "Changes need the `version` you last read (in the body or as `If-Match`); a stale one gets 409. "
        "Validation errors are 422 with `detail: [{field, message}]`, in your language."
    ),
    auth=api_auth,
    renderer=core_api.ORJSONRenderer(),
    parser=core_api.ORJSONParser(),
)

api.add_exception_handler(NinjaValidationError, core_api.on_ninja_validation_error)
api.add_exception_handler(DjangoValidationError, core_api.on_service_validation_error)
api.add_exception_handler(ConcurrentEditError, core_api.on_conflict)
api.add_exception_handler(Http404, core_api.on_not_found)
api.add_exception_handler(PermissionDenied, core_api.on_permission_denied)
api.add_exception_handler(BadCursor, core_api.on_bad_cursor)
api.add_exception_handler(RequestDataTooBig, core_api.on_too_big)
api.add_exception_handler(SuspiciousOperation, core_api.on_suspicious)
api.add_exception_handler(HttpError, core_api.on_http_error)
api.add_exception_handler(ExpiredToken, on_expired_token)

api.add_router("/companies", customers_api.companies)
api.add_router("/contacts", customers_api.contacts)
api.add_router("/tags", customers_api.tags)
api.add_router("/interactions", interactions_api.interactions)
api.add_router("/whatsapp-imports", whatsapp_api.whatsapp)
api.add_router("/followups", followups_api.followups)
api.add_router("/reminder-rules", followups_api.rules)
api.add_router("/notifications", notification_api.notifications)
api.add_router("/exchange-rates", fx_api.rates)
api.add_router("/products", catalog_api.products)
api.add_router("/price-lists", catalog_api.price_lists)
api.add_router("/inquiries", sales_api.inquiries)
api.add_router("/opportunities", sales_api.opportunities)
api.add_router("/pipelines", sales_api.pipelines)
api.add_router("/samples", sales_api.samples)
api.add_router("/quotations", documents_api.quotations)
api.add_router("/proforma-invoices", documents_api.proformas)
api.add_router("/documents", documents_print_api.document_pdfs)
api.add_router("/seller-profiles", documents_print_api.sellers)
api.add_router("/document-templates", documents_print_api.document_templates)
api.add_router("/orders", orders_api.orders)
api.add_router("/shipments", orders_api.shipments)
api.add_router("/receivables", orders_api.receivables)
api.add_router("/payments", orders_api.payments)
api.add_router("/imports", imports_api.imports)
api.add_router("/import-mappings", imports_api.import_mappings)
api.add_router("/duplicates", dedup_api.duplicates)
api.add_router("/merges", merge_api.merges)
api.add_router("/customs-records", customs_api.customs_records)
api.add_router("/exports", reports_api.exports)
api.add_router("/reports", reports_api.reports)
api.add_router("/grading", grading_api.grading)
api.add_router("/analysis", analysis_api.analysis)
api.add_router("/segments", segment_api.segments)
api.add_router("/markets", segment_api.markets)
api.add_router("/audit-events", audit_api.audit_events)
api.add_router("/privacy", audit_privacy_api.privacy_router)  # data-subject export / erasure
api.add_router("/pools", pool_api.pools)
# apps that mount several routers list them in their ROUTERS
for _app_api in (security_api, automation_api, mailbox_api, service_api, integrations_api, accounts_api,
                 campaigns_api):  # campaigns_api: email campaigns
    for _prefix, _router in _app_api.ROUTERS:
        api.add_router(_prefix, _router)

# Last, so that it only catches what no router above matched.
fallback = Router()
fallback.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:path}", auth=None, include_in_schema=False
)(core_api.api_not_found)
api.add_router("", fallback)
