"""Whatever a client sends to the order, shipment and payment endpoints, the answer is a
deliberate 2xx or 4xx with a JSON body, never a 500."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradecrm.orders.schemas import LineIn, OrderCreate, PaymentCreate, ShipmentCreate

pytestmark = pytest.mark.django_db
JSON = "application/json"
EXPECTED = {200, 201, 400, 404, 409, 413, 422, 428}
scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20) | st.sampled_from(["0", "-1", "1e400", "12,000.50", "2026-02-30", "USD", "CSQU3054383"])
)  # fmt: skip
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def bodies(fields, extra=()):
    keys = st.sampled_from([*fields, *extra, "version", "x"])
    return st.dictionaries(keys, json_values, max_size=6) | json_values


def line_bodies():
    return st.lists(
        st.dictionaries(st.sampled_from(list(LineIn.model_fields)), json_values, max_size=5), max_size=3
    )


def _assert_deliberate(resp):
    assert resp.status_code in EXPECTED, (resp.status_code, resp.content[:300])
    assert resp["Content-Type"] == JSON
    if resp.status_code >= 400:
        assert resp.json()["detail"]


@pytest.fixture
def fuzz_order(make_order):
    return make_order()


FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(body=bodies(list(OrderCreate.model_fields)), lines=line_bodies())
def test_order_create_and_patch_never_crash(api_for, alice, acme, mug, body, lines):
    api = api_for(alice)
    if isinstance(body, dict):
        body = {**body, "company": acme.pk, "currency": body.get("currency", "USD"), "lines": lines}
    raw = json.dumps(body)
    _assert_deliberate(api.post("/api/v1/orders", raw, content_type=JSON))
    _assert_deliberate(api.patch("/api/v1/orders/1", raw, content_type=JSON))


@FUZZ
@given(pay=bodies(list(PaymentCreate.model_fields)), ship=bodies(list(ShipmentCreate.model_fields)),
       status=bodies(["status", "effective_on", "note"]))  # fmt: skip
def test_payment_shipment_and_status_never_crash(api_for, alice, fuzz_order, pay, ship, status):
    api, order = api_for(alice), fuzz_order  # one order for every example (fixtures are made once)
    if isinstance(pay, dict):
        pay = {"order": order.pk, **pay}
    if isinstance(ship, dict):
        ship = {"order": order.pk, **ship}
    _assert_deliberate(api.post("/api/v1/payments", json.dumps(pay), content_type=JSON))
    _assert_deliberate(api.post("/api/v1/shipments", json.dumps(ship), content_type=JSON))
    _assert_deliberate(api.post(f"/api/v1/orders/{order.pk}/status", json.dumps(status), content_type=JSON))
