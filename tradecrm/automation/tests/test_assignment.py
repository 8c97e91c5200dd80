"""Assignment rules: order, user / round robin / least loaded / pool, skipping inactive reps and
reps at their maximum, the explanation in the audit trail, the new owner's notification, the tier
that needs a dedicated account manager, inquiries, and the test box."""

import pytest

from tradecrm.automation.assignment import Assigner
from tradecrm.automation.models import AssignmentRule
from tradecrm.automation.services import assignment_create, assignment_move
from tradecrm.core.errors import ValidationError

DE = {"all": [{"field": "country", "op": "eq", "value": "DE"}]}


def test_first_matching_rule_assigns_and_explains(
    admin, alice, bob, make_company, django_capture_on_commit_callbacks
):
    from tradecrm.audit.models import AuditEvent
    from tradecrm.followups.models import Notification

    assignment_create(
        actor=admin, data={"name": "Germany to Bob", "conditions": DE, "assign_to": "user", "user": bob.pk}
    )
    assignment_create(actor=admin, data={"name": "Rest to Alice", "assign_to": "user", "user": alice.pk})
    with django_capture_on_commit_callbacks(execute=True):
        c = make_company(actor=alice, name="Berlin GmbH", country="DE")
    c.refresh_from_db()
    assert c.owner_id == bob.pk and c.team_id == bob.team_id
    ev = AuditEvent.objects.get(action="automation.assign", object_id=c.pk)
    assert ev.changes["owner"] == [alice.pk, bob.pk] and "Germany to Bob" in ev.changes["why"][0]
    n = Notification.objects.get(user=bob, kind="automation_assigned")
    assert n.params["company"] == "Berlin GmbH"
    other = make_company(actor=bob, name="Paris SARL", country="FR")
    other.refresh_from_db()
    assert other.owner_id == alice.pk


def test_named_owner_wins_over_rules(admin, alice, bob, make_company):
    assignment_create(actor=admin, data={"name": "All to Bob", "assign_to": "user", "user": bob.pk})
    c = make_company(actor=admin, name="Named", owner=alice.pk)
    c.refresh_from_db()
    assert c.owner_id == alice.pk


def test_round_robin_skips_inactive_and_full_reps(admin, alice, bob, teams, make_company):
    from tradecrm.accounts.models import User

    eve = User.objects.create(username="eve", role="sales", team=teams["east"], is_active=False)
    assignment_create(actor=admin, data={"name": "East rota", "assign_to": "round_robin", "team": teams["east"].pk,
                                         "max_holdings": 2})  # fmt: skip
    owners = []
    for i in range(4):
        c = make_company(actor=admin, name=f"Co {i}", country="US")
        c.refresh_from_db()
        owners.append(c.owner_id)
    # alice, bob, alice (bob now at 2? no: bob holds 1), bob → both at 2, the fifth goes to nobody: creator keeps it
    assert owners == [alice.pk, bob.pk, alice.pk, bob.pk] and eve.pk not in owners
    c = make_company(actor=admin, name="Co 5")
    c.refresh_from_db()
    assert c.owner_id == admin.pk  # every rep at the maximum: the rule is passed over


def test_least_loaded_picks_the_rep_with_fewest(admin, alice, bob, teams, make_company):
    make_company(actor=alice, name="Alice 1")
    make_company(actor=alice, name="Alice 2")
    assignment_create(
        actor=admin, data={"name": "East least", "assign_to": "least_loaded", "team": teams["east"].pk}
    )
    c = make_company(actor=admin, name="New")
    c.refresh_from_db()
    assert c.owner_id == bob.pk


def test_pool_target_puts_the_customer_in_the_pool(admin, alice, pool, make_company):
    from tradecrm.pool.models import PoolEntry

    assignment_create(actor=admin, data={"name": "Cold to pool", "assign_to": "pool", "pool": pool.pk,
                                         "conditions": {"field": "source", "op": "eq", "value": "cold"}})  # fmt: skip
    c = make_company(actor=alice, name="Cold lead", source="cold")
    c.refresh_from_db()
    assert c.owner_id is None and PoolEntry.objects.get(company=c).pool == pool


def test_bad_assignment_rules_are_refused(admin, alice, teams, tiers):
    with pytest.raises(ValidationError) as e:
        assignment_create(actor=admin, data={"name": "x", "assign_to": "round_robin", "team": teams["east"].pk,
                                             "conditions": {"field": "tier", "op": "eq", "value": "A"}})  # fmt: skip
    assert "dedicated account manager" in str(e.value)
    with pytest.raises(ValidationError):
        assignment_create(actor=admin, data={"name": "x", "assign_to": "user", "user": 999999})
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        assignment_create(actor=alice, data={"name": "x", "assign_to": "user", "user": alice.pk})


def test_order_up_and_down(admin, alice, bob):
    a = assignment_create(actor=admin, data={"name": "A", "assign_to": "user", "user": alice.pk})
    b = assignment_create(actor=admin, data={"name": "B", "assign_to": "user", "user": bob.pk})
    assignment_move(actor=admin, rule=b, offset=-1)
    assert list(AssignmentRule.objects.order_by("position").values_list("id", flat=True)) == [b.pk, a.pk]


def test_trace_says_which_rule_would_fire_and_why(admin, alice, bob):
    assignment_create(
        actor=admin, data={"name": "Germany", "conditions": DE, "assign_to": "user", "user": bob.pk}
    )
    assignment_create(actor=admin, data={"name": "Rest", "assign_to": "user", "user": alice.pk})
    trace = Assigner("company").trace({"country": "FR"})
    assert [t["fires"] for t in trace] == [False, True]
    assert trace[0]["conditions"][0]["actual"] == "FR"


def test_tier_needing_an_account_manager_reassigns(
    admin, alice, carol, tiers, make_company, django_capture_on_commit_callbacks
):
    from tradecrm.grading.services import override_set

    c = make_company(actor=alice, name="Key account")
    assignment_create(actor=admin, data={"name": "Key accounts to Carol", "assign_to": "user", "user": carol.pk,
                                         "conditions": {"field": "tier", "op": "eq", "value": "A"}})  # fmt: skip
    import datetime as dt

    with django_capture_on_commit_callbacks(execute=True):
        override_set(actor=admin, company=c, tier="A", reason="strategic", until=dt.date(2026, 12, 31))
    c.refresh_from_db()
    assert c.owner_id == carol.pk


def test_inquiry_assignment(admin, alice, bob):
    from tradecrm.sales.services import inquiry_create

    assignment_create(actor=admin, data={"name": "Alibaba to Bob", "entity": "inquiry", "assign_to": "user",
                                         "user": bob.pk,
                                         "conditions": {"field": "channel", "op": "eq", "value": "alibaba"}})  # fmt: skip
    i = inquiry_create(actor=alice, data={"channel": "alibaba", "received_at": "2026-03-04T09:00:00Z",
                                          "buyer_name": "Joe", "buyer_email": "joe@example.com", "subject": "LED"})  # fmt: skip
    i.refresh_from_db()
    assert i.owner_id == bob.pk
