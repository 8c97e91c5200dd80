import datetime as dt

import pytest
import time_machine

from tradecrm.followups.services import followup_create

NOW = dt.datetime(2026, 3, 4, 2, 0, tzinfo=dt.UTC)  # Wed 10:00 in Shanghai (alice's zone)


@pytest.fixture(autouse=True)
def frozen():
    """Every test of this app runs at NOW unless it travels elsewhere."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def acme(make_company):
    """alice's customer in Chicago; bob (same team) does not follow it, dave is in another team."""
    return make_company(name="Acme Imports LLC", country="US", city="Chicago", phones=["(312) 555-0123"])


@pytest.fixture
def make_followup(alice, acme):
    def make(actor=None, company=None, **data):
        data.setdefault("title", "Call about the sample")
        data.setdefault("due_at", "2026-03-05T10:00")
        return followup_create(actor=actor or alice, company=company or acme, data=data)

    return make
