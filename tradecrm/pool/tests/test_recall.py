import datetime as dt

import pytest

from tradecrm.customers.models import Company
from tradecrm.followups.models import FollowUp, FollowUpStatus, Notification
from tradecrm.pool import services
from tradecrm.pool.models import CompanyLock, OwnerSince, PoolEntry, PoolMove, RecallRun

from .conftest import NOW, ago


def recalled_ids():
    return set(PoolEntry.objects.values_list("company_id", flat=True))


def test_touch_kinds_counted_notes_and_calls_without_duration_not(alice, east_pool, co, touch):
    note = co(alice)
    touch(note, "note", 5)
    short_call = co(alice)
    touch(short_call, "call", 5)  # no duration: not verifiable
    call = co(alice)
    touch(call, "call", 5, duration_minutes=12)
    email = co(alice)
    touch(email, "email", 59, direction="in")
    meeting = co(alice)
    touch(meeting, "meeting", 30)
    whatsapp = co(alice)
    touch(whatsapp, "whatsapp", 3)  # not in the default kinds
    old_email = co(alice)
    touch(old_email, "email", 61)
    young = co(alice, age_days=20)  # owned for 20 days only: its clock has not run out

    run = services.pool_recall_run(now=NOW)

    assert run.status == "done"
    assert recalled_ids() == {note.id, short_call.id, whatsapp.id, old_email.id}
    assert run.recalled == 4
    assert young.id not in recalled_ids()
    move = PoolMove.objects.get(company=old_email)
    assert move.reason == "no verifiable touch for 61 days"
    assert move.params == {"rule": "no_touch", "days": 61, "limit": 60}
    assert move.from_owner == alice and move.kind == "recall" and move.run_id == run.id
    assert Company.objects.get(pk=note.pk).owner_id is None
    assert PoolMove.objects.get(company=note).reason == "no verifiable touch for 100 days"


def test_quotation_and_sample_count_as_touches(alice, east_pool, co):
    from tradecrm.documents.models import Quotation
    from tradecrm.sales.models import Sample

    quoted = co(alice)
    Quotation.objects.create(company=quoted, document_date=ago(10).date(), currency="USD", issued_at=ago(10))
    draft = co(alice)
    Quotation.objects.create(company=draft, document_date=ago(10).date(), currency="USD")  # never issued
    sampled = co(alice)
    Sample.objects.create(company=sampled, requested_on=ago(20).date(), sent_on=ago(15).date())

    services.pool_recall_run(now=NOW)

    assert recalled_ids() == {draft.id}


def test_exemptions_locked_tier_and_recent_order(alice, east_pool, co):
    from tradecrm.grading.models import CompanyGrade, Tier
    from tradecrm.orders.models import Order

    Tier.objects.get_or_create(code="A", defaults={"name": "Key", "rank": 1, "min_score": 80})
    east_pool.rules = {**east_pool.rules, "exempt_tiers": ["A"], "no_order_days": None}
    east_pool.save()
    locked = co(alice)
    CompanyLock.objects.create(company=locked, locked_at=NOW)
    key = co(alice)
    CompanyGrade.objects.create(company=key, tier="A")
    ordered = co(alice)
    Order.objects.create(company=ordered, document_date=ago(100).date(), currency="USD", status="confirmed")
    cancelled = co(alice)
    Order.objects.create(company=cancelled, document_date=ago(10).date(), currency="USD", status="cancelled")
    plain = co(alice)

    services.pool_recall_run(now=NOW)

    assert recalled_ids() == {cancelled.id, plain.id}


