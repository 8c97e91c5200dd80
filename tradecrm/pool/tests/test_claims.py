import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from tradecrm.audit.models import AuditEvent
from tradecrm.core.errors import ValidationError
from tradecrm.customers.models import Company
from tradecrm.followups.models import Notification
from tradecrm.pool import services
from tradecrm.pool.models import OwnerSince, PoolEntry, PoolMove
from tradecrm.pool.rules import clean_rules

from .conftest import NOW, ago


def messages(exc) -> list[str]:
    return [m for ms in exc.value.message_dict.values() for m in ms]


def test_claim_makes_it_yours_with_team_protection_start_and_audit(bob, alice, east_pool, co, in_pool):
    c = co(alice)
    in_pool(c, previous_owner=alice, days=30)
    move = services.pool_claim(actor=bob, company_id=c.id)
    c.refresh_from_db()
    assert (c.owner_id, c.team_id) == (bob.id, bob.team_id)
    assert not PoolEntry.objects.filter(company=c).exists()
    assert OwnerSince.objects.get(company=c).since == NOW
    assert (move.kind, move.to_owner_id, move.pool_id) == ("claim", bob.id, east_pool.id)
    assert AuditEvent.objects.filter(action="pool.claim", object_id=c.id, actor=bob).exists()


def test_daily_claim_limit(bob, alice, east_pool, co, in_pool):
    east_pool.rules = {**east_pool.rules, "claim_limit_per_day": 2}
    east_pool.save()
    cs = [co(alice) for _ in range(3)]
    for c in cs:
        in_pool(c)
    services.pool_claim(actor=bob, company_id=cs[0].id)
    services.pool_claim(actor=bob, company_id=cs[1].id)
    with pytest.raises(ValidationError) as exc:
        services.pool_claim(actor=bob, company_id=cs[2].id)
    assert messages(exc) == ["Daily claim limit of 2 reached; you may claim again tomorrow."]
    assert PoolEntry.objects.filter(company=cs[2]).exists()


def test_max_holdings(bob, alice, east_pool, co, in_pool):
    east_pool.rules = {**east_pool.rules, "max_customers_per_rep": 2}
    east_pool.save()
    co(bob)
    co(bob)
    c = co(alice)
    in_pool(c)
    with pytest.raises(ValidationError) as exc:
        services.pool_claim(actor=bob, company_id=c.id)
    assert messages(exc) == ["You already hold 2 customers (maximum 2)."]


def test_cooldown_for_the_previous_owner_only(alice, bob, east_pool, co, in_pool):
    released = co(alice)
    in_pool(released, previous_owner=alice, days=3, kind="release")
    recalled = co(alice)
    in_pool(recalled, previous_owner=alice, days=2, kind="recall")
    with pytest.raises(ValidationError) as exc:
        services.pool_claim(actor=alice, company_id=released.id)
    assert messages(exc) == ["You released this customer 3 days ago; you may claim it again after 7 days."]
    with pytest.raises(ValidationError) as exc:
        services.pool_claim(actor=alice, company_id=recalled.id)
    assert messages(exc) == [
        "This customer was recalled from you 2 days ago; you may claim it again after 7 days."
    ]
    services.pool_claim(actor=bob, company_id=released.id)  # anyone else may
    old = co(alice)
    in_pool(old, previous_owner=alice, days=8, kind="release")
    services.pool_claim(actor=alice, company_id=old.id)


def test_claim_from_a_pool_of_another_team_is_404(dave, alice, east_pool, co, in_pool):
    c = co(alice)
    in_pool(c)
    with pytest.raises(Http404):
        services.pool_claim(actor=dave, company_id=c.id)


def test_assign_by_manager_only(alice, bob, carol, dave, admin, east_pool, co, in_pool):
    c = co(alice)
    in_pool(c, previous_owner=alice)
    with pytest.raises(PermissionDenied):
        services.pool_assign(actor=bob, company_id=c.id, to_user=alice)
    with pytest.raises(ValidationError) as exc:
        services.pool_assign(actor=carol, company_id=c.id, to_user=dave)
    assert messages(exc) == ["Dave is not in a team you manage."]
    move = services.pool_assign(actor=carol, company_id=c.id, to_user=bob)
    assert (move.kind, move.to_owner_id, move.actor_id) == ("assign", bob.id, carol.id)
    assert Company.objects.get(pk=c.pk).owner_id == bob.id
    n = Notification.objects.get(user=bob, kind="pool_assigned")
    from tradecrm.followups.notifications import render

    assert render(n) == f"Carol assigned you {c.name} from the pool “East pool”"


def test_assign_respects_max_holdings_but_not_the_daily_limit(alice, bob, carol, east_pool, co, in_pool):
    east_pool.rules = {**east_pool.rules, "max_customers_per_rep": 1, "claim_limit_per_day": 1}
    east_pool.save()
    a, b = co(alice), co(alice)
    in_pool(a)
    in_pool(b)
    services.pool_assign(actor=carol, company_id=a.id, to_user=bob)
    with pytest.raises(ValidationError) as exc:
        services.pool_assign(actor=carol, company_id=b.id, to_user=bob)
    assert messages(exc) == ["Bob already holds 1 customers (maximum 1)."]


