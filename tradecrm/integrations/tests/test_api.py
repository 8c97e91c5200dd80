"""The webhook admin API and the incoming ERP API (idempotency keys, customer codes, scopes)."""

from __future__ import annotations

import pytest
from django.test import Client

from tradecrm.integrations.models import ExternalRef, IdempotencyKey, WebhookDelivery, WebhookEndpoint
from tradecrm.orders.models import Order, Payment

from .conftest import patch_json, post_json

pytestmark = pytest.mark.django_db

HOOK = {"name": "ERP", "url": "https://erp.example.com/hooks", "events": ["order.created", "payment.created"]}


# --- webhooks --------------------------------------------------------------------------------------


def test_admin_manages_endpoints(api_for, admin):
    api = api_for(admin)
    r = post_json(api, "/api/v1/webhooks", HOOK)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["secret"].startswith("whsec_") and body["events"] == ["order.created", "payment.created"]
    pk = body["id"]
    got = api.get(f"/api/v1/webhooks/{pk}").json()
    assert got["secret"] is None and got["secret_hint"] == body["secret"][:10] + "…"
    r = patch_json(api, f"/api/v1/webhooks/{pk}", {"events": ["company.created"], "version": got["version"]})
    assert r.status_code == 200 and r.json()["events"] == ["company.created"]
    # a stale version is refused
    r = patch_json(api, f"/api/v1/webhooks/{pk}", {"name": "Other", "version": got["version"]})
    assert r.status_code == 409
    assert api.get("/api/v1/webhooks").json()[0]["id"] == pk
    assert "import.completed" in api.get("/api/v1/webhooks/events").json()
    assert api.delete(f"/api/v1/webhooks/{pk}").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_bad_endpoint_input_names_each_field(api_for, admin):
    r = post_json(
        api_for(admin), "/api/v1/webhooks", {"name": "x", "url": "ftp://erp", "events": ["order.shipped"]}
    )
    assert r.status_code == 422
    fields = {d["field"] for d in r.json()["detail"]}
    assert fields == {"url", "events"}


def test_delivery_log_and_redeliver(api_for, admin, receiver, django_capture_on_commit_callbacks):
    from tradecrm.integrations import services

    endpoint = services.endpoint_create(actor=admin, data={**HOOK, "url": receiver.url})
    receiver.fail = 6
    [pk] = services.create_deliveries("order.created", data={"id": 7})
    services.delivery_attempt(pk)
    api = api_for(admin)
    page = api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries").json()
    assert [d["id"] for d in page["items"]] == [pk] and page["items"][0]["status"] == "retrying"
    assert api.get("/api/v1/webhooks/deliveries?status=retrying").json()["items"][0]["response_code"] == 500
    assert api.get("/api/v1/webhooks/deliveries?status=nope").status_code == 422
    one = api.get(f"/api/v1/webhooks/deliveries/{pk}").json()
    assert one["payload"]["data"] == {"id": 7}
    receiver.fail = 0
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post(f"/api/v1/webhooks/deliveries/{pk}/redeliver")
    assert r.status_code == 201, r.content
    again = r.json()
    assert again["redelivery_of"] == pk and again["payload"]["id"] == one["payload"]["id"]
    assert WebhookDelivery.objects.get(pk=again["id"]).status == "success"
    assert receiver.json()["id"] == one["payload"]["id"]


def test_dave_gets_404_on_every_webhook_url(api_for, admin, dave):
    from tradecrm.integrations import services

    endpoint = services.endpoint_create(actor=admin, data=HOOK)
    [pk] = services.create_deliveries("order.created", data={"id": 1})
    WebhookDelivery.objects.filter(pk=pk).update(status="failed")
    api = api_for(dave)
    e = endpoint.pk
    assert api.get("/api/v1/webhooks").status_code == 404
    assert post_json(api, "/api/v1/webhooks", HOOK).status_code == 404
    assert api.get("/api/v1/webhooks/events").status_code == 404
    assert api.get("/api/v1/webhooks/deliveries").status_code == 404
    assert api.get(f"/api/v1/webhooks/{e}").status_code == 404
    assert patch_json(api, f"/api/v1/webhooks/{e}", {"name": "x", "version": 1}).status_code == 404
    assert api.delete(f"/api/v1/webhooks/{e}").status_code == 404
    assert api.get(f"/api/v1/webhooks/{e}/deliveries").status_code == 404
    assert api.get(f"/api/v1/webhooks/deliveries/{pk}").status_code == 404
    assert api.post(f"/api/v1/webhooks/deliveries/{pk}/redeliver").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=e, name="ERP").exists() and WebhookDelivery.objects.count() == 1