def test_no_opportunity_no_order_and_protection_rules(alice, east_pool, co):
    from tradecrm.orders.models import Order
    from tradecrm.sales.models import Opportunity, Pipeline

    east_pool.rules = {**east_pool.rules, "no_touch_days": None, "no_opportunity_days": 30, "no_order_days": 365,
                       "exempt_ordered_within_days": None, "protection_days": 14, "warn_days": 3}  # fmt: skip
    east_pool.save()
    pipeline = Pipeline.objects.get(is_default=True)
    stage = pipeline.stages.order_by("position").first()
    with_open = co(alice)
    Opportunity.objects.create(company=with_open, name="x", pipeline=pipeline, stage=stage, currency="USD",
                               stage_entered_at=ago(90), status="open")  # fmt: skip
    Opportunity.objects.filter(company=with_open).update(created_at=ago(90))
    no_opp = co(alice)
    # claimed 20 days ago, no order since: the protection period (14 days) is over
    claimed = co(alice, age_days=400)
    OwnerSince.objects.create(company=claimed, owner=alice, since=ago(20))
    # claimed 20 days ago and ordered since: kept (the other rules start from the claim)
    claimed_ordered = co(alice, age_days=400)
    OwnerSince.objects.create(company=claimed_ordered, owner=alice, since=ago(20))
    Order.objects.create(
        company=claimed_ordered, document_date=ago(2).date(), currency="USD", status="confirmed"
    )
    Opportunity.objects.create(company=claimed_ordered, name="y", pipeline=pipeline, stage=stage, currency="USD",
                               stage_entered_at=ago(2), status="open")  # fmt: skip
    # claimed 5 days ago: protected, none of the other rules apply yet
    protected = co(alice, age_days=400)
    OwnerSince.objects.create(company=protected, owner=alice, since=ago(5))

    services.pool_recall_run(now=NOW)

    assert recalled_ids() == {no_opp.id, claimed.id}
    assert PoolMove.objects.get(company=no_opp).reason == "no opportunity for 100 days"
    assert (
        PoolMove.objects.get(company=claimed).reason == "protection period of 14 days ended without an order"
    )


def test_recall_cancels_the_owners_open_followups_and_tells_them(alice, bob, east_pool, co):
    c = co(alice)
    mine = FollowUp.objects.create(company=c, assignee=alice, title="call", due_at=ago(-2))
    bobs = FollowUp.objects.create(company=c, assignee=bob, title="ship sample", due_at=ago(-3))

    services.pool_recall_run(now=NOW)

    mine.refresh_from_db()
    bobs.refresh_from_db()
    assert mine.status == FollowUpStatus.CANCELLED
    assert bobs.status == FollowUpStatus.OPEN
    n = Notification.objects.get(user=alice, kind="pool_recalled")
    from tradecrm.followups.notifications import render

    assert render(n) == f"{c.name} was recalled to the pool “East pool”: no verifiable touch for 100 days"


def test_rerun_is_idempotent_and_rule_versions_are_stored(alice, admin, east_pool, co):
    co(alice)
    co(alice)
    first = services.pool_recall_run(now=NOW)
    second = services.pool_recall_run(now=NOW)
    assert (first.recalled, second.recalled, second.due) == (2, 0, 0)
    assert PoolMove.objects.count() == 2
    assert first.rules[str(east_pool.id)]["version"] == 1

    services.pool_update(
        actor=admin, pool=east_pool, version=east_pool.version, data={"rules": {"no_touch_days": 90}}
    )
    third = services.pool_recall_run(now=NOW)
    assert third.rules[str(east_pool.id)]["version"] == 2
    assert third.rules[str(east_pool.id)]["rules"]["no_touch_days"] == 90


def test_dry_run_moves_nothing(alice, east_pool, co):
    c = co(alice)
    run = services.pool_recall_run(now=NOW, dry_run=True)
    assert run.due == 1 and run.recalled == 0
    assert run.preview == [{"company": c.id, "name": c.name, "owner": alice.id, "pool": east_pool.id,
                            "reason": "no verifiable touch for 100 days"}]  # fmt: skip
    assert Company.objects.get(pk=c.pk).owner_id == alice.id


