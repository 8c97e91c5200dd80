"""/api/v1/quotations and /api/v1/proforma-invoices: 404 for dave on every id, line-indexed 422s,
409 on stale versions and on changes of issued documents, ETag/304, margin hidden from sales,
paging and filters, responses matching their schemas."""

import json

import pytest
from django.test import Client

from tradecrm.accounts.models import ApiToken
from tradecrm.documents.models import ProformaInvoice, Quotation
from tradecrm.documents.schemas import ProformaOut, QuotationOut, QuotationPage
from tradecrm.documents.services import proforma_from_quotation, quotation_accept

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
JSON = "application/json"


@pytest.fixture
def api_for(db):
    def make(user):
        _tok, raw = ApiToken.issue(user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


def call(client, method, url, body=None, **headers):
    if body is None and method in ("get", "delete"):
        return getattr(client, method)(url, **headers)
    return getattr(client, method)(url, json.dumps(body or {}), content_type=JSON, **headers)


def fields_of(resp) -> dict:
    return {e["field"]: e["message"] for e in resp.json()["detail"]}


def test_create_get_and_etag(api_for, alice, acme, lamp, seller):
    api = api_for(alice)
    body = {
        "company": acme.pk, "currency": "usd", "incoterm": "FOB", "incoterm_place": "Ningbo",
        "lines": [{"product": lamp.pk, "quantity": 1000, "unit_price": "2.00"},
                  {"name": "Display stand", "quantity": "2", "unit_price": 100, "discount_percent": 10}],
    }  # fmt: skip
    r = call(api, "post", "/api/v1/quotations", body)
    assert r.status_code == 201, r.content
    data = r.json()
    QuotationOut.model_validate(data)
    assert r["Location"] == f"/api/v1/quotations/{data['id']}" and r["ETag"] == '"1"'
    assert data["status"] == "draft" and data["currency"] == "USD" and data["total_amount"] == "2180.00"
    assert data["total_cartons"] == 42 and data["containers"]["suggested"] == "1 × 20GP"
    assert data["lines"][0]["sku"] == "LED-T8" and data["lines"][0]["cartons"] == 42
    got = call(api, "get", f"/api/v1/quotations/{data['id']}")
    assert got.status_code == 200 and got.json()["lines"][1]["amount"] == "180.00"
    assert call(api, "get", f"/api/v1/quotations/{data['id']}", HTTP_IF_NONE_MATCH='"1"').status_code == 304


def test_bad_lines_are_422_with_line_indexed_fields_and_nothing_saved(api_for, alice, acme):
    r = call(api_for(alice), "post", "/api/v1/quotations", {
        "company": acme.pk, "currency": "ABC", "incoterm": "XXX",
        "lines": [{"name": "A", "quantity": 1, "unit_price": 1}, {"name": "B", "quantity": 2, "unit_price": 1},
                  {"name": "C", "quantity": 0, "unit_price": 1}],
    })  # fmt: skip
    assert r.status_code == 422
    errors = fields_of(r)
    assert errors["lines.2.quantity"] == "Line 3: quantity must be greater than zero."
    assert errors["currency"].startswith("“ABC” is not a currency code")
    assert errors["incoterm"].startswith("“XXX” is not an Incoterms 2020 rule")
    assert not Quotation.objects.exists()
    r = call(
        api_for(alice), "post", "/api/v1/quotations", {"company": acme.pk, "lines": [{"quantity": "a lot"}]}
    )
    assert r.status_code == 422 and "lines.0.quantity" in fields_of(r)


def test_patch_versions_and_issued_is_409(api_for, alice, make_quotation, rates):
    api = api_for(alice)
    q = make_quotation()
    url = f"/api/v1/quotations/{q.pk}"
    assert call(api, "patch", url, {"remarks": "x"}).status_code == 428
    r = call(api, "patch", url, {"remarks": "Best price", "version": 1, "lines": [{"name": "Caps", "quantity": 5,
                                                                                  "unit_price": "1.5"}]})  # fmt: skip
    assert r.status_code == 200 and r.json()["total_amount"] == "7.50" and r.json()["version"] == 2
    stale = call(api, "patch", url, {"remarks": "late", "version": 1})
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    issued = call(api, "post", f"{url}/issue", {"version": 2})
    assert issued.status_code == 200 and issued.json()["number"] == "Q-2026-0001"
    assert issued.json()["fx"] == {"rate": "1.0000000000", "date": "2026-03-04", "source": "identity",
                                   "base_currency": "USD"}  # fmt: skip
    locked = call(api, "patch", url, {"remarks": "after", "version": 3})
    assert locked.status_code == 409
    assert locked.json() == {
        "detail": "Quotation Q-2026-0001 is issued and cannot be changed; make a revision.",
        "status": "issued",
    }
    assert call(api, "delete", url).status_code == 409
    assert Quotation.objects.get(pk=q.pk).remarks == "Best price"


def test_issue_without_a_rate_is_422_and_nothing_changes(api_for, alice, make_quotation):
    q = make_quotation(currency="EUR")
    r = call(api_for(alice), "post", f"/api/v1/quotations/{q.pk}/issue", {"version": 1})
    assert r.status_code == 422
    assert fields_of(r)["currency"].startswith("No exchange rate EUR→USD on or before 2026-03-04")
    q.refresh_from_db()
    assert (q.status, q.number, q.version) == ("draft", "", 1)


def test_revision_and_proforma_through_the_api(api_for, alice, issued, usd_account):
    api = api_for(alice)
    q = issued()
    r = call(api, "post", f"/api/v1/quotations/{q.pk}/revise")
    assert r.status_code == 201 and r.json()["revision"] == 2 and r.json()["previous_id"] == q.pk
    r2 = r.json()
    r = call(api, "post", f"/api/v1/quotations/{r2['id']}/issue", {"version": r2["version"]})
    assert r.json()["number"] == "Q-2026-0001-R2"
    assert call(api, "get", f"/api/v1/quotations/{q.pk}").json()["status"] == "superseded"
    refused = call(api, "post", f"/api/v1/quotations/{q.pk}/proforma")
    assert refused.status_code == 422 and "replaced by a revision" in fields_of(refused)["status"]
    assert (
        call(api, "post", f"/api/v1/quotations/{r2['id']}/accept", {"note": "OK"}).json()["status"]
        == "accepted"
    )
    pi = call(api, "post", f"/api/v1/quotations/{r2['id']}/proforma")
    assert pi.status_code == 201, pi.content
    ProformaOut.model_validate(pi.json())
    body = pi.json()
    assert body["quotation_id"] == r2["id"] and body["bank_account_id"] == usd_account.pk
    done = call(api, "post", f"/api/v1/proforma-invoices/{body['id']}/issue", {"version": body["version"]})
    assert done.status_code == 200 and done.json()["number"] == "PI-2026-0001"


def test_pi_without_an_account_in_its_currency_is_422(api_for, alice, acme, seller, usd_account, rates):
    api = api_for(alice)
    r = call(api, "post", "/api/v1/proforma-invoices", {"company": acme.pk, "currency": "EUR",
                                                        "lines": [{"name": "Lamp", "quantity": 1, "unit_price": 9}]})  # fmt: skip
    assert r.status_code == 201 and r.json()["bank_account_id"] is None
    refused = call(api, "post", f"/api/v1/proforma-invoices/{r.json()['id']}/issue", {"version": 1})
    assert (
        refused.status_code == 422 and "no active bank account in EUR" in fields_of(refused)["bank_account"]
    )
    assert ProformaInvoice.objects.get().status == "draft"


def test_margin_only_for_managers(api_for, alice, carol, make_quotation, rates):
    q = make_quotation()
    sales = call(api_for(alice), "get", f"/api/v1/quotations/{q.pk}").json()
    assert sales["margin"] is None and sales["lines"][0]["unit_cost_cny"] is None
    manager = call(api_for(carol), "get", f"/api/v1/quotations/{q.pk}").json()
    assert manager["lines"][0]["unit_cost_cny"] == "11.3000"
    # 2180 USD × 7.1 = 15,478 CNY revenue; cost 11,300; rebate 1,300
    assert manager["margin"]["revenue_cny"] == "15478.00" and manager["margin"]["margin_cny"] == "5478.00"
    assert manager["margin"]["complete"] is False  # the free line has no cost


def test_list_filters_and_paging(api_for, alice, bob, make_quotation, issued, make_company):
    other = make_company(name="Zeta Trading", country="DE")
    for _ in range(3):
        make_quotation()
    issued()
    make_quotation(company=other)
    api = api_for(alice)
    page = call(api, "get", "/api/v1/quotations?limit=2").json()
    QuotationPage.model_validate(page)
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = call(api, "get", f"/api/v1/quotations?limit=10&cursor={page['next_cursor']}").json()
    assert len(rest["items"]) == 3
    assert [r["status"] for r in call(api, "get", "/api/v1/quotations?status=issued").json()["items"]] == [
        "issued"
    ]
    assert len(call(api, "get", "/api/v1/quotations?q=zeta").json()["items"]) == 1
    assert len(call(api, "get", "/api/v1/quotations?q=Q-2026-0001").json()["items"]) == 1
    assert len(call(api, "get", f"/api/v1/quotations?company_id={other.pk}").json()["items"]) == 1
    assert call(api_for(bob), "get", "/api/v1/quotations").json()["items"] == []


QUOTATION_BY_ID = [
    ("get", "/api/v1/quotations/{id}", None),
    ("patch", "/api/v1/quotations/{id}", {"remarks": "x", "version": 1}),
    ("delete", "/api/v1/quotations/{id}", None),
    ("post", "/api/v1/quotations/{id}/submit", {"version": 1}),
    ("post", "/api/v1/quotations/{id}/approve", {"version": 1}),
    ("post", "/api/v1/quotations/{id}/reject-approval", {"version": 1, "note": "no"}),
    ("post", "/api/v1/quotations/{id}/issue", {"version": 1}),
    ("post", "/api/v1/quotations/{id}/accept", {}),
    ("post", "/api/v1/quotations/{id}/reject", {"note": "x"}),
    ("post", "/api/v1/quotations/{id}/expire", {}),
    ("post", "/api/v1/quotations/{id}/revise", {}),
    ("post", "/api/v1/quotations/{id}/cancel", {}),
    ("post", "/api/v1/quotations/{id}/proforma", {}),
]
PROFORMA_BY_ID = [
    ("get", "/api/v1/proforma-invoices/{id}", None),
    ("patch", "/api/v1/proforma-invoices/{id}", {"remarks": "x", "version": 1}),
    ("delete", "/api/v1/proforma-invoices/{id}", None),
    ("post", "/api/v1/proforma-invoices/{id}/issue", {"version": 1}),
    ("post", "/api/v1/proforma-invoices/{id}/revise", {}),
    ("post", "/api/v1/proforma-invoices/{id}/cancel", {}),
]


@pytest.mark.parametrize("method,url,body", QUOTATION_BY_ID, ids=[f"{m} {u}" for m, u, _b in QUOTATION_BY_ID])
def test_dave_gets_404_on_every_quotation_endpoint(api_for, dave, make_quotation, method, url, body):
    q = make_quotation()
    r = call(api_for(dave), method, url.format(id=q.pk), body)
    assert r.status_code == 404 and r.json() == {"detail": "Not found."}
    q.refresh_from_db()
    assert (q.status, q.version, q.remarks) == ("draft", 1, "")


@pytest.mark.parametrize("method,url,body", PROFORMA_BY_ID, ids=[f"{m} {u}" for m, u, _b in PROFORMA_BY_ID])
def test_dave_gets_404_on_every_proforma_endpoint(
    api_for, dave, alice, issued, usd_account, method, url, body
):
    q = issued()
    quotation_accept(actor=alice, quotation=q)
    pi = proforma_from_quotation(actor=alice, quotation=q)
    r = call(api_for(dave), method, url.format(id=pi.pk), body)
    assert r.status_code == 404
    pi.refresh_from_db()
    assert (pi.status, pi.version) == ("draft", 1)


def test_dave_cannot_create_for_a_customer_he_does_not_see(api_for, dave, acme):
    r = call(api_for(dave), "post", "/api/v1/quotations", {"company": acme.pk, "lines": []})
    assert r.status_code == 422 and fields_of(r) == {"company": f"No company with id {acme.pk}."}


def test_approval_needs_a_manager(api_for, alice, carol, make_quotation):
    q = make_quotation()
    assert (
        call(api_for(alice), "post", f"/api/v1/quotations/{q.pk}/submit", {"version": 1}).status_code == 200
    )
    assert call(api_for(alice), "post", f"/api/v1/quotations/{q.pk}/approve", {}).status_code == 403
    r = call(api_for(carol), "post", f"/api/v1/quotations/{q.pk}/approve", {"version": 2})
    assert (
        r.status_code == 200
        and r.json()["status"] == "approved"
        and r.json()["approved_by"]["username"] == "carol"
    )
