"""The win-back list: at-risk, dormant and lost customers the viewer sees, days since the last
order against the typical interval, suggestions from rules, and a follow-up from a suggestion."""

import datetime as dt

import pytest

from tradecrm.audit.models import AuditEvent
from tradecrm.followups.models import FollowUp

from .conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def lapsed(alice, acme, west_co, make_company, grade, product, buy, add_customs):
    flask = product("Vacuum flask", "Cups")
    grade(acme, recency=150, typical_interval_days=60.0, lifecycle="at_risk", churn_risk=0.8,
          rfm_segment="important_keep")  # fmt: skip
    buy(acme, [(flask, 10, 100)], day=dt.date(2025, 10, 5))
    add_customs(acme, dt.date(2026, 1, 20), "Yongkang Cup Factory")
    lost = make_company(name="Lost Lanterns Ltd")
    grade(lost, recency=700, typical_interval_days=90.0, lifecycle="lost", churn_risk=1.0,
          rfm_segment="important_win_back")  # fmt: skip
    active = make_company(name="Busy Buyer")
    grade(active, recency=5, lifecycle="active")
    grade(west_co, recency=300, lifecycle="dormant")
    return {"lost": lost, "flask": flask}


@pytest.fixture
def add_customs(db):
    from tradecrm.customs.importing import prepare_customs_row, write_customs_rows

    def add(company, day, supplier):
        row = prepare_customs_row({"importer_name": company.name, "importer_country": "US", "exporter_name": supplier,
                                   "hs_code": "9617.00", "product_description": "Cups", "date": day,
                                   "bl_number": f"BL{day.isoformat()}"}, today=day)  # fmt: skip
        row["company_id"] = company.pk
        write_customs_rows([row], job_id=None)

    return add


def test_list_shows_at_risk_dormant_lost_of_the_viewer_with_suggestions(alice, acme, lapsed, client_for):
    page = client_for(alice).get("/analysis/win-back/")
    rows = page.context["rows"]
    assert [r["name"] for r in rows] == ["Acme Imports LLC", "Lost Lanterns Ltd"]
    a = rows[0]
    assert a["overdue_days"] == 90  # 150 days since the last order against 60 typical
    codes = [s["code"] for s in a["suggestions"]]
    assert codes == ["call_offer", "customs", "sample", "reach_out"]
    texts = {s["code"]: s["text"] for s in a["suggestions"]}
    assert "1 shipment(s) since their last order with us, latest on 2026-01-20" in texts["customs"]
    assert "Yongkang Cup Factory" in texts["customs"]
    assert texts["sample"] == "Send a sample of Vacuum flask, which they used to buy."
    assert texts["reach_out"] == "Never contacted: introduce yourself and ask about their next order."
    lost = rows[1]
    assert [s["code"] for s in lost["suggestions"]] == ["reach_out", "offer"]
    body = page.content.decode()
    assert "90 days late" in body and "Westwind" not in body and "Busy Buyer" not in body
    only_lost = client_for(alice).get("/analysis/win-back/?lifecycle=lost").context["rows"]
    assert [r["name"] for r in only_lost] == ["Lost Lanterns Ltd"]


def test_last_contact_within_the_interval_gives_no_reach_out(alice, acme, lapsed, client_for):
    acme.__class__.objects.filter(pk=acme.pk).update(last_contact_at=NOW - dt.timedelta(days=20))
    rows = client_for(alice).get("/analysis/win-back/?lifecycle=at_risk").context["rows"]
    assert "reach_out" not in [s["code"] for s in rows[0]["suggestions"]]


def test_follow_up_from_a_suggestion(alice, acme, lapsed, client_for):
    resp = client_for(alice).post(f"/analysis/win-back/{acme.pk}/followup/", {"suggestion": "sample"})
    assert resp.status_code == 302
    f = FollowUp.objects.get(company=acme)
    assert f.title == "Send a sample of Vacuum flask, which they used to buy."
    assert f.assignee == alice and f.due_at == dt.datetime(
        2026, 3, 5, 1, 0, tzinfo=dt.UTC
    )  # 09:00 in her zone (UTC+8)
    assert AuditEvent.objects.filter(action="analysis.winback_followup", object_id=acme.pk).exists()


def test_follow_up_with_an_unknown_suggestion_is_refused(alice, acme, lapsed, client_for, api_for):
    body = client_for(alice).post(f"/analysis/win-back/{acme.pk}/followup/", {"suggestion": "bribe"},
                                  follow=True).content.decode()  # fmt: skip
    assert "“bribe” is not one of this customer&#x27;s current suggestions." in body
    resp = api_for(alice).post(f"/api/v1/analysis/win-back/{acme.pk}/followups", {"suggestion": "bribe"},
                               content_type="application/json")  # fmt: skip
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["field"] == "suggestion"
    assert not FollowUp.objects.exists()


def test_api_win_back_and_follow_up(alice, acme, lapsed, api_for):
    api = api_for(alice)
    data = api.get("/api/v1/analysis/win-back").json()
    assert [r["name"] for r in data["items"]] == ["Acme Imports LLC", "Lost Lanterns Ltd"]
    assert data["items"][0]["overdue_days"] == 90 and data["items"][0]["churn_risk"] == 0.8
    assert data["items"][0]["typical_interval_days"] == 60.0
    resp = api.post(f"/api/v1/analysis/win-back/{acme.pk}/followups", {"suggestion": "customs", "due": "2026-03-10"},
                    content_type="application/json")  # fmt: skip
    assert resp.status_code == 201
    assert resp.json()["due_at"] == "2026-03-10T01:00:00Z"
    assert FollowUp.objects.get(pk=resp.json()["id"]).title.startswith("Check the customs records")
