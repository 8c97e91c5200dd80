import datetime as dt
import json

import pytest
import time_machine

NOW = dt.datetime(2026, 3, 4, 2, 0, tzinfo=dt.UTC)  # Wed 10:00 in Shanghai


@pytest.fixture(autouse=True)
def frozen():
    """Every test of this app runs at NOW unless it travels elsewhere."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _base_usd(settings):
    settings.TRADECRM_BASE_CURRENCY = "USD"


@pytest.fixture
def acme(make_company):
    """alice's customer; bob (same team) does not follow it, dave is in another team."""
    return make_company(
        name="Acme Imports LLC", country="US", city="Chicago", email_domains=["acme-imports.com"]
    )


@pytest.fixture
def export(db):
    """The seeded default pipeline and its stages by key."""
    from tradecrm.sales.models import Pipeline

    pipeline = Pipeline.objects.get(is_default=True)
    pipeline.by_key = {s.key: s for s in pipeline.stages.all()}
    return pipeline


@pytest.fixture
def make_inquiry(alice):
    from tradecrm.sales.services import inquiry_create

    def make(actor=None, **data):
        data.setdefault("channel", "alibaba")
        data.setdefault("buyer_name", "John Smith")
        data.setdefault("buyer_company", "Smith Trading GmbH")
        data.setdefault("buyer_email", "john@smith-trading.de")
        data.setdefault("buyer_country", "DE")
        data.setdefault("subject", "LED panel lights 600x600")
        data.setdefault("target_currency", "USD")
        data.setdefault("items", [
            {"description": "LED panel 600x600 40W", "quantity": "1000", "unit": "pcs", "target_price": "6.50"},
            {"description": "LED panel 300x1200 40W", "quantity": "500", "unit": "pcs", "target_price": "7.20"},
        ])  # fmt: skip
        return inquiry_create(actor=actor or alice, data=data)

    return make


@pytest.fixture
def make_opp(alice, acme, export):
    from tradecrm.sales.services import opportunity_create

    def make(actor=None, company=None, **data):
        data.setdefault("name", "LED panels for Chicago warehouse")
        data.setdefault("amount", "10000")
        data.setdefault("currency", "USD")
        data["company"] = (company or acme).pk
        return opportunity_create(actor=actor or alice, data=data)

    return make


@pytest.fixture
def make_sample(alice, acme):
    from tradecrm.sales.services import sample_create

    def make(actor=None, company=None, **data):
        data.setdefault("items", [{"description": "LED panel 600x600", "quantity": "2", "unit": "pcs"}])
        return sample_create(actor=actor or alice, company=company or acme, data=data)

    return make


@pytest.fixture
def api_for(db):
    from django.test import Client

    from tradecrm.accounts.models import ApiToken

    def make(user):
        _tok, raw = ApiToken.issue(user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


def call(client, method, url, body=None, **headers):
    if body is None:
        return getattr(client, method)(url, **headers)
    return getattr(client, method)(url, json.dumps(body), content_type="application/json", **headers)


def fields_of(resp) -> dict:
    return {e["field"]: e["message"] for e in resp.json()["detail"]}
