"""Dashboard and reports: figures per persona (visibility), filters and their errors, pages, API,
XLSX/PDF export. Small data made directly with the ORM; time frozen at 2026-03-04."""

import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.db.models import F
from django.test import Client
from django.utils import timezone

from tradecrm.accounts.models import ApiToken
from tradecrm.catalog.models import Product
from tradecrm.customers.models import Company, CompanyFollower
from tradecrm.followups.models import FollowUp
from tradecrm.grading.models import CompanyGrade, GradeChange
from tradecrm.orders.models import Order, OrderLine, Receivable
from tradecrm.reports import dashboard as rd
from tradecrm.reports import rollups
from tradecrm.sales.models import Opportunity, OpportunityStageChange, Pipeline, Stage

D = Decimal
NOW = dt.datetime(2026, 3, 4, 2, 0, tzinfo=dt.UTC)
PERIOD = {"from": "2026-01-01", "to": "2026-03-31"}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _aware(y, m, d, h=10):
    return dt.datetime(y, m, d, h, tzinfo=dt.UTC)


@pytest.fixture
def world(alice, bob, carol, dave, admin, teams):
    east, west = teams["east"], teams["west"]
    ca = Company.objects.create(name="Acme", country="US", owner=alice, team=east, source="trade_show")
    cb = Company.objects.create(name="Bern AG", country="DE", owner=bob, team=east, source="b2b")
    cd = Company.objects.create(name="Dupont", country="FR", owner=dave, team=west, source="website")
    Company.objects.filter(pk__in=[ca.pk, cb.pk]).update(created_at=_aware(2026, 2, 10))
    Company.objects.filter(pk=cd.pk).update(created_at=_aware(2026, 1, 5))
    mug = Product.objects.create(sku="MUG", name_en="Mug", name_zh="杯子")
    plate = Product.objects.create(sku="PLT", name_en="Plate")

    def order(company, owner, day, total, currency="USD", rate=None, status="confirmed", lines=()):
        o = Order.objects.create(company=company, owner=owner, document_date=day, currency=currency, fx_rate=rate,
                                 total_amount=D(total), status=status)  # fmt: skip
        for product, amount in lines:
            OrderLine.objects.create(order=o, product=product, name=product.name_en if product else "Free text",
                                     quantity=D("10"), unit_price=D(amount) / 10, amount=D(amount))  # fmt: skip
        return o

    o1 = order(ca, alice, dt.date(2026, 1, 10), "1000", lines=[(mug, "600"), (plate, "400")])
    order(ca, alice, dt.date(2026, 2, 15), "500", currency="EUR", rate=D("1.1"), lines=[(mug, "500")])
    order(ca, alice, dt.date(2026, 2, 20), "9999", status="cancelled", lines=[(mug, "9999")])
    order(ca, alice, dt.date(2024, 1, 1), "777")
    o_bob = order(cb, bob, dt.date(2026, 2, 1), "200", lines=[(None, "200")])
    order(cb, bob, dt.date(2026, 2, 2), "300", currency="GBP")  # no rate: unconverted
    order(cd, dave, dt.date(2026, 2, 1), "5000", lines=[(plate, "5000")])
    Receivable.objects.create(order=o1, company=ca, kind="balance", due_date=dt.date(2026, 1, 20),
                              amount=D("1000"), paid_amount=D("100"), currency="USD", status="partial")  # fmt: skip
    Receivable.objects.create(order=o_bob, company=cb, kind="balance", due_date=dt.date(2026, 3, 10),
                              amount=D("200"), currency="USD")  # fmt: skip

    def fu(company, who, due, status="open", done=None):
        FollowUp.objects.create(company=company, assignee=who, title="Call", due_at=due, status=status,
                                completed_at=done)  # fmt: skip

    fu(ca, alice, _aware(2026, 2, 1), "done", _aware(2026, 1, 31))
    fu(ca, alice, _aware(2026, 2, 2), "done", _aware(2026, 2, 5))
    fu(ca, alice, _aware(2026, 2, 3))
    fu(ca, alice, _aware(2026, 3, 10))
    fu(ca, alice, _aware(2026, 2, 4), "cancelled")
    fu(cd, dave, _aware(2026, 2, 3))

    CompanyGrade.objects.create(company=ca, tier="A", score=80)
    CompanyGrade.objects.create(company=cb, tier="B", score=60)
    CompanyGrade.objects.create(company=cd, tier="A", score=90)
    GradeChange.objects.create(company=ca, from_tier="B", to_tier="A", changed_at=_aware(2026, 2, 1))
    GradeChange.objects.create(company=cb, from_tier="A", to_tier="B", changed_at=_aware(2026, 2, 1))
    GradeChange.objects.create(company=cd, from_tier="C", to_tier="A", changed_at=_aware(2026, 1, 1))

    pipeline = Pipeline.objects.filter(is_default=True).first()
    stages = {s.key: s for s in Stage.objects.filter(pipeline=pipeline)}

    def deal(company, owner, path, status="open"):
        current = stages[path[-1]]
        opp = Opportunity.objects.create(name="Deal", company=company, pipeline=pipeline, stage=current,
                                         status=status, amount=D("1000"), currency="USD", owner=owner,
                                         stage_entered_at=_aware(2026, 2, 1), expected_close_date=dt.date(2026, 4, 15),
                                         probability=None)  # fmt: skip
        prev = None
        for i, key in enumerate(path):
            OpportunityStageChange.objects.create(opportunity=opp, from_stage=prev, to_stage=stages[key],
                                                  changed_at=_aware(2026, 2, 1 + i * 2),
                                                  seconds_in_from=None if prev is None else 2 * 86400)  # fmt: skip
            prev = stages[key]
        return opp

    deal(ca, alice, ["inquiry", "quoted", "sample"])
    deal(ca, alice, ["inquiry", "negotiation"])  # skipped quoted and sample: passed them
    deal(cb, bob, ["inquiry", "lost"], status="lost")
    deal(cd, dave, ["inquiry", "quoted"])
    return {"ca": ca, "cb": cb, "cd": cd, "mug": mug, "plate": plate, "stages": stages}


