"""Association rules over order lines: support, confidence and lift; the customer-page panel
with the reason, excluding what the customer already buys; up-sell in the same category."""

import datetime as dt
from decimal import Decimal

import pytest

from tradecrm.analysis import recommend
from tradecrm.analysis.models import AssociationRule, ProductStat, RuleRun
from tradecrm.customers.models import Company

pytestmark = pytest.mark.django_db


@pytest.fixture
def baskets(alice, acme, product, buy):
    """10 buyers: 8 bought shirts (5 of them ties too), 2 only ties; acme bought shirts only."""
    shirt = product("Cotton shirt", "Shirts")
    tie = product("Silk tie", "Ties")
    premium = product("Linen shirt", "Shirts")
    others = Company.objects.bulk_create(
        [Company(name=f"Buyer {i}", owner=alice, team=alice.team) for i in range(9)]
    )
    for i, c in enumerate(others):
        lines = []
        if i < 7:
            lines.append((shirt, 10, 50))  # 5 USD a shirt
        if i < 5 or i >= 7:
            lines.append((tie, 10, 30))
        if i < 3:
            lines.append((premium, 10, 120))  # 12 USD a shirt
        buy(c, lines)
    buy(acme, [(shirt, 20, 100)], day=dt.date(2026, 2, 1))
    buy(acme, [(tie, 1, 3)], status="cancelled")  # cancelled: not a purchase
    return {"shirt": shirt, "tie": tie, "premium": premium}


def run_rules(**params):
    return recommend.execute(RuleRun.objects.create(created_at="2026-03-04T00:00Z", params=params))


def test_rules_have_support_confidence_and_lift(baskets):
    run = run_rules(min_support=0.1, min_confidence=0.1)
    assert run.status == "done", run.error
    assert run.counts == {"pairs": 18, "customers": 10, "products": 3, "rules": 6}
    shirt, tie = baskets["shirt"], baskets["tie"]
    r = AssociationRule.objects.get(antecedent=shirt, consequent=tie)
    assert (r.pair_count, r.antecedent_count) == (5, 8)
    assert r.support == 0.5 and r.confidence == 5 / 8
    assert r.lift == pytest.approx((5 / 8) / (7 / 10))
    stat = ProductStat.objects.get(product=shirt)
    assert stat.buyers == 8 and stat.avg_unit_price_base == Decimal("5.0000")


def test_minimum_support_and_confidence_filter(baskets):
    run_rules(min_support=0.4, min_confidence=0.7)
    pairs = set(AssociationRule.objects.values_list("antecedent__name_en", "consequent__name_en"))
    # shirt→tie 5/8 = 0.625 < 0.7; tie→shirt 5/7; premium pairs have support 0.3 < 0.4
    assert pairs == {("Silk tie", "Cotton shirt")}


def test_panel_shows_the_reason_and_excludes_what_is_bought(alice, acme, baskets, client_for):
    run_rules(min_support=0.1, min_confidence=0.1)
    page = client_for(alice).get(f"/customers/{acme.pk}/recommendations/")
    assert page.status_code == 200
    r = page.context["r"]
    assert [x["consequent__name_en"] for x in r["cross_sell"]] == ["Silk tie", "Linen shirt"]
    assert (
        r["cross_sell"][0]["reason"] == "Bought Cotton shirt; 62% of Cotton shirt buyers also buy Silk tie."
    )
    assert [x["product__name_en"] for x in r["up_sell"]] == ["Linen shirt"]
    assert r["up_sell"][0]["reason"] == (
        "Buys Cotton shirt; Linen shirt in the same category (Shirts) costs 140% more per unit and 3 customers buy it."
    )
    assert "62% of Cotton shirt buyers also buy Silk tie" in page.content.decode()


def test_api_recommendations(alice, acme, baskets, api_for):
    run_rules(min_support=0.1, min_confidence=0.1)
    data = api_for(alice).get(f"/api/v1/analysis/companies/{acme.pk}/recommendations").json()
    assert data["products_bought"] == 1
    assert data["cross_sell"][0]["product_name"] == "Silk tie" and data["cross_sell"][0]["customers"] == 5
    assert data["up_sell"][0]["avg_unit_price_base"] == "12.0000"


def test_no_rules_yet(alice, acme, client_for):
    body = client_for(alice).get(f"/customers/{acme.pk}/recommendations/").content.decode()
    assert 'data-testid="no-recommendations"' in body


def test_a_failing_computation_keeps_the_previous_rules(baskets):
    run_rules(min_support=0.1, min_confidence=0.1)
    before = AssociationRule.objects.count()

    def boom(phase):
        raise RuntimeError("disk full")

    run = recommend.execute(RuleRun.objects.create(created_at="2026-03-04T00:00Z"), fail_after=boom)
    assert run.status == "failed" and AssociationRule.objects.count() == before == 6


def test_manager_starts_a_run_from_the_page(carol, baskets, client_for, run_tasks):
    with run_tasks():
        resp = client_for(carol).post("/analysis/recommendations/run/")
    assert resp.status_code == 302
    assert RuleRun.objects.get().status == "done"
    page = client_for(carol).get("/analysis/recommendations/")
    assert page.context["total"] == AssociationRule.objects.count()
