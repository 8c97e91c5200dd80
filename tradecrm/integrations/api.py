"""JSON API of integrations, mounted under /api/v1/:

- `/webhooks`: the webhook endpoints, their delivery log and redelivery. Administrators only;
  anyone else gets 404 for every endpoint and delivery id, as if missing.
- `/erp`: the incoming ERP API. `POST /erp/orders` and `POST /erp/payments` need an API token (of
  a user who may write orders; a token with scopes needs `integrations:write` and `orders:write`)
  and an `Idempotency-Key`
  header: the same key with the same body answers the first response again (header
  `Idempotent-Replayed: true`), the same key with another body is 409. Keys are kept 30 days.
  Orders name the customer by `company` (our id) or `customer_code` (the ERP's code; sending both
  the first time maps the code). They go through the orders services, as in /api/v1/orders.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from tradecrm.core.api import (
    DELETE,
    LIST,
    PATCH,
    READ,
    WRITE,
    Error,
    Id,
    Text,
    Version,
    json_response,
    required_version,
)
from tradecrm.core.errors import ValidationError
from tradecrm.core.paging import Sort, keyset_page
from tradecrm.customers.selectors import company_get_for_user
from tradecrm.orders.schemas import CurrencyText, DateText, LineIn, Number, OrderFields, OrderOut, PaymentOut

from . import services
from .models import EVENTS, DeliveryStatus, ExternalRef, WebhookDelivery, WebhookEndpoint

webhooks = Router(tags=["webhooks"])
erp = Router(tags=["ERP"])


# --- webhooks --------------------------------------------------------------------------------------


class EndpointOut(Schema):
    id: int
    name: str
    url: str
    events: list[str]
    active: bool
    secret: str | None = Field(None, description="Only in the answer that created the endpoint.")
    secret_hint: str
    consecutive_failures: int
    disabled_at: dt.datetime | None
    disabled_reason: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class EndpointCreate(Schema):
    name: Text = Field(max_length=100)
    url: Text = Field(max_length=500, description="http(s) address that receives the POSTs.")
    events: list[Text] = Field(description=f"Any of: {', '.join(EVENTS)}.")
    secret: Text | None = Field(None, description="16–128 characters; generated when left out.")
    active: bool = True


class EndpointPatch(Schema):
    name: Text | None = Field(None, max_length=100)
    url: Text | None = Field(None, max_length=500)
    events: list[Text] | None = None
    secret: Text | None = Field(None, description="A new signing secret.")
    active: bool | None = Field(None, description="true switches a disabled endpoint on again.")
    version: Version | None = Field(None, description="The version you last read; or send If-Match.")


class DeliveryOut(Schema):
    id: int
    uuid: str
    endpoint_id: int
    event: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime | None
    last_attempt_at: dt.datetime | None
    response_code: int | None
    response_excerpt: str
    error: str
    duration_ms: int | None
    redelivery_of: int | None
    created_at: dt.datetime
    payload: dict | None = Field(None, description="On a single delivery.")


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None
    prev_cursor: str | None


class DeliveryQuery(Schema):
    status: Text = Field("", description="pending, retrying, success or failed.")
    event: Text = Field("", max_length=40)
    cursor: Text | None = Field(None, max_length=1000)
    limit: int = Field(50, ge=1, le=200)


def endpoint_out(e: WebhookEndpoint, *, with_secret: bool = False) -> dict:
    return {
        "id": e.id, "name": e.name, "url": e.url, "events": e.events, "active": e.active,
        "secret": e.secret if with_secret else None, "secret_hint": e.secret[:10] + "…",
        "consecutive_failures": e.consecutive_failures, "disabled_at": e.disabled_at,
        "disabled_reason": e.disabled_reason, "version": e.version, "created_at": e.created_at,
        "updated_at": e.updated_at,
    }  # fmt: skip


DELIVERY_FIELDS = ("id", "uuid", "endpoint_id", "event", "status", "attempts", "next_attempt_at", "last_attempt_at",
                   "response_code", "response_excerpt", "error", "duration_ms", "redelivery_of_id", "created_at")  # fmt: skip


def delivery_row(r: dict, payload: dict | None = None) -> dict:
    out = {k: r[k] for k in DELIVERY_FIELDS if k != "redelivery_of_id"}
    out["uuid"] = str(r["uuid"])
    out["redelivery_of"] = r["redelivery_of_id"]
    out["payload"] = payload
    return out


def delivery_out(d: WebhookDelivery) -> dict:
    return delivery_row({k: getattr(d, k) for k in DELIVERY_FIELDS}, payload=d.payload)


def _admin(request) -> None:
    # not an admin: every webhook URL answers as if there were nothing there
    if not services.can_manage(request.auth):
        raise Http404


@webhooks.get("", response={200: list[EndpointOut], **READ}, summary="List webhook endpoints")
def list_endpoints(request: HttpRequest):
    _admin(request)
    return json_response([endpoint_out(e) for e in WebhookEndpoint.objects.order_by("name", "id")])


@webhooks.post("", response={201: EndpointOut, **WRITE}, summary="Add a webhook endpoint")
def create_endpoint(request: HttpRequest, payload: EndpointCreate):
    """The answer carries the signing `secret` once; later answers show only its start."""
    _admin(request)
    endpoint = services.endpoint_create(actor=request.auth, data=payload.model_dump(exclude_unset=True))
    return json_response(endpoint_out(endpoint, with_secret=True), status=201,
                         headers={"Location": f"/api/v1/webhooks/{endpoint.pk}"})  # fmt: skip


@webhooks.get("/events", response={200: list[str], **READ}, summary="The events an endpoint can subscribe to")
def list_events(request: HttpRequest):
    _admin(request)
    return json_response(list(EVENTS))


@webhooks.get(
    "/deliveries", response={200: DeliveryPage, **LIST}, summary="The delivery log of every endpoint"
)
def list_all_deliveries(request: HttpRequest, query: Query[DeliveryQuery]):
    _admin(request)
    return _deliveries(WebhookDelivery.objects.all(), query)


@webhooks.get("/deliveries/{int:delivery_id}", response={200: DeliveryOut, **READ}, summary="Get a delivery")
def get_delivery(request: HttpRequest, delivery_id: Id):
    return json_response(delivery_out(services.delivery_get_for_user(request.auth, delivery_id)))


@webhooks.post("/deliveries/{int:delivery_id}/redeliver", response={201: DeliveryOut, **WRITE},
               summary="Send a delivery again")  # fmt: skip
def redeliver(request: HttpRequest, delivery_id: Id):
    """A new delivery with the same payload (same event id), tried at once."""
    delivery = services.delivery_get_for_user(request.auth, delivery_id)
    copy = services.delivery_redeliver(actor=request.auth, delivery=delivery)
    copy.refresh_from_db()
    return json_response(delivery_out(copy), status=201)


@webhooks.get("/{int:endpoint_id}", response={200: EndpointOut, **READ}, summary="Get a webhook endpoint")
def get_endpoint(request: HttpRequest, endpoint_id: Id):
    return json_response(endpoint_out(services.endpoint_get_for_user(request.auth, endpoint_id)))


@webhooks.patch(
    "/{int:endpoint_id}", response={200: EndpointOut, **PATCH}, summary="Change a webhook endpoint"
)
def patch_endpoint(request: HttpRequest, endpoint_id: Id, payload: EndpointPatch):
    data = payload.model_dump(exclude_unset=True)
    version = required_version(request, data.pop("version", None))
    endpoint = services.endpoint_get_for_user(request.auth, endpoint_id)
    endpoint = services.endpoint_update(actor=request.auth, endpoint=endpoint, version=version, data=data)
    return json_response(endpoint_out(endpoint))


@webhooks.delete("/{int:endpoint_id}", response={204: None, **DELETE}, summary="Delete a webhook endpoint")
def delete_endpoint(request: HttpRequest, endpoint_id: Id):
    endpoint = services.endpoint_get_for_user(request.auth, endpoint_id)
    services.endpoint_delete(actor=request.auth, endpoint=endpoint)
    return HttpResponse(status=204)


@webhooks.get("/{int:endpoint_id}/deliveries", response={200: DeliveryPage, **LIST},
              summary="An endpoint's delivery log")  # fmt: skip
def list_deliveries(request: HttpRequest, endpoint_id: Id, query: Query[DeliveryQuery]):
    """Newest first (keyset paged); filter by `status` or `event`."""
    endpoint = services.endpoint_get_for_user(request.auth, endpoint_id)
    return _deliveries(WebhookDelivery.objects.filter(endpoint=endpoint), query)


def _deliveries(qs, query: DeliveryQuery) -> HttpResponse:
    if query.status:
        if query.status not in DeliveryStatus.values:
            raise ValidationError(
                {"status": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(DeliveryStatus.values)}]}
            )
        qs = qs.filter(status=query.status)
    if query.event:
        qs = qs.filter(event=query.event)
    rows, nxt, prev = keyset_page(
        qs, Sort("created_at", True, "datetime"), query.cursor or None, query.limit, DELIVERY_FIELDS
    )
    return json_response({"items": [delivery_row(r) for r in rows], "next_cursor": nxt, "prev_cursor": prev})


# --- ERP --------------------------------------------------------------------------------------------

IDEMPOTENCY = {400: Error, 409: Error}


class ErpOrderIn(OrderFields):
    company: Id | None = Field(None, description="Our customer id; or send `customer_code`.")
    customer_code: Text | None = Field(None, max_length=128, description="The ERP's code for the customer.")
    currency: CurrencyText  # type: ignore[valid-type]
    document_date: DateText | None = Field(None, description="The order date; today by default.")  # type: ignore[valid-type]
    deposit_percent: Number | None = Field(None, description="0–100: the deposit receivable.")
    lines: list[LineIn]


class ErpPaymentIn(Schema):
    model_config = ErpOrderIn.model_config
    order: Id | None = Field(None, description="Our order id; or send `order_number`.")
    order_number: Text | None = Field(
        None, max_length=64, description="The order number (e.g. SO-2026-0012)."
    )
    amount: Number = Field(description="What arrived, > 0.")
    currency: CurrencyText  # type: ignore[valid-type]
    received_on: DateText  # type: ignore[valid-type]
    bank_charges: Number | None = None
    reference: Text | None = Field(None, description="The bank reference or the ERP's receipt number.")
    note: Text | None = None


class CodeIn(Schema):
    code: Text = Field(max_length=128, description="The ERP's customer code.")
    company: Id


class CodeOut(Schema):
    id: int
    code: str
    company_id: int
    created_at: dt.datetime


def _erp_access(request) -> None:
    """A bearer token of an active user; a token limited to scopes needs orders:write."""
    from tradecrm.accounts.models import ApiToken

    token_id = getattr(request.auth, "token_id", None)
    if token_id is None:
        raise PermissionDenied(
            _("The ERP API takes an API token (Authorization: Bearer …), not a browser session.")
        )
    scopes = ApiToken.objects.filter(pk=token_id).values_list("scopes", flat=True).first() or []
    # the scope check of tradecrm.security lets integrations:write through to /erp; an ERP writes
    # orders and payments, so a scoped token needs orders:write as well
    if scopes and "orders:write" not in scopes:
        raise PermissionDenied(_("This API token may not write orders (it needs the orders:write scope)."))


def _run_idempotent(request, scope: str, body: dict, run) -> HttpResponse:
    try:
        key = services.check_idempotency_key(request.headers.get("Idempotency-Key"))
    except ValidationError as exc:
        return json_response({"detail": exc.message_dict["Idempotency-Key"][0]}, status=400)
    try:
        status, response, replayed = services.idempotent(
            user=request.auth, scope=scope, key=key, body=body, run=run
        )
    except services.IdempotencyConflict as exc:
        return json_response({"detail": exc.message}, status=409)
    headers = {"Idempotent-Replayed": "true" if replayed else "false"}
    if status == 201 and response.get("id"):
        headers["Location"] = f"/api/v1/{scope}/{response['id']}"
    return json_response(response, status=status, headers=headers)


def _erp_company(request, data: dict):
    company_id, code = data.pop("company", None), (data.pop("customer_code", None) or "").strip()
    if company_id is None and not code:
        raise ValidationError(
            {"company": [_("Name the customer: `company` (our id) or `customer_code` (the ERP's).")]}
        )
    by_code = services.company_for_code(request.auth, code) if code else None
    if company_id is not None:
        try:
            company = company_get_for_user(request.auth, company_id)
        except Http404:
            raise ValidationError(
                {"company": [_("No customer with id %(id)s.") % {"id": company_id}]}
            ) from None
        if code and by_code is None:
            services.external_code_set(actor=request.auth, company=company, code=code)
        elif by_code is not None and by_code.pk != company.pk:
            raise ValidationError({"customer_code": [
                _("The ERP code “%(code)s” belongs to another customer (id %(id)s).") % {"code": code, "id": by_code.pk}
            ]})  # fmt: skip
        return company
    if by_code is None:
        raise ValidationError({"customer_code": [
            _("No customer has the ERP code “%(code)s”; send `company` with it once to map it.") % {"code": code}
        ]})  # fmt: skip
    return by_code


@erp.post(
    "/orders",
    response={201: OrderOut, 200: OrderOut, **WRITE, **IDEMPOTENCY},
    summary="Create an order from the ERP",
)
def erp_create_order(request: HttpRequest, payload: ErpOrderIn):
    """Needs the `Idempotency-Key` header. The order is created as by POST /api/v1/orders (lines
    validated, exchange rate frozen, numbered, deposit and balance planned)."""
    from tradecrm.orders import api as orders_api
    from tradecrm.orders import selectors as order_selectors
    from tradecrm.orders import services as order_services

    _erp_access(request)
    body = payload.model_dump(exclude_unset=True)

    def run():
        data = dict(body)
        company = _erp_company(request, data)
        data["company"] = company.pk
        order = order_services.order_create(actor=request.auth, data=data)
        return 201, orders_api.order_out(request, order_selectors.order_get_for_user(request.auth, order.pk))

    return _run_idempotent(request, "orders", body, run)


@erp.post("/payments", response={201: PaymentOut, 200: PaymentOut, **WRITE, **IDEMPOTENCY},
          summary="Record a payment from the ERP")  # fmt: skip
def erp_record_payment(request: HttpRequest, payload: ErpPaymentIn):
    """Needs the `Idempotency-Key` header. The order by `order` (id) or `order_number`; recorded as
    by POST /api/v1/payments (a payment above the open balance is 422 and nothing is saved)."""
    from tradecrm.orders import api as orders_api
    from tradecrm.orders import selectors as order_selectors
    from tradecrm.orders import services as order_services
    from tradecrm.orders.models import Order

    _erp_access(request)
    body = payload.model_dump(exclude_unset=True)

    def run():
        data = dict(body)
        order_id = data.get("order")
        if order_id is None and data.get("order_number"):
            order_id = (
                Order.objects.filter(number=data["order_number"].strip()).values_list("id", flat=True).first()
            )
            if order_id is None:
                raise ValidationError(
                    {"order_number": [_("No order numbered %(number)s.") % {"number": data["order_number"]}]}
                )
        if order_id is None:
            raise ValidationError({"order": [_("Name the order: `order` (id) or `order_number`.")]})
        try:
            order = order_selectors.order_get_for_user(request.auth, order_id)
        except Http404:
            field = "order" if data.get("order") is not None else "order_number"
            raise ValidationError({field: [_("No order with id %(id)s.") % {"id": order_id}]}) from None
        payment = order_services.payment_record(
            actor=request.auth, order=order, amount=data["amount"], currency=data["currency"],
            received_on=data["received_on"], reference=data.get("reference") or "",
            bank_charges=data.get("bank_charges") or 0, note=data.get("note") or "",
        )  # fmt: skip
        return 201, orders_api.payment_out(order_selectors.payment_get_for_user(request.auth, payment.pk))

    return _run_idempotent(request, "payments", body, run)


@erp.get("/customer-codes", response={200: list[CodeOut], **LIST}, summary="The ERP codes of customers")
def list_codes(request: HttpRequest, company: Id | None = None):
    """Of the customers you can see; `company` for one customer's."""
    from tradecrm.accounts.access import scope_companies
    from tradecrm.customers.models import Company

    visible = scope_companies(Company.objects.all(), request.auth).values("id")
    qs = ExternalRef.objects.filter(system="erp", company_id__in=visible).order_by("code")
    if company is not None:
        qs = qs.filter(company_id=company)
    return json_response(list(qs.values("id", "code", "company_id", "created_at")[:1000]))


@erp.post("/customer-codes", response={201: CodeOut, **WRITE}, summary="Map an ERP customer code")
def create_code(request: HttpRequest, payload: CodeIn):
    company = company_get_for_user(request.auth, payload.company)
    ref = services.external_code_set(actor=request.auth, company=company, code=payload.code)
    return json_response({"id": ref.pk, "code": ref.code, "company_id": ref.company_id, "created_at": ref.created_at},
                         status=201)  # fmt: skip


@erp.delete(
    "/customer-codes/{int:ref_id}", response={204: None, **DELETE}, summary="Remove an ERP customer code"
)
def delete_code(request: HttpRequest, ref_id: Id):
    ref = ExternalRef.objects.filter(pk=ref_id).first()
    if ref is None:
        raise Http404
    company_get_for_user(request.auth, ref.company_id)  # not yours: 404
    services.external_code_delete(actor=request.auth, ref=ref)
    return HttpResponse(status=204)


ROUTERS: list[tuple[str, Router]] = [("/webhooks", webhooks), ("/erp", erp)]
