"""Fixtures of the pool tests: time frozen on 2026-03-04 10:00 UTC, a pool for everyone and one
for the East team, and customers created directly (no services) with a chosen age."""

import datetime as dt

import pytest
import time_machine

NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


@pytest.fixture
def east_pool(teams):
    from tradecrm.pool.models import Pool
    from tradecrm.pool.rules import DEFAULT_RULES

    pool = Pool.objects.create(name="East pool", rules={**DEFAULT_RULES, "no_touch_days": 60, "warn_days": 7,
                                                        "exempt_ordered_within_days": 180})  # fmt: skip
    pool.teams.set([teams["east"]])
    return pool


@pytest.fixture
def co(teams):
    """co(owner, age_days=100, **fields) → a Company owned by `owner` created `age_days` ago."""
    from tradecrm.customers.models import Company

    counter = iter(range(1, 10_000))

    def make(owner, age_days: float = 100, **fields):
        fields.setdefault("name", f"Customer {next(counter)}")
        fields.setdefault("country", "US")
        team = fields.pop("team", owner.team if owner else teams["east"])
        c = Company.objects.create(owner=owner, team=team, **fields)
        Company.objects.filter(pk=c.pk).update(created_at=ago(age_days))
        c.refresh_from_db()
        return c

    return make


@pytest.fixture
def touch(db):
    """touch(company, type, days_ago, **fields) → an Interaction."""
    from tradecrm.interactions.models import Interaction

    def make(company, type_: str, days: float, **fields):
        return Interaction.objects.create(company=company, type=type_, occurred_at=ago(days), **fields)

    return make


@pytest.fixture
def in_pool(east_pool):
    """in_pool(company, previous_owner=None, days=1, kind="recall") → puts it in the East pool directly."""
    from tradecrm.customers.models import Company
    from tradecrm.pool.models import PoolEntry

    def make(company, previous_owner=None, days: float = 1, kind: str = "recall", pool=None):
        Company.objects.filter(pk=company.pk).update(owner=None)
        return PoolEntry.objects.create(company=company, pool=pool or east_pool, since=ago(days),
                                        previous_owner=previous_owner, kind=kind, reason="test",
                                        country=company.country)  # fmt: skip

    return make


@pytest.fixture
def api_for(db):
    from django.test import Client

    from tradecrm.accounts.models import ApiToken

    def make(user):
        _token, raw = ApiToken.issue(user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make
