"""The dashboard in a real browser (`make test-browser`): a manager opens it, every chart renders
(ECharts draws a canvas in each widget, the world map included) with no JavaScript error, and a
screenshot is saved to test-artifacts/dashboard.png (and dashboard-zh.png in Chinese). Then one
report's own page: chart and table."""

from __future__ import annotations

import datetime as dt
import importlib
import random
from decimal import Decimal
from pathlib import Path

import pytest
from guide_shots import shot

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
D = Decimal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def business(alice, bob, carol, teams):
    """A year of orders, deals, follow-ups, receivables and grades for the East team."""
    from django.apps import apps
    from django.utils import timezone

    from tradecrm.catalog.models import Product
    from tradecrm.customers.models import Company
    from tradecrm.followups.models import FollowUp
    from tradecrm.grading.models import CompanyGrade, GradeChange, Tier
    from tradecrm.orders.models import Order, OrderLine, Receivable
    from tradecrm.sales.models import Opportunity, OpportunityStageChange, Pipeline, Stage

    # a transactional test before this one may have flushed what the migrations seed
    if not Pipeline.objects.filter(is_default=True).exists():
        importlib.import_module("tradecrm.sales.migrations.0002_default_pipeline").seed(apps, None)
    if not Tier.objects.exists():
        importlib.import_module("tradecrm.grading.migrations.0003_default_tiers").seed(apps, None)
    rnd = random.Random(6)
    today = timezone.localdate()
    countries = ["US", "DE", "GB", "FR", "BR", "AU", "JP", "AE", "ZA", "IN", "CA", "MX"]
    sources = ["trade_show", "b2b", "website", "referral", "customs"]
    products = [Product.objects.create(sku=f"SKU-{i}", name_en=name) for i, name in
                enumerate(["Cotton shirt", "Silk tie", "Ceramic mug", "Dinner plate", "LED bulb", "Towel"])]  # fmt: skip
    companies = []
    for i in range(40):
        owner = alice if i % 2 else bob
        c = Company.objects.create(name=f"Buyer {i}", country=countries[i % len(countries)], owner=owner,
                                   team=owner.team, source=sources[i % len(sources)])  # fmt: skip
        Company.objects.filter(pk=c.pk).update(
            created_at=timezone.now() - dt.timedelta(days=rnd.randint(0, 330))
        )
        companies.append(c)
    for _ in range(160):
        c = rnd.choice(companies)
        day = today - dt.timedelta(days=rnd.randint(0, 330))
        o = Order.objects.create(
            company=c, owner=c.owner, document_date=day, currency="USD", total_amount=D(0)
        )
        total = D(0)
        for p in rnd.sample(products, rnd.randint(1, 3)):
            amount = D(rnd.randint(500, 20000))
            OrderLine.objects.create(order=o, product=p, name=p.name_en, quantity=D(100), unit_price=amount / 100,
                                     amount=amount)  # fmt: skip
            total += amount
        Order.objects.filter(pk=o.pk).update(total_amount=total)
        if rnd.random() < 0.4:
            Receivable.objects.create(order=o, company=c, kind="balance", currency="USD", amount=total,
                                      due_date=day + dt.timedelta(days=rnd.choice([30, 60, 90, 200])))  # fmt: skip
    pipeline = Pipeline.objects.get(is_default=True)
    stages = list(Stage.objects.filter(pipeline=pipeline).exclude(kind="lost").order_by("position"))
    now = timezone.now()
    for i in range(30):
        reach = stages[: rnd.randint(1, len(stages))]
        c = rnd.choice(companies)
        opp = Opportunity.objects.create(name=f"Deal {i}", company=c, pipeline=pipeline, stage=reach[-1], amount=D(5000),
                                         currency="USD", owner=c.owner, stage_entered_at=now,
                                         status="won" if reach[-1].kind == "won" else "open",
                                         expected_close_date=today + dt.timedelta(days=rnd.randint(0, 150)))  # fmt: skip
        prev = None
        for k, s in enumerate(reach):
            OpportunityStageChange.objects.create(opportunity=opp, from_stage=prev, to_stage=s,
                                                  changed_at=now - dt.timedelta(days=40 - 5 * k),
                                                  seconds_in_from=None if prev is None else 5 * 86400)  # fmt: skip
            prev = s
    for i, c in enumerate(companies):
        CompanyGrade.objects.create(company=c, tier="ABCD"[i % 4], score=90 - (i % 4) * 20)
        if i % 3 == 0:
            GradeChange.objects.create(company=c, from_tier="C", to_tier="ABCD"[i % 4],
                                       changed_at=now - dt.timedelta(days=rnd.randint(0, 300)))  # fmt: skip
        due = now - dt.timedelta(days=rnd.randint(-10, 60))
        done = rnd.random() < 0.6
        FollowUp.objects.create(company=c, assignee=c.owner, title="Call", due_at=due, status="done" if done else "open",
                                completed_at=due + dt.timedelta(days=rnd.choice([-1, 2])) if done else None)  # fmt: skip


def test_manager_sees_every_chart(page, live_server, carol, business):
    from tradecrm.reports.dashboard import REPORTS

    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("#id_username", "carol")
    page.fill("#id_password", "pw-carol-12345")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/customers/")
    page.goto(f"{base}/dashboard/")
    for key in REPORTS:
        page.locator(f'[data-testid="chart-{key}"][data-rendered="1"] canvas').first.wait_for()
    page.wait_for_timeout(800)  # let the entry animations end before the screenshot
    shot(page, "dashboard.png", guide="dashboard")
    assert page.js_errors == []

    page.click('[data-testid="nav-reports"]')
    page.click('[data-testid="nav-dashboard"]')
    page.goto(f"{base}/reports/sales_country/")
    page.locator('[data-testid="chart-sales_country"][data-rendered="1"] canvas').first.wait_for()
    assert page.locator('[data-testid="report-row"]').count() == 12
    shot(page, "report-sales-country.png", guide="report-sales-country")
    assert page.js_errors == []

    # the same dashboard in Chinese: the charts take the page's language for their numbers
    page.goto(f"{base}/dashboard/")
    page.click('button[name="language"][value="zh-hans"]')
    page.wait_for_url(f"{base}/dashboard/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    for key in REPORTS:
        page.locator(f'[data-testid="chart-{key}"][data-rendered="1"] canvas').first.wait_for()
    page.wait_for_timeout(800)
    shot(page, "dashboard-zh.png", guide="dashboard-zh")
    assert page.js_errors == []