@pytest.fixture(params=["live", "rollups"])
def figures(request, world):
    """The same figures whether read live or from the rollups."""
    if request.param == "rollups":
        rollups.refresh(full=True)
    return world


@pytest.fixture
def rolled(world):
    rollups.refresh(full=True)
    return world


def _f(user, **params):
    return rd.parse_filters(user, {**PERIOD, **params})


def _rows(user, key, **params):
    return rd.report_data(user, key, _f(user, **params)).rows


# --- figures and visibility ---------------------------------------------------------------------


def test_sales_by_month_in_base_currency_scoped_to_the_viewer(figures, alice, carol, admin, dave):
    assert [(r["month"], r["orders"], r["amount"]) for r in _rows(alice, "sales_month")] == [
        ("2026-01", 1, D("1000.00")),
        ("2026-02", 1, D("550.00")),
        ("2026-03", 0, D("0.00")),
    ]
    carol_rows = _rows(carol, "sales_month")
    assert [r["amount"] for r in carol_rows] == [D("1000.00"), D("750.00"), D("0.00")]
    assert [r["orders"] for r in carol_rows] == [1, 3, 0]  # the GBP order counts, not in the amount
    assert [r["amount"] for r in _rows(admin, "sales_month")] == [D("1000.00"), D("5750.00"), D("0.00")]
    assert [r["amount"] for r in _rows(dave, "sales_month")] == [D("0"), D("5000.00"), D("0")]
    data = rd.report_data(carol, "sales_month", _f(carol))
    assert data.notes and "1 orders" in data.notes[0]


