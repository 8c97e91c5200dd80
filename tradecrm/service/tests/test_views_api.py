"""HTML pages and the JSON API of the service app, and dave (another team) getting 404 on each."""

import datetime as dt

import pytest

from tradecrm.service import services
from tradecrm.service.models import Survey, Ticket

from .conftest import NOW


@pytest.fixture
def survey(company, order):
    c = company()
    return Survey.objects.create(company=c, order=order(c), email="x@example.com", scale="five", token="tok",
                                 created_at=NOW, sent_at=NOW, expires_at=NOW + dt.timedelta(days=30))  # fmt: skip


# --- HTML -------------------------------------------------------------------------------------------


def test_pages_render(ticket, survey, client_for, alice, admin):
    t = ticket()
    services.survey_answer(survey=survey, score=4)
    c = client_for(alice)
    for url in ("/service/tickets/", "/service/tickets/?status=active&overdue=1&severity=high",
                f"/service/tickets/{t.pk}/", f"/service/tickets/{t.pk}/edit/", f"/service/tickets/{t.pk}/timeline/",
                f"/customers/{t.company_id}/service/", "/service/surveys/", "/service/surveys/?answered=1",
                "/service/reports/causes/?by=supplier", "/service/reports/surveys/?since=2026-01-01",
                f"/service/tickets/new/?company={t.company_id}"):  # fmt: skip
        response = c.get(url)
        assert response.status_code == 200, url
    panel = c.get(f"/customers/{survey.company_id}/service/").content.decode()
    assert "4</span>/5" in panel
    assert c.get("/service/settings/").status_code == 403
    assert client_for(admin).get("/service/settings/").status_code == 200


def test_bad_list_filter_is_named(client_for, alice):
    response = client_for(alice).get("/service/tickets/?severity=urgent&owner=abc", follow=True)
    assert response.status_code == 200
    assert "“urgent” is not a severity." in response.content.decode()


def test_customer_and_order_pages_link_to_tickets(company, order, client_for, alice):
    c = company()
    o = order(c)
    assert 'data-testid="service-panel"' in client_for(alice).get(f"/customers/{c.pk}/").content.decode()
    page = client_for(alice).get(f"/orders/{o.pk}/").content.decode()
    assert f"/service/tickets/new/?company={c.pk}&amp;order={o.pk}" in page


def test_create_from_the_form(company, order, client_for, alice):
    c = company()
    o = order(c)
    client = client_for(alice)
    response = client.post(
        "/service/tickets/new/", {"company": c.pk, "title": "", "kind": "damage", "order": o.pk}
    )
    assert response.status_code == 422 and b"form-errors" in response.content
    response = client.post("/service/tickets/new/", {"company": c.pk, "title": "Wet cartons", "kind": "damage",
                                                     "severity": "high", "order": o.pk, "category": "claim"})  # fmt: skip
    t = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/service/tickets/{t.pk}/"
    assert (t.order_id, t.severity, t.category) == (o.pk, "high", "claim")


def test_htmx_status_change_answers_with_the_card(ticket, client_for, alice):
    t = ticket()
    client = client_for(alice)
    headers = {"HTTP_HX_REQUEST": "true"}
    response = client.post(
        f"/service/tickets/{t.pk}/status/", {"status": "resolved", "version": t.version}, **headers
    )
    assert response.status_code == 422
    assert "Choose the root cause" in response.content.decode()
    response = client.post(f"/service/tickets/{t.pk}/status/", {"status": "resolved", "root_cause": "packaging",
                                                                "version": t.version}, **headers)  # fmt: skip
    assert response.status_code == 200 and response["HX-Trigger"] == "ticket-changed"
    assert 'id="ticket-status"' in response.content.decode() and "<html" not in response.content.decode()
    t.refresh_from_db()
    assert (t.status, t.root_cause) == ("resolved", "packaging")


def test_edit_and_comment(ticket, client_for, alice):
    t = ticket()
    client = client_for(alice)
    response = client.post(f"/service/tickets/{t.pk}/edit/", {"title": "Cracked", "kind": "quality", "version": 99,
                                                               "severity": "low", "category": "complaint"})  # fmt: skip
    assert response.status_code == 422 and "while you were editing" in response.content.decode()
    response = client.post(f"/service/tickets/{t.pk}/edit/", {
        "title": "Cracked", "kind": "quality", "version": t.version, "severity": "low", "category": "complaint",
        "compensation_amount": "80", "compensation_currency": "EUR", "replacement": "on"})  # fmt: skip
    assert response.status_code == 302
    client.post(f"/service/tickets/{t.pk}/comment/", {"text": "Photos received"})
    t.refresh_from_db()
    assert (t.severity, t.compensation_currency, t.replacement, t.first_response_at) == (
        "low",
        "EUR",
        True,
        NOW,
    )


def test_settings_save(client_for, admin):
    client = client_for(admin)
    data = {"form": "sla"}
    for sev in ("low", "medium", "high", "critical"):
        data[f"{sev}_response"], data[f"{sev}_resolution"] = "2", "20"
    assert client.post("/service/settings/", data).status_code == 302
    data["high_resolution"] = "1"
    assert client.post("/service/settings/", data).status_code == 422
    response = client.post("/service/settings/", {"form": "surveys", "t_default_days": "5", "t_default_enabled": "on",
                                                  "t_default_scale": "nps"})  # fmt: skip
    assert response.status_code == 302
    from tradecrm.service.models import SurveyConfig

    assert SurveyConfig.objects.filter(tier="", days_after_delivery=5, scale="nps", enabled=True).exists()


