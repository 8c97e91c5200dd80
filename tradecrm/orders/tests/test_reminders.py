"""The reminder scan's two deal-flow producers (followups/reminders.py): quotations about to
expire and expected reorders, each idempotent."""

import datetime as dt

import pytest

from tradecrm.documents.models import Quotation
from tradecrm.followups.models import CadenceRule, FollowUp, Notification
from tradecrm.followups.reminders import run_reminders
from tradecrm.followups.services import followup_cancel
from tradecrm.orders.models import Order
from tradecrm.orders.selectors import customer_order_stats

from .conftest import NOW, TODAY

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


@pytest.fixture
def quote(alice):
    n = {"i": 0}

    def make(company, valid_until, status="issued", owner=alice):
        n["i"] += 1
        return Quotation.objects.create(company=company, number=f"Q-2026-{n['i']:04d}", status=status,
                                        document_date=TODAY - 10 * DAY, currency="USD", valid_until=valid_until,
                                        owner=owner)  # fmt: skip

    return make


def test_quotation_expiry_reminds_the_owner_once_per_window(alice, bob, make_company, quote, frozen):
    soon = make_company(name="Soon Ltd")
    quote(soon, TODAY + 2 * DAY)
    quote(soon, TODAY + 3 * DAY)  # the same customer: one follow-up covers both
    ownerless = make_company(name="Ownerless quote Ltd")
    quote(ownerless, TODAY + DAY, owner=None)  # falls back to the customer's owner
    later, gone = make_company(name="Later Ltd"), make_company(name="Gone Ltd")
    quote(later, TODAY + 10 * DAY)
    quote(gone, TODAY - DAY)  # expired yesterday: too late
    quote(gone, TODAY + DAY, status="accepted")  # answered: nothing to chase
    quote(gone, TODAY + DAY, status="draft")
    result = run_reminders(NOW)
    assert result["quotation_expiry"] == 2
    f = FollowUp.objects.get(company=soon, kind="quotation_expiry")
    assert (f.assignee, f.due_at, f.notes, f.title, f.status) == (
        alice,
        NOW,
        "Q-2026-0001 · 2026-03-06",
        "Quotation expires in 3 days",
        "open",
    )
    assert FollowUp.objects.get(company=ownerless, kind="quotation_expiry").assignee == alice
    assert Notification.objects.filter(followup=f, kind="followup_due").count() == 1
    assert not FollowUp.objects.filter(company__in=[later, gone], kind="quotation_expiry").exists()
    assert run_reminders(NOW)["quotation_expiry"] == 0  # idempotent
    followup_cancel(actor=alice, followup=f, version=f.version)
    assert run_reminders(NOW + DAY)["quotation_expiry"] == 0  # closed: not again in this window
    frozen.move_to(NOW + 8 * DAY)  # later's window (valid until 03-14, 3 days) opened on 03-11
    assert run_reminders(NOW + 8 * DAY)["quotation_expiry"] == 1
    assert FollowUp.objects.filter(company=later, kind="quotation_expiry", status="open").count() == 1


def test_quotation_expiry_follows_the_rule(alice, make_company, quote):
    c = make_company(name="Rule Ltd")
    quote(c, TODAY + 5 * DAY)
    assert run_reminders(NOW)["quotation_expiry"] == 0
    CadenceRule.objects.filter(kind="quotation_expiry").update(days=7)
    assert run_reminders(NOW)["quotation_expiry"] == 1


def _order(company, day, number, status="confirmed"):
    return Order.objects.create(
        company=company, number=number, document_date=day, currency="USD", status=status
    )


def test_purchase_cycle_expects_the_next_order_one_average_interval_later(alice, make_company, frozen):
    regular = make_company(name="Regular Buyer")
    _order(regular, dt.date(2026, 1, 1), "SO-2026-0001")
    _order(regular, dt.date(2026, 1, 1), "SO-2026-0002")  # same day: one order day
    _order(regular, dt.date(2026, 2, 1), "SO-2026-0003")  # every 31 days: next ~03-04
    _order(regular, dt.date(2026, 2, 20), "SO-2026-0009", status="cancelled")
    once = make_company(name="One-off Buyer")
    _order(once, dt.date(2026, 2, 1), "SO-2026-0004")
    lapsed = make_company(name="Lapsed Buyer")
    _order(lapsed, dt.date(2025, 1, 1), "SO-2025-0001")
    _order(lapsed, dt.date(2025, 6, 1), "SO-2025-0002")  # expected 2025-11-01: long past
    slow = make_company(name="Slow Buyer")
    _order(slow, dt.date(2026, 1, 1), "SO-2026-0005")
    _order(slow, dt.date(2026, 2, 15), "SO-2026-0006")  # every 45 days: next 2026-04-01
    stats = customer_order_stats([regular.pk, once.pk, slow.pk])
    assert stats[regular.pk]["expected_next_order"] == dt.date(2026, 3, 4)
    assert stats[regular.pk]["order_count"] == 3 and stats[once.pk]["average_interval_days"] is None
    result = run_reminders(NOW)
    assert result["purchase_cycle"] == 1
    f = FollowUp.objects.get(kind="purchase_cycle")
    assert (f.company, f.assignee, f.due_at, f.notes) == (regular, alice, NOW, "SO-2026-0003 → 2026-03-04")
    assert run_reminders(NOW)["purchase_cycle"] == 0  # idempotent
    followup_cancel(actor=alice, followup=f, version=f.version)
    assert run_reminders(NOW + DAY)["purchase_cycle"] == 0  # once per last order
    frozen.move_to(dt.datetime(2026, 3, 25, 2, 0, tzinfo=dt.UTC))  # slow's window opens (04-01 − 7 days)
    assert run_reminders(dt.datetime(2026, 3, 25, 2, 0, tzinfo=dt.UTC))["purchase_cycle"] == 1
    assert FollowUp.objects.filter(company=slow, kind="purchase_cycle").count() == 1
    _order(regular, dt.date(2026, 3, 24), "SO-2026-0007")  # a new order starts a new cycle
    _order(regular, dt.date(2026, 3, 25), "SO-2026-0008")
    # 01-01 … 03-25: 83 days over 4 order days → every 28 days, next 04-22; window from 04-15
    assert customer_order_stats([regular.pk])[regular.pk]["expected_next_order"] == dt.date(2026, 4, 22)
    assert run_reminders(dt.datetime(2026, 4, 15, 2, 0, tzinfo=dt.UTC))["purchase_cycle"] == 1
