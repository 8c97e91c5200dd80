"""Fixtures of the analysis tests: time frozen on 2026-03-04; customers of alice (East) and dave
(West) with grade rows written directly (the grading engine is not under test here), products,
orders and lines created with objects.create."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from tradecrm.accounts.models import ApiToken

NOW = dt.datetime(2026, 3, 4, 2, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 4)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def grade(db):
    from tradecrm.grading.models import CompanyGrade

    def make(company, **values):
        recency = values.pop("recency", 30)
        v = {
            "tier": "B",
            "score": 60.0,
            "orders_count": 3,
            "orders_total": 3,
            "amount_base": Decimal("10000"),
            "recency_days": recency,
            "rfm_segment": "important_value",
            "lifecycle": "active",
            "typical_interval_days": 60.0,
            "churn_risk": 0.1,
            "last_order_on": TODAY - dt.timedelta(days=recency) if recency is not None else None,
        }
        v.update(values)
        return CompanyGrade.objects.create(company=company, **v)

    return make


@pytest.fixture
def acme(make_company):
    return make_company(name="Acme Imports LLC", country="US")


@pytest.fixture
def west_co(make_company, dave):
    return make_company(actor=dave, name="Westwind Trading GmbH", country="DE")


@pytest.fixture
def product(db):
    from tradecrm.catalog.models import Product

    counter = iter(range(1, 10_000))

    def make(name, category="", **extra):
        return Product.objects.create(sku=f"SKU-{next(counter)}", name_en=name, category=category, **extra)

    return make


@pytest.fixture
def buy(db):
    """buy(company, [(product, qty, amount), ...], day=…, currency="USD", fx_rate=None) → Order."""
    from tradecrm.orders.models import Order, OrderLine

    counter = iter(range(1, 100_000))

    def make(company, lines, *, day=dt.date(2026, 1, 10), currency="USD", fx_rate=None, status="confirmed"):
        order = Order.objects.create(company=company, number=f"SO-{next(counter):05d}", document_date=day,
                                     currency=currency, fx_rate=fx_rate, status=status)  # fmt: skip
        OrderLine.objects.bulk_create([
            OrderLine(order=order, product=p, sku=p.sku, name=p.name_en, quantity=Decimal(q), unit_price=Decimal(a) / Decimal(q),
                      amount=Decimal(a))
            for p, q, a in lines
        ])  # fmt: skip
        return order

    return make


@pytest.fixture
def api_for(db):
    def make(user):
        _tok, raw = ApiToken.issue(user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


@pytest.fixture
def run_tasks(monkeypatch, django_capture_on_commit_callbacks):
    """Queued tasks run at once (huey immediate mode) when the transaction's callbacks run."""
    from huey.contrib.djhuey import HUEY

    monkeypatch.setattr(HUEY, "immediate", True)
    return lambda: django_capture_on_commit_callbacks(execute=True)