def test_sales_by_country_rep_and_product(figures, carol, alice):
    assert [(r["code"], r["amount"]) for r in _rows(carol, "sales_country")] == [
        ("US", D("1550.00")),
        ("DE", D("200.00")),
    ]
    assert [(r["rep"], r["orders"], r["amount"]) for r in _rows(carol, "sales_rep")] == [
        ("Alice", 2, D("1550.00")),
        ("Bob", 2, D("200.00")),
    ]
    products = _rows(carol, "sales_product")
    assert [(r["sku"], r["lines"], r["amount"]) for r in products] == [
        ("MUG", 2, D("1150.00")),
        ("PLT", 1, D("400.00")),
        ("", 1, D("200.00")),
    ]
    assert products[-1]["product"] == "Lines without a catalog product"
    assert [r["amount"] for r in _rows(alice, "sales_product")] == [D("1150.00"), D("400.00")]


def test_team_filter_narrows_and_followed_customers_count_for_a_rep(figures, carol, bob, admin, teams):
    assert _rows(admin, "sales_country", team=str(teams["west"].pk)) == [
        {"code": "FR", "country": "France", "orders": 1, "amount": D("5000.00")}
    ]
    assert [r["code"] for r in _rows(carol, "sales_country", team=str(teams["east"].pk))] == ["US", "DE"]
    assert [r["code"] for r in _rows(bob, "sales_country")] == ["DE"]
    CompanyFollower.objects.create(company=figures["ca"], user=bob)
    assert [r["code"] for r in _rows(bob, "sales_country")] == ["US", "DE"]


def test_funnel_counts_passed_stages_conversion_and_time(figures, carol):
    rows = {r["stage"]: r for r in _rows(carol, "funnel")}
    # alice's two deals and bob's lost one; dave's is not carol's
    assert rows["Inquiry"]["reached"] == 3
    assert rows["Quoted"]["reached"] == 2 and rows["Quoted"]["conversion"] == pytest.approx(66.7)
    assert rows["Sample"]["reached"] == 2
    assert rows["Negotiation"]["reached"] == 1 and rows["Negotiation"]["conversion"] == 50.0
    assert rows["Won"]["reached"] == 0
    assert rows["Inquiry"]["average_days"] == 2.0 and rows["Inquiry"]["now"] == 0
    assert rows["Sample"]["now"] == 1 and rows["Negotiation"]["now"] == 1


def test_forecast_weights_by_stage_probability(figures, alice):
    rows = {r["month"]: r for r in _rows(alice, "forecast")}
    assert rows["2026-04"]["deals"] == 2
    assert rows["2026-04"]["amount"] == D("2000.00")
    assert rows["2026-04"]["weighted"] == D("1200.00")  # sample 50 % + negotiation 70 %
    assert "2026-08" in rows and "2026-09" not in rows  # this month and five more


def test_tiers_and_movement(figures, carol, admin):
    tiers = {r["tier"]: r["customers"] for r in _rows(carol, "tiers")}
    assert tiers["A"] == 1 and tiers["B"] == 1 and tiers.get("C") == 0
    movement = _rows(carol, "tier_movement")
    assert sorted((r["from_tier"], r["to_tier"], r["direction"], r["customers"]) for r in movement) == [
        ("A", "B", "down", 1),
        ("B", "A", "up", 1),
    ]
    chart = rd.report_data(admin, "tier_movement", _f(admin)).chart
    assert chart["series"][0]["data"] == [1, 1, 0] and chart["series"][1]["data"] == [0, -1, 0]


def test_new_customers_by_source(figures, carol, admin):
    assert {r["source"]: r["customers"] for r in _rows(carol, "new_customers")} == {
        "Trade show": 1,
        "B2B platform": 1,
    }
    data = rd.report_data(admin, "new_customers", _f(admin))
    assert data.totals == {"customers": 3}
    assert {s["name"]: s["data"] for s in data.chart["series"]}["Website"] == [1, 0, 0]


def test_followup_compliance(figures, carol):
    assert _rows(carol, "followups") == [
        {"rep": "Alice", "on_time": 1, "late": 1, "overdue": 1, "pending": 1, "compliance": 33.3}
    ]


