import datetime as dt
from decimal import Decimal

import pytest

from tradecrm.grading import engine
from tradecrm.grading.models import CompanyGrade, GradeChange, GradingRun, Tier

from .conftest import TODAY

D = Decimal


def grade(c):
    return CompanyGrade.objects.get(company=c)


def test_a_regular_big_buyer_is_tier_a_and_the_breakdown_adds_up(company, order, run_grading):
    big = company(name="Big")
    for days in (10, 40, 70, 100, 130, 160, 190, 220):
        order(big, days, "30000")
    small = company(name="Small")
    order(small, 300, "500")
    nobody = company(name="New lead")
    r = run_grading()
    g = grade(big)
    assert g.orders_count == 8 and g.orders_total == 8 and g.amount_base == D("240000.00")
    assert g.recency_days == 10 and g.last_order_on == TODAY - dt.timedelta(days=10)
    assert g.typical_interval_days == 30.0
    # frequency 100×20, amount 100×25, recency 100×15, repeat (7/8=.875 → 90)×10, timeliness neutral 50×10,
    # satisfaction neutral 50×5, engagement 0, potential 0 → (2000+2500+1500+900+500+250)/100
    assert g.points == {
        "frequency": 100,
        "amount": 100,
        "recency": 100,
        "repeat": 90,
        "timeliness": 50,
        "satisfaction": 50,
        "engagement": 0,
        "potential": 0,
    }
    assert g.score == 76.5 and g.tier == "A" and g.computed_tier == "A"
    assert g.lifecycle == "active" and g.churn_risk == 0
    s = grade(small)
    # a single order: measured against the 180-day default interval, 300 days is 1.67 intervals
    assert s.tier == "D" and s.recency_days == 300 and s.lifecycle == "at_risk" and s.churn_risk == 0.222
    n = grade(nobody)
    assert n.tier == "D" and n.lifecycle == "acquisition" and n.rfm_segment == "" and n.recency_days is None
    assert r.counts["customers"] == 3 and r.counts["buyers"] == 2
    assert set(r.phases) >= {
        "load",
        "orders",
        "payments",
        "engagement",
        "potential",
        "score",
        "write",
        "total",
    }
    # a first grade is recorded as history, without notifying anyone
    assert GradeChange.objects.filter(run=r).count() == 3 and r.counts["notified"] == 0


def test_amounts_use_the_frozen_rate_and_cancelled_orders_do_not_count(company, order, run_grading):
    c = company()
    order(c, 5, "1000", currency="EUR", fx_rate=D("1.1"))
    order(c, 6, "500")  # base currency, no rate
    order(c, 7, "9999", currency="GBP")  # no rate: cannot be valued, left out of the amount
    order(c, 8, "7000", status="cancelled")
    run_grading()
    g = grade(c)
    assert g.amount_base == D("1600.00") and g.orders_total == 3


def test_rfm_segments_against_the_average(company, order, run_grading):
    loyal = company(name="Loyal")
    for d in (5, 20, 35, 50):
        order(loyal, d, "50000")
    lapsed = company(name="Lapsed")
    for d in (400, 420, 440, 460):
        order(lapsed, d, "50000")
    newbie = company(name="Newbie")
    order(newbie, 3, "100")
    gone = company(name="Gone")
    order(gone, 500, "100")
    run_grading()
    assert grade(loyal).rfm_segment == "important_value"
    assert grade(lapsed).rfm_segment == "important_keep"
    assert grade(newbie).rfm_segment == "general_develop"
    assert grade(gone).rfm_segment == "general_win_back"