# --- ERP -------------------------------------------------------------------------------------------


def _order(company=None, code=None, **extra):
    body = {"currency": "USD", "customer_po": "ERP-SO-1001",
            "lines": [{"name": "Ceramic mug", "quantity": "1000", "unit_price": "2.50"}], **extra}  # fmt: skip
    if company is not None:
        body["company"] = company
    if code is not None:
        body["customer_code"] = code
    return body


def test_erp_order_is_idempotent(api_for, alice, make_company, frozen):
    acme = make_company()
    api = api_for(alice)
    r = post_json(api, "/api/v1/erp/orders", _order(acme.pk), HTTP_IDEMPOTENCY_KEY="so-1001")
    assert r.status_code == 201, r.content
    first = r.json()
    assert r["Idempotent-Replayed"] == "false" and r["Location"] == f"/api/v1/orders/{first['id']}"
    assert first["company"]["id"] == acme.pk and first["total_amount"] == "2500.00" and first["number"]
    # the ERP retries after a timeout: the same answer, no second order
    again = post_json(api, "/api/v1/erp/orders", _order(acme.pk), HTTP_IDEMPOTENCY_KEY="so-1001")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true" and again.json() == first
    assert Order.objects.count() == 1
    # the same key for something else is refused
    other = post_json(api, "/api/v1/erp/orders", _order(acme.pk, customer_po="ERP-SO-1002"),
                      HTTP_IDEMPOTENCY_KEY="so-1001")  # fmt: skip
    assert other.status_code == 409 and "so-1001" in other.json()["detail"]
    assert Order.objects.count() == 1
    # a key is per user: bob's "so-1001" is his own
    assert IdempotencyKey.objects.filter(key="so-1001").count() == 1


def test_erp_order_needs_a_key_and_a_customer(api_for, alice, make_company):
    acme = make_company()
    api = api_for(alice)
    r = post_json(api, "/api/v1/erp/orders", _order(acme.pk))
    assert r.status_code == 400 and "Idempotency-Key" in r.json()["detail"]
    r = post_json(api, "/api/v1/erp/orders", _order(), HTTP_IDEMPOTENCY_KEY="k1")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "company"
    r = post_json(api, "/api/v1/erp/orders", _order(code="C-404"), HTTP_IDEMPOTENCY_KEY="k2")
    assert r.status_code == 422 and "C-404" in r.json()["detail"][0]["message"]
    # a refused request stores nothing: corrected, it goes through with the same key
    bad = _order(acme.pk, lines=[{"name": "Mug", "quantity": "0", "unit_price": "1"}])
    r = post_json(api, "/api/v1/erp/orders", bad, HTTP_IDEMPOTENCY_KEY="k3")
    assert r.status_code == 422 and not Order.objects.exists() and not IdempotencyKey.objects.exists()
    assert post_json(api, "/api/v1/erp/orders", _order(acme.pk), HTTP_IDEMPOTENCY_KEY="k3").status_code == 201


def test_erp_customer_code_is_mapped_once_then_used(api_for, alice, make_company):
    acme = make_company()
    other = make_company(name="Globex GmbH", country="DE")
    api = api_for(alice)
    r = post_json(api, "/api/v1/erp/orders", _order(acme.pk, code="C-100"), HTTP_IDEMPOTENCY_KEY="a")
    assert r.status_code == 201
    assert ExternalRef.objects.get(code="C-100").company_id == acme.pk
    r = post_json(api, "/api/v1/erp/orders", _order(code="C-100"), HTTP_IDEMPOTENCY_KEY="b")
    assert r.status_code == 201 and r.json()["company"]["id"] == acme.pk
    # the code already belongs to acme
    r = post_json(api, "/api/v1/erp/orders", _order(other.pk, code="C-100"), HTTP_IDEMPOTENCY_KEY="c")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "customer_code"
    r = post_json(api, "/api/v1/erp/customer-codes", {"code": "G-7", "company": other.pk})
    assert r.status_code == 201
    codes = api.get("/api/v1/erp/customer-codes").json()
    assert [c["code"] for c in codes] == ["C-100", "G-7"]


def test_dave_cannot_use_or_see_alices_customers(api_for, alice, dave, make_company):
    acme = make_company()
    ref = ExternalRef.objects.create(code="C-100", company=acme)
    api = api_for(dave)
    r = post_json(api, "/api/v1/erp/orders", _order(acme.pk), HTTP_IDEMPOTENCY_KEY="x")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "company"
    r = post_json(api, "/api/v1/erp/orders", _order(code="C-100"), HTTP_IDEMPOTENCY_KEY="y")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "customer_code"
    assert api.get("/api/v1/erp/customer-codes").json() == []
    assert api.delete(f"/api/v1/erp/customer-codes/{ref.pk}").status_code == 404
    assert (
        post_json(api, "/api/v1/erp/customer-codes", {"code": "D-1", "company": acme.pk}).status_code == 404
    )
    assert ExternalRef.objects.filter(pk=ref.pk).exists() and not Order.objects.exists()