def test_receivables_aging(figures, carol, admin):
    rows = {r["bucket"]: r for r in _rows(carol, "aging")}
    assert rows["Not yet due"]["amount"] == D("200.00")
    assert rows["31–60 days"]["amount"] == D("900.00")  # due Jan 20, 43 days ago, 100 paid
    assert rows["1–30 days"]["receivables"] == 0
    assert rd.report_data(carol, "aging", _f(carol)).totals["amount"] == D("1100.00")


# --- filters ------------------------------------------------------------------------------------


def test_default_period_is_the_last_twelve_whole_months(alice):
    f = rd.parse_filters(alice, {})
    assert (f.date_from, f.date_to) == (dt.date(2025, 4, 1), dt.date(2026, 3, 31))


@pytest.mark.parametrize(("params", "field", "text"), [
    ({"from": "2026-03-01", "to": "2026-02-01"}, "to", "before its start"),
    ({"from": "01/03/2026"}, "from", "is not a date"),
    ({"to": "2026-02-30"}, "to", "is not a date"),
    ({"team": "abc"}, "team", "Unknown team"),
])  # fmt: skip
def test_bad_filters_name_the_parameter(alice, params, field, text):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        rd.parse_filters(alice, params)
    assert text in exc.value.message_dict[field][0]


def test_a_team_outside_the_viewer_is_refused(alice, dave, carol, teams):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        rd.parse_filters(dave, {"team": str(teams["east"].pk)})
    assert [t.name for t in rd.teams_for(carol)] == ["Sales", "East"]
    assert [t.name for t in rd.teams_for(alice)] == ["East"]


# --- pages --------------------------------------------------------------------------------------


def test_dashboard_page_has_every_widget(world, client_for, carol):
    resp = client_for(carol).get("/dashboard/", PERIOD)
    assert resp.status_code == 200
    html = resp.content.decode()
    for key in rd.REPORTS:
        assert f'data-testid="chart-{key}"' in html
    assert "vendor/echarts/echarts.min.js" in html and "countries.geo.json" in html
    assert 'data-testid="nav-dashboard"' in html


def test_dashboard_bad_period_is_400_with_the_message(client_for, carol):
    resp = client_for(carol).get("/dashboard/", {"from": "2026-03-01", "to": "2026-01-01"})
    assert resp.status_code == 400
    assert "is before its start" in resp.content.decode()
    assert 'data-testid="chart-' not in resp.content.decode()


def test_report_page_table(world, client_for, carol):
    resp = client_for(carol).get("/reports/sales_rep/", PERIOD)
    html = resp.content.decode()
    assert resp.status_code == 200
    assert html.count('data-testid="report-row"') == 2
    assert "1,550.00" in html and 'data-testid="export-xlsx"' in html
    assert client_for(carol).get("/reports/nope/").status_code == 404


def test_report_page_hides_export_without_permission(world, client_for, alice):
    html = client_for(alice).get("/reports/sales_rep/", PERIOD).content.decode()
    assert 'data-testid="export-xlsx"' not in html
    assert (
        client_for(alice).get("/reports/sales_rep/export/", {**PERIOD, "format": "xlsx"}).status_code == 403
    )


def test_export_xlsx_has_the_table(world, client_for, carol):
    from python_calamine import CalamineWorkbook

    from tradecrm.audit.models import AuditEvent

    resp = client_for(carol).get("/reports/sales_country/export/", {**PERIOD, "format": "xlsx"})
    assert resp.status_code == 200
    assert resp["Content-Disposition"] == 'attachment; filename="sales_country-20260101-20260331.xlsx"'
    rows = CalamineWorkbook.from_filelike(io.BytesIO(resp.content)).get_sheet_by_index(0).to_python()
    table = [r for r in rows if r and r[0] in ("Code", "US", "DE", "Total")]
    assert table[0][:4] == ["Code", "Country", "Orders", "Amount (USD)"]
    assert table[1][:4] == ["US", "United States", 2.0, 1550.0]
    assert table[-1][0] == "Total" and table[-1][3] == 1750.0
    event = AuditEvent.objects.get(action="export", object_type="report")
    assert event.changes["report"] == "sales_country" and event.changes["rows"] == 2