def test_lifecycle_against_the_customers_own_interval_and_win_back(company, order, run_grading, frozen):
    c = company()
    for d in (100, 130, 160):  # every 30 days, last 100 days ago: ratio 3.33 → dormant
        order(c, d, "1000")
    run_grading()
    g = grade(c)
    assert g.typical_interval_days == 30 and g.lifecycle == "dormant"
    assert g.churn_risk == pytest.approx((100 / 30 - 1) / 3, abs=0.001)
    order(c, 1, "1000")  # it came back
    run_grading()
    assert grade(c).lifecycle == "win_back"
    frozen.shift(dt.timedelta(days=2))
    run_grading()
    assert grade(c).lifecycle == "win_back"  # until its next order
    order(c, -1, "1000")
    run_grading()
    assert grade(c).lifecycle == "active"


def test_veto_caps_the_tier_and_says_which_rule(company, order, run_grading):
    from tradecrm.grading.models import VetoRule

    VetoRule.objects.create(name="High-risk country", kind="country", countries=["IR"], cap_tier="C")
    c = company(country="IR")
    for days in (10, 40, 70, 100, 130, 160, 190, 220):
        order(c, days, "30000")
    poor = company(credit_rating="D")
    for days in (10, 40, 70, 100, 130, 160, 190, 220):
        order(poor, days, "30000")
    run_grading()
    g = grade(c)
    assert g.score == 76.5 and g.tier == "C" and g.capped_by == "High-risk country"
    assert grade(poor).tier == "C" and grade(poor).capped_by == "Credit rating D"


def test_overdue_payments_and_timeliness(company, order, run_grading):
    from tradecrm.orders.models import Payment, PaymentAllocation, Receivable

    c = company()
    o = order(c, 100, "10000", currency="EUR", fx_rate=D("2"))
    on_time = Receivable.objects.create(
        order=o,
        company=c,
        kind="deposit",
        due_date=TODAY - dt.timedelta(days=90),
        amount=D("3000"),
        currency="EUR",
        paid_amount=D("3000"),
        status="paid",
    )
    Receivable.objects.create(
        order=o,
        company=c,
        kind="balance",
        due_date=TODAY - dt.timedelta(days=95),
        amount=D("7000"),
        currency="EUR",
        paid_amount=D("0"),
        status="open",
    )
    p = Payment.objects.create(
        order=o,
        company=c,
        receivable=on_time,
        received_on=TODAY - dt.timedelta(days=91),
        amount=D("3000"),
        currency="EUR",
        applied_amount=D("3000"),
        fx_rate=D("2"),
        fx_date=TODAY,
        base_amount=D("6000"),
    )
    PaymentAllocation.objects.create(payment=p, receivable=on_time, amount=D("3000"))
    run_grading()
    g = grade(c)
    assert g.on_time_rate == 0.3 and g.overdue_amount_base == D("14000.00") and g.overdue_days == 95
    assert g.points["timeliness"] == 0
    assert g.tier == "D"  # and the default veto "overdue more than 90 days" would cap it at C anyway
    assert g.capped_by == ""  # not capped: already below C


def test_engagement_satisfaction_and_potential(company, run_grading):
    from tradecrm.customs.models import CustomsRecord
    from tradecrm.interactions.models import Interaction
    from tradecrm.sales.models import Inquiry, Sample

    c = company(company_size="1000+", annual_purchase=">5m")
    at = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    Interaction.objects.create(company=c, type="email", direction="in", occurred_at=at)
    Interaction.objects.create(company=c, type="meeting", direction="", occurred_at=at)
    Interaction.objects.create(company=c, type="email", direction="out", occurred_at=at)
    Sample.objects.create(company=c, requested_on=TODAY - dt.timedelta(days=20), feedback_rating=4)
    Sample.objects.create(company=c, requested_on=TODAY - dt.timedelta(days=800), feedback_rating=5)
    Inquiry.objects.create(company=c, channel="email", received_at=at, status="qualified")
    Inquiry.objects.create(company=c, channel="email", received_at=at, status="spam")
    for i in range(3):
        CustomsRecord.objects.create(
            company=c,
            date=TODAY - dt.timedelta(days=10),
            importer_name="X",
            exporter_name="Y",
            bl_number=f"B{i}",
            fingerprint=f"fp{i}",
        )
    run_grading()
    g = grade(c)
    assert g.engagement == 1 + 2 + 2  # inbound email, meeting ×2, one sample in the window ×2
    assert g.satisfaction == 4.5
    assert g.potential == 20 + 6 + 15 + 15  # 2 intent ×10, 3 records ×2, size 15, band 15
    assert g.lifecycle == "nurture" or g.lifecycle == "acquisition"