@pytest.mark.parametrize("chunk", [1, 200])
def test_crash_mid_run_leaves_no_half_moved_customer(alice, east_pool, co, monkeypatch, chunk):
    from tradecrm.audit.models import AuditEvent

    companies = [co(alice) for _ in range(5)]
    for c in companies:
        FollowUp.objects.create(company=c, assignee=alice, title="call", due_at=ago(-1))
    monkeypatch.setattr(services, "CHUNK", chunk)
    real = services._cancel_followups_bulk  # called once per chunk
    calls = {"n": 0}
    fail_on = 3 if chunk == 1 else 1

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == fail_on:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "_cancel_followups_bulk", failing)
    with pytest.raises(RuntimeError):
        services.pool_recall_run(now=NOW)

    run = RecallRun.objects.get()
    assert run.status == "failed" and "disk full" in run.error
    moved = 0
    for c in companies:
        owner = Company.objects.get(pk=c.pk).owner_id
        facts = (
            PoolEntry.objects.filter(company=c).exists(),
            PoolMove.objects.filter(company=c).exists(),
            AuditEvent.objects.filter(action="pool.recall", object_id=c.pk).exists(),
            FollowUp.objects.filter(company=c, status="cancelled").exists(),
        )
        if owner is None:
            assert facts == (True, True, True, True)
            moved += 1
        else:
            assert facts == (False, False, False, False)
    assert moved == (2 if chunk == 1 else 0)

    monkeypatch.setattr(services, "_cancel_followups_bulk", real)
    again = services.pool_recall_run(now=NOW)
    assert again.recalled == 5 - moved
    assert Company.objects.filter(owner__isnull=True).count() == 5