def test_export_pdf(world, client_for, carol):
    resp = client_for(carol).get("/reports/aging/export/", {**PERIOD, "format": "pdf"})
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    assert resp.content.startswith(b"%PDF")


def test_export_unknown_format_and_bad_period(client_for, carol):
    assert client_for(carol).get("/reports/aging/export/", {"format": "doc"}).status_code == 400
    resp = client_for(carol).get("/reports/aging/export/", {"from": "2026-03-01", "to": "2026-01-01"})
    assert resp.status_code == 400 and "is before its start" in resp.content.decode()


# --- API ----------------------------------------------------------------------------------------


@pytest.fixture
def api_for(db):
    def make(user):
        _tok, raw = ApiToken.issue(user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


def test_api_report_data(world, api_for, alice):
    resp = api_for(alice).get("/api/v1/reports/sales_month", PERIOD)
    assert resp.status_code == 200
    body = resp.json()
    assert body["period"] == {"from": "2026-01-01", "to": "2026-03-31", "team": None}
    assert body["base_currency"] == "USD"
    assert [(r["month"], r["amount"]) for r in body["rows"]] == [
        ("2026-01", "1000.00"),
        ("2026-02", "550.00"),
        ("2026-03", "0.00"),
    ]
    assert body["chart"]["series"][0]["data"] == [1000.0, 550.0, 0.0]
    assert [c["key"] for c in body["columns"]] == ["month", "orders", "amount"]


def test_api_report_list_and_unknown(api_for, alice):
    keys = [r["key"] for r in api_for(alice).get("/api/v1/reports").json()]
    assert keys == list(rd.REPORTS)
    assert api_for(alice).get("/api/v1/reports/nope").status_code == 404


def test_api_bad_period_and_foreign_team_are_422(api_for, dave, teams):
    resp = api_for(dave).get("/api/v1/reports/aging", {"from": "2026-03-01", "to": "2026-01-01"})
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["field"] == "to"
    assert "before its start" in resp.json()["detail"][0]["message"]
    resp = api_for(dave).get("/api/v1/reports/aging", {"team": str(teams["east"].pk)})
    assert resp.status_code == 422 and resp.json()["detail"][0]["field"] == "team"


def test_api_dave_sees_only_his_own(world, api_for, dave):
    body = api_for(dave).get("/api/v1/reports/sales_country", PERIOD).json()
    assert [r["code"] for r in body["rows"]] == ["FR"]
    body = api_for(dave).get("/api/v1/reports/followups", PERIOD).json()
    assert [r["rep"] for r in body["rows"]] == ["Dave"]


def test_api_export(world, api_for, alice, carol):
    assert api_for(alice).get("/api/v1/reports/tiers/export", {"format": "xlsx"}).status_code == 403
    resp = api_for(carol).get("/api/v1/reports/tiers/export", {"format": "xlsx"})
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/vnd.openxmlformats")


def test_zh_names_of_products(world, carol):
    from django.utils import translation

    with translation.override("zh-hans"):
        assert _rows(carol, "sales_product")[0]["product"] == "杯子"
    assert timezone.now() == NOW


# --- rollups ------------------------------------------------------------------------------------

KEYS = ("sales_month", "sales_country", "sales_rep", "sales_product", "tiers", "new_customers", "aging")


def _same_as_live(users, **params):
    for user in users:
        for key in KEYS:
            f = _f(user, **params)
            rolled = rd.report_data(user, key, f)
            live = rd.report_data(user, key, f, use_rollups=False)
            assert rolled.rows == live.rows, (user.username, key)
            assert rolled.totals == live.totals, (user.username, key)


def test_rollups_are_used_for_whole_months_and_live_for_the_rest(rolled, carol):
    ctx = rd.context_for(carol, _f(carol, **{"from": "2026-01-15", "to": "2026-03-04"}))
    assert ctx.plan == ([dt.date(2026, 2, 1)], [(dt.date(2026, 1, 15), dt.date(2026, 1, 31)),
                                                 (dt.date(2026, 3, 1), dt.date(2026, 3, 4))])  # fmt: skip
    assert rd.context_for(carol, _f(carol)).plan == ([dt.date(2026, 1, 1), dt.date(2026, 2, 1),
                                                      dt.date(2026, 3, 1)], [])  # fmt: skip
    assert rd.context_for(carol, _f(carol, **{"from": "2026-02-03", "to": "2026-02-20"})).plan == (
        [],
        [(dt.date(2026, 2, 3), dt.date(2026, 2, 20))],
    )


def test_rollups_match_live_figures_for_every_persona_and_period(rolled, alice, bob, carol, dave, admin):
    CompanyFollower.objects.create(company=rolled["cd"], user=carol)  # followed outside her team
    _same_as_live([alice, bob, carol, dave, admin])
    _same_as_live([carol, admin], **{"from": "2026-01-15", "to": "2026-02-20"})
    # partial months at both ends of a whole one: their lines and open receivables are read by order
    # id and valued at each order's rate in Python (a rated, an unconvertible and a cancelled order)
    ca, cb = rolled["ca"], rolled["cb"]
    for company, day, currency, rate, status in ((ca, dt.date(2026, 1, 20), "EUR", D("1.0837"), "confirmed"),
                                                 (cb, dt.date(2026, 3, 2), "GBP", None, "confirmed"),
                                                 (cb, dt.date(2026, 1, 25), "USD", None, "cancelled")):  # fmt: skip
        o = Order.objects.create(company=company, owner=company.owner, document_date=day, currency=currency,
                                 fx_rate=rate, total_amount=D("333.33"), status=status)  # fmt: skip
        for product, amount in ((rolled["mug"], "111.11"), (rolled["plate"], "222.22")):
            OrderLine.objects.create(order=o, product=product, name="x", quantity=D("3"), unit_price=D("1"),
                                     amount=D(amount))  # fmt: skip
        Receivable.objects.create(order=o, company=company, kind="balance", due_date=day + dt.timedelta(days=30),
                                  amount=D("333.33"), paid_amount=D("33.33"), currency=currency, status="partial")  # fmt: skip
    _same_as_live([alice, bob, carol, admin], **{"from": "2026-01-15", "to": "2026-03-04"})
    ctx = rd.context_for(carol, _f(carol, **{"from": "2026-01-15", "to": "2026-03-04"}))
    assert len(ctx.edge_orders) >= 3 and ctx.edges_by_ids
    assert any(r["code"] == "FR" for r in _rows(carol, "sales_country"))


def test_rollups_stay_right_when_orders_and_customers_change(rolled, alice, bob, carol, dave, admin, frozen):
    ca, cb = rolled["ca"], rolled["cb"]
    later = timezone.now() + dt.timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        o = Order.objects.create(company=cb, owner=bob, document_date=dt.date(2026, 1, 20), currency="USD",
                                 total_amount=D("70"))  # fmt: skip
        OrderLine.objects.create(order=o, product=rolled["plate"], name="Plate", quantity=D(1), unit_price=D(70),
                                 amount=D(70))  # fmt: skip
        first = (
            Order.objects.filter(company=ca)
            .order_by("document_date")
            .exclude(document_date__year=2024)
            .first()
        )
        first.status = "cancelled"
        first.save()  # bumps updated_at, as the order services do
        ca.refresh_from_db()
        ca.owner = dave
        ca.team_id = dave.team_id
        ca.save()
        Receivable.objects.filter(company=cb).update(paid_amount=D("200"), status="paid")
        Company.objects.create(name="New", country="JP", owner=alice, team=alice.team, source="referral")
        CompanyGrade.objects.filter(company=cb).update(tier="C")
        GradeChange.objects.create(company=cb, from_tier="B", to_tier="C", changed_at=timezone.now())
        done = rollups.refresh()
    assert done["full"] is False
    assert "2026-01-01" in done["order_months"] and "2026-02-01" in done["order_months"]
    _same_as_live([alice, bob, carol, dave, admin])
    assert [r["code"] for r in _rows(carol, "sales_country")] == ["DE"]
    assert [r["amount"] for r in _rows(dave, "sales_month")][:2] == [D("0.00"), D("5550.00")]


def test_refresh_task_builds_everything_the_first_time(world):
    from tradecrm.reports.models import SalesRollup
    from tradecrm.reports.tasks import rollups_refresh

    assert rollups.state() is None
    result = rollups_refresh.call_local()
    assert result["full"] is True and rollups.state() is not None
    assert SalesRollup.objects.filter(month=dt.date(2026, 2, 1)).count() == 3  # alice's, bob's, dave's
    assert rollups_refresh.call_local()["full"] is False


def test_followed_customers_are_one_parameter_and_match_live(rolled, carol):
    """The followed-only customers go to the live reads as one parameter (a JSON list on SQLite):
    the same figures as the live tables (the mid-month period: test_rollups_match_live_figures…)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    CompanyFollower.objects.create(company=rolled["cd"], user=carol)  # outside her team
    created = dt.datetime(2026, 2, 28, 23, 30, tzinfo=dt.UTC)  # February in UTC, March in Shanghai
    Company.objects.filter(pk=rolled["cd"].pk).update(created_at=created, source="cold")
    ctx = rd.context_for(carol, _f(carol))
    assert ctx.followed_only == [rolled["cd"].pk]
    assert [kind for kind, _q in ctx.live_parts("company__", "document_date")] == ["followed"]
    with CaptureQueriesContext(connection) as queries:
        rows = rd.report_data(carol, "sales_country", _f(carol)).rows
    assert any(r["code"] == "FR" for r in rows)
    one_parameter = "json_each" if connection.vendor == "sqlite" else "= ANY("
    assert any(one_parameter in q["sql"] for q in queries.captured_queries)
    feb = {"from": "2026-02-01", "to": "2026-02-28"}
    assert {r["source"]: r["customers"] for r in _rows(carol, "new_customers", **feb)}["Cold outreach"] == 1
    _same_as_live([carol], **feb)
    CompanyFollower.objects.filter(user=carol).delete()
    assert "Cold outreach" not in {r["source"] for r in _rows(carol, "new_customers", **feb)}


def test_id_in_lookup_with_no_ids_and_many_ids(rolled):
    assert not Company.objects.filter(rd.IdIn(F("id"), [])).exists()
    many = [rolled["ca"].pk, rolled["cb"].pk, *range(10**9, 10**9 + 40_000)]  # over SQLite's parameter cap
    assert set(Company.objects.filter(rd.IdIn(F("id"), many)).values_list("pk", flat=True)) == {
        rolled["ca"].pk,
        rolled["cb"].pk,
    }


def test_edge_reads_leave_the_planner_settings_as_they_were(rolled, carol):
    """PostgreSQL: the partial months' orders are joined by nested loops only (nested_loop_joins);
    the settings end with that read, so the other reports are planned as usual."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("planner settings of PostgreSQL")
    ca = rolled["ca"]
    o = Order.objects.create(company=ca, owner=ca.owner, document_date=dt.date(2026, 1, 20), currency="USD",
                             total_amount=D("10"))  # fmt: skip
    ctx = rd.context_for(carol, _f(carol, **{"from": "2026-01-15", "to": "2026-03-04"}))
    assert [row[0] for row in ctx.edge_orders] == [o.pk]
    with connection.cursor() as cur:
        cur.execute("SHOW enable_mergejoin")
        assert cur.fetchone()[0] == "on"
        cur.execute("SHOW enable_hashjoin")
        assert cur.fetchone()[0] == "on"