def test_a_failing_run_leaves_the_previous_grades(company, order, run_grading, monkeypatch):
    c = company()
    order(c, 10, "100")
    first = run_grading()
    before = list(CompanyGrade.objects.values_list("company_id", "score", "tier", "run_id"))
    changes = GradeChange.objects.count()
    for d in (20, 30, 40, 50, 60, 70, 80):
        order(c, d, "60000")
    for step in ("staged", "upserted", "changes"):

        def boom(name, step=step):
            if name == step:
                raise RuntimeError(f"disk full at {step}")

        monkeypatch.setattr(engine, "checkpoint", boom)
        r = engine.run(trigger="test")
        assert r.status == "failed" and f"disk full at {step}" in r.error
        assert list(CompanyGrade.objects.values_list("company_id", "score", "tier", "run_id")) == before
        assert GradeChange.objects.count() == changes
    monkeypatch.setattr(engine, "checkpoint", lambda name: None)
    ok = run_grading()
    assert grade(c).run_id == ok.pk != first.pk and grade(c).tier == "A"
    assert GradingRun.objects.filter(status="failed").count() == 3


def test_tier_change_is_recorded_and_the_owner_notified(company, order, run_grading, alice):
    from tradecrm.followups.models import Notification
    from tradecrm.followups.notifications import render

    c = company(name="Rising Star")
    order(c, 10, "100")
    run_grading()
    assert grade(c).tier == "D"
    for d in (20, 30, 40, 50, 60, 70, 80):
        order(c, d, "60000")
    r = run_grading()
    ch = GradeChange.objects.get(run=r)
    assert (ch.from_tier, ch.to_tier, ch.reason) == ("D", "A", "run")
    n = Notification.objects.get(kind="tier_changed")
    assert n.user == alice and n.company_id == c.pk and n.url == f"/customers/{c.pk}/"
    assert render(n) == "Rising Star moved from tier D to tier A"
    # unchanged run: nothing new, and the rows are not rewritten
    r3 = run_grading()
    assert r3.counts["tier_changes"] == 0 and r3.counts["grades_written"] == 0
    assert Notification.objects.filter(kind="tier_changed").count() == 1


def test_override_holds_until_its_expiry_then_ends_at_the_next_run(
    company, order, run_grading, carol, frozen
):
    from tradecrm.grading.services import override_set

    c = company()
    order(c, 10, "100")
    run_grading()
    override_set(
        actor=carol, company=c, tier="A", reason="Strategic distributor", until=TODAY + dt.timedelta(days=3)
    )
    run_grading()
    g = grade(c)
    assert g.tier == "A" and g.computed_tier == "D" and g.override_reason == "Strategic distributor"
    frozen.shift(dt.timedelta(days=4))
    r = run_grading()
    g = grade(c)
    assert g.tier == "D" and g.override_tier == "" and g.override_until is None
    ch = GradeChange.objects.get(run=r)
    assert (ch.from_tier, ch.to_tier, ch.reason) == ("A", "D", "override_end")


def test_tier_thresholds_follow_the_configuration(company, order, run_grading):
    c = company()
    order(c, 10, "100")
    run_grading()
    # frequency 20×20 + recency 100×15 + neutral timeliness 50×10 and satisfaction 50×5
    assert grade(c).tier == "D" and grade(c).score == 26.5
    Tier.objects.filter(code="C").update(min_score=20)
    run_grading()
    assert grade(c).tier == "C"
