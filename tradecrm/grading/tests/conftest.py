"""Fixtures of the grading tests: time frozen on 2026-03-04; customers of alice (East) and dave
(West) created directly; orders, receivables and payments written with objects.create."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
import time_machine

NOW = dt.datetime(2026, 3, 4, 2, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 4)
D = Decimal


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def company(db, teams, alice):
    from tradecrm.customers.models import Company

    counter = itertools.count(1)

    def make(owner=None, **data):
        owner = owner or alice
        data.setdefault("name", f"Buyer {next(counter)}")
        data.setdefault("country", "US")
        return Company.objects.create(owner=owner, team=owner.team, **data)

    return make


@pytest.fixture
def order(db):
    """order(company, days_ago, total, currency="USD", fx_rate=None, status="confirmed")."""
    from tradecrm.orders.models import Order

    counter = itertools.count(1)

    def make(company, days_ago, total, currency="USD", fx_rate=None, status="confirmed"):
        return Order.objects.create(company=company, number=f"SO-{next(counter):05d}",
                                    document_date=TODAY - dt.timedelta(days=days_ago), currency=currency,
                                    fx_rate=fx_rate, total_amount=D(total), status=status)  # fmt: skip

    return make


@pytest.fixture
def run_grading(db):
    from tradecrm.grading.engine import run

    def go(**kw):
        r = run(trigger="test", **kw)
        assert r.status == "done", r.error
        return r

    return go