def test_dave_gets_404_on_every_html_page_by_id(ticket, survey, client_for, dave):
    t = ticket()
    c = client_for(dave)
    for url in (f"/service/tickets/{t.pk}/", f"/service/tickets/{t.pk}/edit/", f"/service/tickets/{t.pk}/timeline/",
                f"/customers/{t.company_id}/service/", f"/service/tickets/new/?company={t.company_id}"):  # fmt: skip
        assert c.get(url).status_code == 404, url
    for url in (f"/service/tickets/{t.pk}/status/", f"/service/tickets/{t.pk}/comment/",
                f"/service/tickets/{t.pk}/edit/", "/service/tickets/new/"):  # fmt: skip
        assert c.post(url, {"status": "closed", "text": "x", "company": t.company_id}).status_code == 404, url
    t.refresh_from_db()
    assert t.status == "open" and t.events.count() == 1
    assert "Cracked" not in c.get("/service/tickets/").content.decode()
    assert "x@example.com" not in c.get("/service/surveys/").content.decode()


# --- API --------------------------------------------------------------------------------------------


def test_api_ticket_flow(company, order, api_for, alice):
    c = company()
    o = order(c)
    api = api_for(alice)
    response = api.post("/api/v1/tickets", {"company": c.pk, "title": "Short by 2 cartons", "kind": "short",
                                            "severity": "high", "order": o.pk}, content_type="application/json")  # fmt: skip
    assert response.status_code == 201, response.content
    t = response.json()
    assert t["allowed_statuses"] == ["investigating", "proposed", "resolved", "closed"]
    assert response["Location"] == f"/api/v1/tickets/{t['id']}"
    response = api.post(
        f"/api/v1/tickets/{t['id']}/status", {"status": "resolved"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "root_cause"
    response = api.post(f"/api/v1/tickets/{t['id']}/status", {"status": "resolved", "root_cause": "logistics"},
                        content_type="application/json")  # fmt: skip
    assert response.status_code == 200 and response.json()["status"] == "resolved"
    response = api.patch(
        f"/api/v1/tickets/{t['id']}", {"compensation_amount": "30"}, content_type="application/json"
    )
    assert response.status_code == 428
    version = api.get(f"/api/v1/tickets/{t['id']}").json()["version"]
    response = api.patch(f"/api/v1/tickets/{t['id']}", {"compensation_amount": "30", "compensation_currency": "USD",
                                                        "version": version}, content_type="application/json")  # fmt: skip
    assert response.status_code == 200 and response.json()["compensation_amount"] == "30.00"
    response = api.post(
        f"/api/v1/tickets/{t['id']}/comments", {"text": "Refund sent"}, content_type="application/json"
    )
    assert response.status_code == 201
    rows = api.get("/api/v1/tickets?status=resolved&severity=high").json()["items"]
    assert [r["id"] for r in rows] == [t["id"]]
    assert api.get("/api/v1/tickets?severity=urgent").status_code == 422


def test_api_surveys_and_config(survey, api_for, alice, admin):
    services.survey_answer(survey=survey, score=5, comment="Great")
    api = api_for(alice)
    items = api.get("/api/v1/surveys?answered=true").json()["items"]
    assert [(s["id"], s["score"], s["comment"]) for s in items] == [(survey.pk, 5, "Great")]
    assert "token" not in items[0]
    assert api.get(f"/api/v1/surveys/{survey.pk}").json()["order_number"] == survey.order.number
    assert api.get("/api/v1/surveys/config").json() == []
    assert (
        api.put(
            "/api/v1/surveys/config", {"days_after_delivery": 3}, content_type="application/json"
        ).status_code
        == 403
    )
    response = api_for(admin).put("/api/v1/surveys/config", {"days_after_delivery": 3, "scale": "nps"},
                                  content_type="application/json")  # fmt: skip
    assert response.status_code == 200 and response.json()["scale"] == "nps"


def test_dave_gets_404_on_every_api_endpoint_by_id(ticket, survey, api_for, dave):
    t = ticket()
    api = api_for(dave)
    assert api.get(f"/api/v1/tickets/{t.pk}").status_code == 404
    assert api.patch(f"/api/v1/tickets/{t.pk}", {"title": "x", "version": 1},
                     content_type="application/json").status_code == 404  # fmt: skip
    assert api.post(f"/api/v1/tickets/{t.pk}/status", {"status": "closed"},
                    content_type="application/json").status_code == 404  # fmt: skip
    assert (
        api.post(
            f"/api/v1/tickets/{t.pk}/comments", {"text": "x"}, content_type="application/json"
        ).status_code
        == 404
    )
    assert api.post("/api/v1/tickets", {"company": t.company_id, "title": "x", "kind": "quality"},
                    content_type="application/json").status_code == 404  # fmt: skip
    assert api.get(f"/api/v1/surveys/{survey.pk}").status_code == 404
    assert api.get("/api/v1/tickets").json()["items"] == []
    assert api.get("/api/v1/surveys").json()["items"] == []
