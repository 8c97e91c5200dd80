"""Fixtures of the service tests: time frozen on 2026-03-04 10:00 UTC; customers of alice (East)
and dave (West) created directly; orders delivered N days ago written with objects.create."""

import datetime as dt
import itertools

import pytest
import time_machine

NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 4)


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
def contact(db):
    from tradecrm.customers.models import Contact

    def make(company, email="buyer@example.com", primary=True, language=""):
        return Contact.objects.create(company=company, first_name="Pat", emails=[email], email=email,
                                      is_primary=primary, preferred_language=language)  # fmt: skip

    return make


@pytest.fixture
def order(db):
    """order(company, delivered_days_ago=None, status=...) → an Order; delivered N days ago when given."""
    from tradecrm.orders.models import Order, OrderStatusChange

    counter = itertools.count(1)

    def make(company, delivered_days_ago=None, status=None, **fields):
        status = status or ("delivered" if delivered_days_ago is not None else "confirmed")
        o = Order.objects.create(company=company, number=f"SO-{next(counter):05d}",
                                 document_date=TODAY - dt.timedelta(days=60), currency="USD", status=status,
                                 **fields)  # fmt: skip
        if delivered_days_ago is not None:
            OrderStatusChange.objects.create(order=o, from_status="cleared", to_status="delivered",
                                             effective_on=TODAY - dt.timedelta(days=delivered_days_ago),
                                             changed_at=NOW)  # fmt: skip
        return o

    return make


@pytest.fixture
def ticket(company, alice):
    from tradecrm.service.services import ticket_create

    def make(actor=None, co=None, **data):
        data.setdefault("title", "Cracked housings")
        data.setdefault("kind", "quality")
        return ticket_create(actor=actor or alice, company=co or company(), data=data)

    return make


@pytest.fixture
def api_for(db):
    from django.test import Client

    from tradecrm.accounts.models import ApiToken

    def make(user):
        _token, raw = ApiToken.issue(user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


@pytest.fixture
def emitted(monkeypatch):
    """The automation events the service app emitted: [(event, obj_type, obj_id, changes)]."""
    calls = []

    def record(event, *, obj_type, obj_id, actor, changes):
        calls.append((event, obj_type, obj_id, changes))

    monkeypatch.setattr("tradecrm.service.services._emit", record)
    return calls