def test_a_chunk_failure_leaves_all_of_that_chunk_untouched(alice, east_pool, co, monkeypatch):
    """Chunks of 2: the first commits; the second fails at its last write (the notifications), so
    its owner update, entries, moves, audit events and follow-up cancellations all roll back."""
    from tradecrm.audit.models import AuditEvent

    companies = [co(alice) for _ in range(5)]
    for c in companies:
        FollowUp.objects.create(company=c, assignee=alice, title="call", due_at=ago(-1))
        OwnerSince.objects.create(company=c, owner=alice, since=ago(200))
    Company.objects.filter(pk__in=[c.pk for c in companies]).update(next_followup_at=ago(-1))
    versions = {c.pk: c.version for c in companies}
    monkeypatch.setattr(services, "CHUNK", 2)
    real = Notification.objects.bulk_create
    calls = {"n": 0}

    def failing(objs, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(objs, *args, **kwargs)

    monkeypatch.setattr(Notification.objects, "bulk_create", failing)
    with pytest.raises(RuntimeError):
        services.pool_recall_run(now=NOW)

    first, untouched = companies[:2], companies[2:]
    for c in first:
        fresh = Company.objects.get(pk=c.pk)
        assert (fresh.owner_id, fresh.version, fresh.next_followup_at) == (None, versions[c.pk] + 1, None)
        assert PoolEntry.objects.get(company=c).previous_owner_id == alice.id
        assert PoolMove.objects.filter(company=c, kind="recall").count() == 1
        event = AuditEvent.objects.get(action="pool.recall", object_id=c.pk)
        assert event.changes["owner"] == [alice.id, None] and event.changes["followups_cancelled"] == 1
        assert FollowUp.objects.get(company=c).status == FollowUpStatus.CANCELLED
        assert Notification.objects.filter(company=c, kind="pool_recalled").count() == 1
        assert not OwnerSince.objects.filter(company=c).exists()
    for c in untouched:
        fresh = Company.objects.get(pk=c.pk)
        assert (fresh.owner_id, fresh.version, fresh.updated_at) == (alice.id, versions[c.pk], c.updated_at)
        assert fresh.next_followup_at == ago(-1)
        assert not PoolEntry.objects.filter(company=c).exists()
        assert not PoolMove.objects.filter(company=c).exists()
        assert not AuditEvent.objects.filter(object_type="customers.company", object_id=c.pk).exists()
        assert FollowUp.objects.get(company=c).status == FollowUpStatus.OPEN
        assert not Notification.objects.filter(company=c).exists()
        assert OwnerSince.objects.filter(company=c, owner=alice).exists()
    run = RecallRun.objects.get()
    assert (run.status, run.recalled) == ("failed", 2)

    monkeypatch.setattr(Notification.objects, "bulk_create", real)
    again = services.pool_recall_run(now=NOW)
    assert (again.status, again.due, again.recalled) == ("done", 3, 3)
    assert set(PoolEntry.objects.values_list("company_id", flat=True)) == {c.pk for c in companies}
    assert PoolMove.objects.count() == 5
    assert Notification.objects.filter(kind="pool_recalled").count() == 5
    # the bulk-written events carry the source context and seal into a valid chain
    from tradecrm.audit import chain

    assert set(AuditEvent.objects.values_list("source", flat=True)) == {"cli"}
    assert chain.seal() == 5 and chain.verify().ok


def test_owner_changed_since_the_scan_is_skipped_in_a_chunk(alice, bob, east_pool, co, monkeypatch):
    """Set-based moves still check each customer's owner: one reassigned between the scan and its
    chunk stays with its new owner; the rest of the chunk moves."""
    a, b, c = co(alice), co(alice), co(alice)
    real = services._recall_many

    def reassign_first(items, **kwargs):
        Company.objects.filter(pk=b.pk).update(owner=bob)
        return real(items, **kwargs)

    monkeypatch.setattr(services, "_recall_many", reassign_first)
    run = services.pool_recall_run(now=NOW)

    assert (run.due, run.recalled) == (3, 2)
    assert recalled_ids() == {a.id, c.id}
    assert Company.objects.get(pk=b.pk).owner_id == bob.id
    assert not PoolMove.objects.filter(company=b).exists()
    told = Notification.objects.filter(kind="pool_recalled").values_list("company_id", flat=True)
    assert set(told) == {a.id, c.id}


def test_killed_run_is_marked_interrupted_by_the_next(alice, east_pool):
    stale = RecallRun.objects.create(started_at=ago(1))
    services.pool_recall_run(now=NOW)
    stale.refresh_from_db()
    assert stale.status == "failed" and stale.error == "interrupted"


def test_warnings_once_per_customer_and_due_date(alice, east_pool, co, touch):
    soon = co(alice)
    touch(soon, "email", 55)  # due in 5 days, warning window 7
    later = co(alice)
    touch(later, "email", 40)  # due in 20 days
    overdue = co(alice)  # due now: recalled, not warned

    assert services.pool_warn_run(now=NOW) == 1
    assert services.pool_warn_run(now=NOW) == 0
    n = Notification.objects.get(kind="pool_recall_warning")
    assert n.user == alice and n.company_id == soon.id
    assert n.key == f"pool_warn:{soon.id}:2026-03-09"
    from tradecrm.followups.notifications import render

    assert render(n) == (f"{soon.name} goes back to the pool “East pool” on 2026-03-09 "
                         "(no verifiable touch for 60 days) unless you act")  # fmt: skip
    assert overdue.id not in Notification.objects.values_list("company_id", flat=True)
    assert later.id not in Notification.objects.values_list("company_id", flat=True)
    # a day later, still the same due date: nothing new
    assert services.pool_warn_run(now=NOW + dt.timedelta(days=1)) == 0


def test_most_specific_pool_wins(alice, dave, teams, east_pool, co):
    from tradecrm.pool.models import Pool

    everyone = Pool.objects.create(name="Everyone", rules={"no_touch_days": 30})
    german = Pool.objects.create(name="Germany", countries=["DE"], rules={"no_touch_days": 30})
    de_east = co(alice, country="DE")
    us_east = co(alice, country="US")
    fr_west = co(dave, country="FR")

    services.pool_recall_run(now=NOW)

    pools = dict(PoolEntry.objects.values_list("company_id", "pool_id"))
    assert pools == {de_east.id: german.id, us_east.id: east_pool.id, fr_west.id: everyone.id}


def test_cli_recall_dry_run_json_then_real_and_warn(alice, east_pool, co, touch, capsys):
    import json

    from django.core.management import call_command

    c = co(alice)
    soon = co(alice)
    touch(soon, "email", 57)
    call_command("pool", "recall", "--dry-run", "--json")
    out = json.loads(capsys.readouterr().out)
    assert (out["dry_run"], out["due"], out["recalled"]) == (True, 1, 0)
    assert out["preview"][0]["company"] == c.id
    assert out["rule_versions"] == {str(east_pool.id): 1}
    call_command("pool", "recall")
    assert "1 due, 1 recalled" in capsys.readouterr().out
    call_command("pool", "warn", "--json")
    assert json.loads(capsys.readouterr().out) == {"warnings": 1}


def test_periodic_tasks_run_the_jobs(alice, east_pool, co):
    from tradecrm.pool.tasks import pool_recall_nightly, pool_warn_daily

    co(alice)
    assert pool_recall_nightly.call_local()["recalled"] == 1
    assert pool_warn_daily.call_local() == 0
