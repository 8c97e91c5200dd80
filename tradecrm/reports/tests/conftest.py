"""Fixtures of the export tests: small data, frozen time. Orders and proforma invoices come from the
orders app's factories (issued documents made directly, without the documents services)."""

import pytest
from django.core.management import call_command  # noqa: F401  (used by the CLI tests)

from tradecrm.orders.tests.conftest import (  # noqa: F401  (pytest fixtures)
    NOW,
    TODAY,
    api_for,
    frozen,
    make_order,
    make_proforma,
    mug,
    plate,
)


@pytest.fixture
def acme(make_company):
    """alice's customer (bob, same team, does not follow it; dave, the other team, cannot see it)."""
    return make_company(name="Acme Imports LLC", country="US", city="Chicago", phones=["+13125550100"])


@pytest.fixture
def exporter(alice):
    """alice, allowed to export by an administrator."""
    alice.can_export = True
    alice.save(update_fields=["can_export"])
    return alice
