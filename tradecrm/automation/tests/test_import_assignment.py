"""Assignment rules inside an import: decided per new row in Python, owner and team written with
the row, pool targets get their pool entry, one audit event per rule and one notice per new owner;
a file-wide owner or an "Owner" column keeps its owner."""

import pytest

from tradecrm.automation.services import assignment_create
from tradecrm.imports.tests.test_engine import make_job, run

HEADER = "Company Name,Country,Website,Source\n"
ROWS = (
    "Berlin Licht GmbH,Germany,berlin-licht.de,Trade show\n"
    "Paris Lumière SARL,France,paris-lumiere.fr,Trade show\n"
    "Cold Call Ltd,United Kingdom,coldcall.co.uk,Cold outreach\n"
    "Chicago Lights Inc,USA,chicago-lights.com,Trade show\n"
)


@pytest.fixture
def rules(admin, alice, bob, pool):
    assignment_create(actor=admin, data={"name": "Germany to Bob", "assign_to": "user", "user": bob.pk,
                                         "conditions": {"field": "country", "op": "eq", "value": "DE"}})  # fmt: skip
    assignment_create(actor=admin, data={"name": "Cold to pool", "assign_to": "pool", "pool": pool.pk,
                                         "conditions": {"field": "source", "op": "eq", "value": "cold"}})  # fmt: skip
    assignment_create(actor=admin, data={"name": "Rest to Alice", "assign_to": "user", "user": alice.pk})


def test_import_applies_the_rules_per_row(rules, admin, alice, bob, pool):
    from tradecrm.audit.models import AuditEvent
    from tradecrm.customers.models import Company
    from tradecrm.followups.models import Notification
    from tradecrm.pool.models import PoolEntry

    job = run(make_job(admin, HEADER + ROWS))
    owners = dict(Company.objects.values_list("name", "owner_id"))
    assert owners["Berlin Licht GmbH"] == bob.pk
    assert owners["Paris Lumière SARL"] == alice.pk and owners["Chicago Lights Inc"] == alice.pk
    assert owners["Cold Call Ltd"] is None
    cold = Company.objects.get(name="Cold Call Ltd")
    assert PoolEntry.objects.get(company=cold).pool == pool and cold.team_id is None
    events = AuditEvent.objects.filter(action="automation.assign_import", object_id=job.pk)
    assert {e.changes["rule_name"] for e in events} == {"Germany to Bob", "Cold to pool", "Rest to Alice"}
    assert Notification.objects.get(user=bob, kind="automation_assigned").params["rule"] == "Germany to Bob"
    assert Company.objects.get(name="Berlin Licht GmbH").team_id == bob.team_id


def test_a_file_wide_owner_wins(rules, admin, carol):
    from tradecrm.customers.models import Company

    run(make_job(admin, HEADER + ROWS, owner_id=carol.pk))
    assert set(Company.objects.values_list("owner_id", flat=True)) == {carol.pk}
