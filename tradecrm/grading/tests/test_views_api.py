"""Pages and API of grading: the customer panel (lazy), overrides, settings with bad input, runs,
the CLI; dave (West) gets 404 for alice's customer everywhere."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from tradecrm.accounts.models import ApiToken
from tradecrm.followups.notifications import render
from tradecrm.grading.models import CompanyGrade, GradeChange, GradingConfig, GradingRun, Tier, VetoRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_for(db):
    def make(user):
        _tok, raw = ApiToken.issue(user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


def put(c, url, body):
    return c.put(url, json.dumps(body), content_type="application/json")


def post(c, url, body):
    return c.post(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def graded(company, order, run_grading):
    c = company(name="Acme Imports LLC")
    for d in (10, 40, 70, 100, 130, 160, 190, 220):
        order(c, d, "30000")
    run_grading()
    return c


def test_dave_gets_404_for_a_customer_he_cannot_see(graded, dave, client_for, api_for):
    web, api = client_for(dave), api_for(dave)
    assert web.get(f"/customers/{graded.pk}/grade/").status_code == 404
    assert (
        web.post(
            f"/customers/{graded.pk}/grade/override/", {"tier": "D", "reason": "x", "until": "2026-04-01"}
        ).status_code
        == 404
    )
    assert web.post(f"/customers/{graded.pk}/grade/override/clear/").status_code == 404
    assert api.get(f"/api/v1/grading/grades/{graded.pk}").status_code == 404
    assert (
        post(
            api,
            f"/api/v1/grading/grades/{graded.pk}/override",
            {"tier": "D", "reason": "x", "until": "2026-04-01"},
        ).status_code
        == 404
    )
    assert api.delete(f"/api/v1/grading/grades/{graded.pk}/override").status_code == 404
    assert api.get(f"/api/v1/grading/grades/{graded.pk + 999}").status_code == 404
    assert api.get("/api/v1/grading/grades").json()["items"] == []


def test_the_panel_explains_the_score(graded, alice, client_for):
    r = client_for(alice).get(f"/customers/{graded.pk}/grade/")
    html = r.content.decode()
    assert r.status_code == 200
    assert 'data-testid="grade-tier"' in html and "A · Key" in html and "76.5 / 100" in html
    assert "8 orders in the window" in html and "Reaches 8: 100 points." in html
    assert "No data yet: neutral 50 points." in html
    assert "Quarterly business review" in html
    assert 'data-testid="override-form"' not in html  # alice is a sales rep
    page = client_for(alice).get(f"/customers/{graded.pk}/")
    assert f'hx-get="/customers/{graded.pk}/grade/"' in page.content.decode()


def test_manager_overrides_with_reason_and_expiry_and_bad_input_is_named(
    graded, carol, client_for, alice, django_capture_on_commit_callbacks
):
    from tradecrm.followups.models import Notification

    c = client_for(carol)
    bad = c.post(
        f"/customers/{graded.pk}/grade/override/", {"tier": "Z", "reason": " ", "until": "2026-03-01"}
    )
    assert bad.status_code == 422
    text = bad.content.decode()
    assert "Unknown tier “Z”" in text and "Give the reason" in text and "must not be in the past" in text
    with django_capture_on_commit_callbacks(execute=True):
        ok = c.post(
            f"/customers/{graded.pk}/grade/override/",
            {"tier": "C", "reason": "Paying late lately", "until": "2026-06-30"},
        )
    assert (
        ok.status_code == 200
        and "Set to C by hand until 2026-06-30: Paying late lately" in ok.content.decode()
    )
    g = CompanyGrade.objects.get(company=graded)
    assert (g.tier, g.computed_tier, g.override_by) == ("C", "A", carol)
    ch = GradeChange.objects.filter(reason="override").get()
    assert (ch.from_tier, ch.to_tier, ch.changed_by, ch.note) == ("A", "C", carol, "Paying late lately")
    n = Notification.objects.get(kind="tier_changed")
    assert n.user == alice and render(n) == "Acme Imports LLC was set to tier C by hand (was A)"
    cleared = c.post(f"/customers/{graded.pk}/grade/override/clear/")
    assert cleared.status_code == 200 and CompanyGrade.objects.get(company=graded).tier == "A"


def test_sales_rep_may_not_override(graded, alice, api_for):
    r = post(
        api_for(alice),
        f"/api/v1/grading/grades/{graded.pk}/override",
        {"tier": "A", "reason": "x", "until": "2026-04-01"},
    )
    assert r.status_code == 403


def test_api_grade_list_and_filters(graded, company, alice, api_for, run_grading):
    company(name="Fresh lead")
    run_grading()
    api = api_for(alice)
    one = api.get(f"/api/v1/grading/grades/{graded.pk}").json()
    assert one["tier"] == "A" and one["score"] == 76.5 and one["tier_name"] == "Key"
    assert [d["code"] for d in one["breakdown"]][:3] == ["frequency", "amount", "recency"]
    assert sum(d["contribution"] for d in one["breakdown"]) == pytest.approx(76.5, abs=0.3)
    assert one["lifecycle"] == "active" and one["last_order_on"] == "2026-02-22"
    page = api.get("/api/v1/grading/grades?tier=A").json()
    assert [r["company_name"] for r in page["items"]] == ["Acme Imports LLC"]
    page = api.get("/api/v1/grading/grades?lifecycle=acquisition").json()
    assert [r["company_name"] for r in page["items"]] == ["Fresh lead"]
    page = api.get("/api/v1/grading/grades?limit=1").json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    nxt = api.get(f"/api/v1/grading/grades?limit=1&cursor={page['next_cursor']}").json()
    assert [r["company_name"] for r in nxt["items"]] == ["Fresh lead"] and nxt["next_cursor"] is None
    bad = api.get("/api/v1/grading/grades?tier=Z&segment=nope")
    assert bad.status_code == 422
    fields = {d["field"] for d in bad.json()["detail"]}
    assert fields == {"tier", "segment"}


def test_api_config_refuses_bad_weights_with_specific_messages(admin, api_for):
    api = api_for(admin)
    cfg = api.get("/api/v1/grading/config").json()
    data = cfg["config"]
    data["dimensions"]["amount"]["weight"] = -5
    r = put(api, "/api/v1/grading/config", {"config": data})
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {
            "field": "dimensions.amount.weight",
            "message": "The weight of “Purchase amount” must not be negative (-5).",
        }
    ]
    for dim in data["dimensions"].values():
        dim["weight"] = 0
    r = put(api, "/api/v1/grading/config", {"config": data})
    assert r.status_code == 422 and "All weights are zero" in r.json()["detail"][0]["message"]
    data["dimensions"]["amount"]["weight"] = 10
    data["dimensions"]["amount"]["thresholds"] = [{"value": 5, "points": 10}, {"value": 5, "points": 20}]
    r = put(api, "/api/v1/grading/config", {"config": data})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "dimensions.amount.thresholds"
    data["dimensions"]["amount"]["thresholds"] = [{"value": 5, "points": 10}]
    r = put(api, "/api/v1/grading/config", {"config": data, "version": cfg["version"]})
    assert r.status_code == 200 and r.json()["version"] == cfg["version"] + 1
    assert GradingConfig.objects.get().data["dimensions"]["amount"]["weight"] == 10


def test_api_tiers_refuse_overlap_and_unknown_veto_tier(admin, alice, api_for):
    api = api_for(admin)
    tiers = api.get("/api/v1/grading/tiers").json()
    assert [t["code"] for t in tiers] == ["A", "B", "C", "D"]
    tiers[1]["min_score"] = 80  # B above A
    r = put(api, "/api/v1/grading/tiers", {"tiers": tiers})
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {
            "field": "tiers.2.min_score",
            "message": "Tier thresholds overlap: “B” (80.0) must be below “A” (75.0).",
        }
    ]
    tiers[1]["min_score"] = 55
    tiers[0]["name"] = "Strategic"
    r = put(api, "/api/v1/grading/tiers", {"tiers": tiers})
    assert r.status_code == 200 and Tier.objects.get(code="A").name == "Strategic"
    # removing a tier a veto rule caps at is refused
    r = put(api, "/api/v1/grading/tiers", {"tiers": tiers[:2]})
    assert r.status_code == 422 and "Credit rating D" in r.json()["detail"][0]["message"]
    r = post(
        api,
        "/api/v1/grading/vetoes",
        {"name": "Sanctions", "kind": "country", "countries": ["IR", "XX"], "cap_tier": "Q"},
    )
    assert r.status_code == 422
    assert {d["field"] for d in r.json()["detail"]} == {"countries", "cap_tier"}
    r = post(
        api,
        "/api/v1/grading/vetoes",
        {"name": "Sanctions", "kind": "country", "countries": ["ir"], "cap_tier": "D"},
    )
    assert r.status_code == 201 and VetoRule.objects.get(name="Sanctions").countries == ["IR"]
    assert put(api_for(alice), "/api/v1/grading/tiers", {"tiers": tiers}).status_code == 403
    assert api_for(alice).get("/api/v1/grading/config").status_code == 403


def test_run_from_api_and_page_in_the_worker(
    admin, alice, api_for, client_for, graded, django_capture_on_commit_callbacks
):
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            r = post(api_for(admin), "/api/v1/grading/runs", {})
        assert r.status_code == 202
        runs = api_for(admin).get("/api/v1/grading/runs").json()
        assert runs[0]["status"] == "done" and runs[0]["trigger"] == "api" and "orders" in runs[0]["phases"]
        with django_capture_on_commit_callbacks(execute=True):
            page = client_for(admin).post("/grading/runs/start/")
        assert page.status_code == 302
    finally:
        HUEY.immediate = False
    assert GradingRun.objects.filter(trigger="manual", status="done").count() == 1
    html = client_for(admin).get("/grading/runs/").content.decode()
    assert "Recalculate now" in html and "orders" in html
    assert post(api_for(alice), "/api/v1/grading/runs", {}).status_code == 403
    assert client_for(alice).get("/grading/runs/").status_code == 403


def test_task_call_local(graded):
    from tradecrm.grading.tasks import grading_nightly

    run_id = grading_nightly.call_local()
    assert GradingRun.objects.get(pk=run_id).trigger == "schedule"


def test_settings_page_saves_and_names_bad_input(admin, client_for, alice):
    c = client_for(admin)
    page = c.get("/grading/settings/")
    assert page.status_code == 200 and "Purchase amount" in page.content.decode()
    form = {
        "version": "1",
        "window_days": "365",
        "life_new_days": "90",
        "life_default_interval_days": "180",
        "life_at_risk": "1.5",
        "life_dormant": "2.5",
        "life_lost": "4",
    }
    for code in (
        "frequency",
        "amount",
        "recency",
        "repeat",
        "timeliness",
        "satisfaction",
        "engagement",
        "potential",
    ):
        form[f"weight_{code}"] = "10"
        form[f"thresholds_{code}"] = "1 = 50\n2 = 100"
        form[f"neutral_{code}"] = "50"
    form["weight_amount"] = "-1"
    r = c.post("/grading/settings/config/", form)
    assert r.status_code == 422 and "must not be negative" in r.content.decode()
    form["weight_amount"] = "30"
    assert c.post("/grading/settings/config/", form).status_code == 302
    assert GradingConfig.objects.get().data["dimensions"]["amount"]["weight"] == 30
    tiers = {
        "tier_count": "1",
        "code_0": "A",
        "name_0": "Key",
        "min_score_0": "50",
        "color_0": "#d63939",
        "code_1": "B",
        "name_1": "Rest",
        "min_score_1": "60",
        "color_1": "#206bc4",
    }
    r = c.post("/grading/settings/tiers/", tiers)
    assert r.status_code == 422 and "Tier thresholds overlap" in r.content.decode()
    r = c.post(
        "/grading/settings/vetoes/",
        {"name": "Late", "kind": "overdue_amount", "threshold": "5000", "cap_tier": "B"},
    )
    assert r.status_code == 302 and VetoRule.objects.get(name="Late").threshold == 5000
    assert client_for(alice).get("/grading/settings/").status_code == 403


def test_cli_grade_json(graded):
    out = StringIO()
    call_command("grade", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["status"] == "done" and data["counts"]["customers"] == 1
    assert set(data["phases"]) >= {"load", "orders", "payments", "engagement", "potential", "score", "write"}
    assert data["counts"]["grades_written"] == 0  # graded earlier today: nothing changed, no row rewritten
