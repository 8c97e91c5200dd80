"""RFM segments page and API, the customer lists behind them: sizes and averages over what the
viewer may see."""

import pytest

from tradecrm.customers.models import Company

pytestmark = pytest.mark.django_db


@pytest.fixture
def graded(alice, dave, acme, west_co, make_company, grade):
    beta = make_company(name="Beta Bazaar", country="GB")
    gamma = make_company(name="Gamma Goods", country="FR")
    grade(acme, recency=10, orders_count=6, amount_base=30000, rfm_segment="important_value")
    grade(beta, recency=30, orders_count=2, amount_base=10000, rfm_segment="important_value")
    grade(
        gamma, recency=400, orders_count=1, amount_base=500, rfm_segment="general_win_back", lifecycle="lost"
    )
    grade(west_co, recency=5, orders_count=9, amount_base=90000, rfm_segment="important_value")
    return {"beta": beta, "gamma": gamma}


def test_summary_counts_and_averages_only_what_the_viewer_sees(alice, dave, admin, graded, client_for):
    page = client_for(alice).get("/analysis/segments/")
    assert page.status_code == 200
    seg = {s["code"]: s for s in page.context["segments"]}
    assert len(seg) == 8
    assert seg["important_value"]["size"] == 2
    assert seg["important_value"]["recency_days"] == 20.0
    assert seg["important_value"]["orders"] == 4.0
    assert seg["important_value"]["amount"] == 20000.0
    assert seg["general_win_back"]["size"] == 1 and seg["important_keep"]["size"] == 0
    assert page.context["graded"] == 3
    body = page.content.decode()
    assert 'data-testid="size-important_value">2<' in body
    assert {s["code"]: s["size"] for s in page.context["lifecycle"]}["lost"] == 1
    admin_seg = {s["code"]: s for s in client_for(admin).get("/analysis/segments/").context["segments"]}
    assert admin_seg["important_value"]["size"] == 3 and admin_seg["important_value"]["amount"] == 43333.33
    dave_seg = {s["code"]: s for s in client_for(dave).get("/analysis/segments/").context["segments"]}
    assert dave_seg["important_value"]["size"] == 1 and dave_seg["general_win_back"]["size"] == 0


def test_segment_list_links_to_the_visible_customers(alice, graded, client_for):
    c = client_for(alice)
    page = c.get("/analysis/customers/?segment=important_value")
    assert [r["name"] for r in page.context["rows"]] == [
        "Acme Imports LLC",
        "Beta Bazaar",
    ]  # latest order first
    assert "Westwind" not in page.content.decode()
    lost = c.get("/analysis/customers/?lifecycle=lost").context["rows"]
    assert [r["name"] for r in lost] == ["Gamma Goods"]


def test_bad_filter_is_named(alice, graded, client_for):
    body = (
        client_for(alice)
        .get("/analysis/customers/?segment=vip&lifecycle=zombie", follow=True)
        .content.decode()
    )
    assert "“vip” is not an RFM segment." in body and "“zombie” is not a lifecycle stage." in body


def test_api_segments_and_list(alice, graded, api_for):
    api = api_for(alice)
    data = api.get("/api/v1/analysis/segments").json()
    seg = {s["code"]: s for s in data["segments"]}
    assert (
        data["graded"] == 3
        and seg["important_value"]["size"] == 2
        and seg["important_value"]["amount"] == 20000.0
    )
    page = api.get("/api/v1/analysis/customers?segment=important_value&limit=1").json()
    assert [r["name"] for r in page["items"]] == ["Acme Imports LLC"] and page["next_cursor"]
    second = api.get(
        f"/api/v1/analysis/customers?segment=important_value&limit=1&cursor={page['next_cursor']}"
    ).json()
    assert [r["name"] for r in second["items"]] == ["Beta Bazaar"]
    bad = api.get("/api/v1/analysis/customers?segment=vip")
    assert bad.status_code == 422
    assert bad.json()["detail"] == [{"field": "segment", "message": "“vip” is not an RFM segment."}]


def test_pages_render_the_nav(alice, client_for):
    body = client_for(alice).get("/analysis/segments/").content.decode()
    assert 'data-testid="nav-rfm"' in body and 'data-testid="nav-winback"' in body
    assert Company.objects.count() == 0