def test_release_needs_a_reason_and_the_owner_or_a_manager(alice, bob, carol, east_pool, co):
    from tradecrm.followups.models import FollowUp

    c = co(alice)
    f = FollowUp.objects.create(company=c, assignee=alice, title="call", due_at=ago(-1))
    with pytest.raises(ValidationError) as exc:
        services.pool_release(actor=alice, company=c, reason="  ")
    assert messages(exc) == ["Say why you release this customer (the next owner reads it)."]
    with pytest.raises(ValidationError) as exc:
        services.pool_release(actor=bob, company=c, reason="not mine")
    assert messages(exc) == ["Only the owner, their manager or an administrator may release this customer."]
    move = services.pool_release(actor=carol, company=c, reason="buyer went bankrupt")
    entry = PoolEntry.objects.get(company=c)
    assert (entry.pool_id, entry.previous_owner_id, entry.kind, entry.reason) == (
        east_pool.id,
        alice.id,
        "release",
        "buyer went bankrupt",
    )
    assert (move.kind, move.from_owner_id, move.actor_id) == ("release", alice.id, carol.id)
    f.refresh_from_db()
    assert f.status == "cancelled"
    assert (
        AuditEvent.objects.get(action="pool.release", object_id=c.id).changes["reason"]
        == "buyer went bankrupt"
    )
    with pytest.raises(ValidationError) as exc:
        services.pool_release(actor=carol, company=Company.objects.get(pk=c.pk), reason="again")
    assert messages(exc) == ["This customer is already in the pool."]


def test_release_of_a_locked_customer_is_refused(alice, carol, east_pool, co):
    c = co(alice)
    services.pool_lock(actor=carol, company=c, reason="key account")
    with pytest.raises(ValidationError) as exc:
        services.pool_release(actor=alice, company=c, reason="x")
    assert messages(exc) == ["This customer is locked: unlock it before releasing it."]
    with pytest.raises(PermissionDenied):
        services.pool_unlock(actor=alice, company=c)
    services.pool_unlock(actor=carol, company=c)
    services.pool_release(actor=alice, company=c, reason="x")


def test_no_pool_for_the_customer(dave, east_pool, co):
    c = co(dave, country="FR")
    with pytest.raises(ValidationError) as exc:
        services.pool_release(actor=dave, company=c, reason="x")
    assert messages(exc) == ["No active pool takes customers from FR: ask an administrator to set one up."]


@pytest.mark.parametrize(
    ("rules", "field", "message"),
    [
        ({"no_touch_days": -3}, "no_touch_days", "Days without a verifiable touch cannot be negative (-3)."),
        ({"no_touch_days": "abc"}, "no_touch_days", "Enter a whole number of days or leave it empty."),
        (
            {"no_touch_days": 30, "warn_days": 30},
            "warn_days",
            "The warning must come before the recall: warn fewer than 30 days before (the earliest recall rule is 30 days).",
        ),
        ({"exempt_tiers": ["Z"]}, "exempt_tiers", "Unknown tier “Z” (tiers: A, B, C, D)."),
        (
            {"touch_kinds": ["email", "note"]},
            "touch_kinds",
            "A note is not a verifiable touch: anyone can type one.",
        ),
        (
            {"touch_kinds": ["fax"]},
            "touch_kinds",
            "Unknown touch kind “fax” (known: email, call, meeting, video, "
            "visit, trade_show, whatsapp, wechat, chat, quotation, sample).",
        ),
        (
            {"claim_limit_per_day": 0},
            "claim_limit_per_day",
            "Claims per rep per day: enter at least 1, or leave it empty to switch it off.",
        ),
        ({"recall_after": 3}, "recall_after", "Unknown rule “recall_after”."),
        (
            {"touch_kinds": [], "no_touch_days": 10},
            "touch_kinds",
            "Choose at least one kind of touch that counts, or switch off the touch rule.",
        ),
    ],
)
def test_rule_validation_messages(db, rules, field, message):
    from tradecrm.grading.models import Tier

    Tier.objects.get_or_create(code="A", defaults={"name": "Key", "rank": 1, "min_score": 80})
    with pytest.raises(ValidationError) as exc:
        clean_rules(rules)
    assert exc.value.message_dict[field] == [message]


def test_rules_update_only_by_admin_and_bumps_the_rule_version(admin, carol, east_pool):
    with pytest.raises(PermissionDenied):
        services.pool_update(actor=carol, pool=east_pool, version=1, data={"rules": {"no_touch_days": 30}})
    pool = services.pool_update(actor=admin, pool=east_pool, version=1, data={"name": "East & Co"})
    assert (pool.version, pool.rules_version) == (2, 1)
    pool = services.pool_update(actor=admin, pool=pool, version=2, data={"rules": {"no_touch_days": 45}})
    assert (pool.version, pool.rules_version, pool.rules["no_touch_days"]) == (3, 2, 45)
    assert PoolMove.objects.count() == 0
