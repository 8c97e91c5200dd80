"""Fixtures of the automation tests: time frozen on 2026-03-04 10:00 UTC, a tag, a pool, tiers."""

import datetime as dt

import pytest
import time_machine

NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _sync_rules(settings):
    settings.TRADECRM_AUTOMATION_SYNC = True


@pytest.fixture
def tag(db):
    from tradecrm.customers.models import Tag

    return Tag.objects.create(name="VIP")


@pytest.fixture
def pool(teams):
    from tradecrm.pool.models import Pool

    return Pool.objects.create(name="Everyone's pool")


@pytest.fixture
def tiers(db):
    from tradecrm.grading.models import Tier

    Tier.objects.filter(code="A").update(requires_account_manager=True)
    return {t.code: t for t in Tier.objects.all()}


@pytest.fixture
def make_rule(admin):
    from tradecrm.automation.services import rule_create

    def make(actor=None, **data):
        data.setdefault("name", "Rule")
        data.setdefault("event", "record.created")
        data.setdefault("actions", [{"type": "notify", "to": "owner", "message": "hello"}])
        return rule_create(actor=actor or admin, data=data)

    return make