def test_erp_payment_by_order_number_is_idempotent(api_for, alice, make_company, frozen):
    acme = make_company()
    api = api_for(alice)
    order = post_json(api, "/api/v1/erp/orders", _order(acme.pk), HTTP_IDEMPOTENCY_KEY="so").json()
    pay = {"order_number": order["number"], "amount": "750", "currency": "USD", "received_on": "2026-03-04",
           "reference": "TT 8841"}  # fmt: skip
    r = post_json(api, "/api/v1/erp/payments", pay, HTTP_IDEMPOTENCY_KEY="rcpt-1")
    assert r.status_code == 201, r.content
    assert r.json()["order_id"] == order["id"] and r.json()["amount"] == "750.00"
    r2 = post_json(api, "/api/v1/erp/payments", pay, HTTP_IDEMPOTENCY_KEY="rcpt-1")
    assert r2.status_code == 201 and r2.json() == r.json() and r2["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1
    # more than the open balance: 422 on amount, nothing saved
    big = {**pay, "amount": "999999"}
    r = post_json(api, "/api/v1/erp/payments", big, HTTP_IDEMPOTENCY_KEY="rcpt-2")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "amount"
    r = post_json(
        api, "/api/v1/erp/payments", {**pay, "order_number": "SO-NOPE"}, HTTP_IDEMPOTENCY_KEY="rcpt-3"
    )
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "order_number"
    assert Payment.objects.count() == 1


def test_dave_cannot_pay_alices_order(api_for, alice, dave, make_company, frozen):
    acme = make_company()
    order = post_json(api_for(alice), "/api/v1/erp/orders", _order(acme.pk), HTTP_IDEMPOTENCY_KEY="so").json()
    pay = {"order": order["id"], "amount": "10", "currency": "USD", "received_on": "2026-03-04"}
    r = post_json(api_for(dave), "/api/v1/erp/payments", pay, HTTP_IDEMPOTENCY_KEY="p")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "order"
    assert not Payment.objects.exists()


def test_erp_needs_a_token_allowed_to_write_orders(api_for, client_for, alice, make_company):
    acme = make_company()
    r = post_json(api_for(alice, scopes=["customers:read"]), "/api/v1/erp/orders", _order(acme.pk),
                  HTTP_IDEMPOTENCY_KEY="k")  # fmt: skip
    assert r.status_code == 403
    r = post_json(api_for(alice, scopes=["integrations:write"]), "/api/v1/erp/orders", _order(acme.pk),
                  HTTP_IDEMPOTENCY_KEY="k")  # fmt: skip
    assert r.status_code == 403 and "orders:write" in r.json()["detail"]
    r = post_json(api_for(alice, scopes=["integrations:write", "orders:write"]), "/api/v1/erp/orders",
                  _order(acme.pk), HTTP_IDEMPOTENCY_KEY="k")  # fmt: skip
    assert r.status_code == 201
    # a browser session is not an ERP
    session = client_for(alice)
    session.get("/")  # sets the CSRF cookie
    csrf = session.cookies.get("csrftoken")
    r = post_json(session, "/api/v1/erp/orders", _order(acme.pk), HTTP_IDEMPOTENCY_KEY="k2",
                  HTTP_X_CSRFTOKEN=csrf.value if csrf else "")  # fmt: skip
    assert r.status_code in (401, 403)
    assert (
        post_json(Client(), "/api/v1/erp/orders", _order(acme.pk), HTTP_IDEMPOTENCY_KEY="k3").status_code
        == 401
    )


def test_old_keys_are_forgotten_after_30_days(api_for, alice, make_company, frozen):
    import datetime as dt

    from tradecrm.integrations.tasks import idempotency_purge_daily

    acme = make_company()
    api = api_for(alice)
    post_json(api, "/api/v1/erp/orders", _order(acme.pk), HTTP_IDEMPOTENCY_KEY="old")
    frozen.shift(dt.timedelta(days=31))
    # past 30 days the key is free again
    r = post_json(api, "/api/v1/erp/orders", _order(acme.pk, customer_po="X"), HTTP_IDEMPOTENCY_KEY="old")
    assert r.status_code == 201 and Order.objects.count() == 2
    frozen.shift(dt.timedelta(days=31))
    assert idempotency_purge_daily.call_local() == {"deleted": 1}
