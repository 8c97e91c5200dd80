"""/api/v1/customs-records: list with filters, get, a customer's summary, link and unlink; 404 for
records of customers dave cannot see, unlinked records for managers and administrators only."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from tradecrm.customs.api import LinkOut, RecordOut, RecordPage, SummaryOut
from tradecrm.customs.models import CustomsRecord

pytestmark = pytest.mark.django_db
D = Decimal


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_dave_gets_404_for_records_of_customers_he_cannot_see(dave, acme, west_co, add_records, api_for):
    (record,) = add_records({}, company=acme)
    c = api_for(dave)
    assert c.get(f"/api/v1/customs-records/{record.pk}").status_code == 404
    assert c.get(f"/api/v1/customs-records/summary?company={acme.pk}").status_code == 404
    assert post(c, f"/api/v1/customs-records/{record.pk}/link", {"company": west_co.pk}).status_code == 404
    assert post(c, f"/api/v1/customs-records/{record.pk}/unlink", {}).status_code == 404
    assert c.get(f"/api/v1/customs-records/{record.pk + 1000}").status_code == 404
    assert RecordPage.model_validate(c.get("/api/v1/customs-records").json()).items == []
    assert c.get(f"/api/v1/customs-records?company={acme.pk}").json()["items"] == []


def test_get_a_record(alice, acme, add_records, api_for):
    (record,) = add_records({"quantity": "1,200 PCS", "importer_address": "1 Main St, Chicago"}, company=acme)
    resp = api_for(alice).get(f"/api/v1/customs-records/{record.pk}")
    assert resp.status_code == 200
    body = RecordOut.model_validate(resp.json())
    assert (body.company.id, body.company.name) == (acme.pk, "Acme Imports LLC")
    assert (body.quantity, body.quantity_unit, body.weight_kg, body.value) == (
        "1200.000",
        "PCS",
        "1000.000",
        "5000.00",
    )
    assert body.importer_address == "1 Main St, Chicago" and body.hs_code == "961700"


def test_unlinked_records_only_for_managers_and_admins(alice, carol, admin, add_records, api_for):
    (record,) = add_records({"importer_name": "TO ORDER"})
    assert api_for(alice).get(f"/api/v1/customs-records/{record.pk}").status_code == 404
    resp = api_for(alice).get("/api/v1/customs-records?linked=unlinked")
    assert resp.status_code == 422 and resp.json()["detail"][0]["field"] == "linked"
    for user in (carol, admin):
        body = api_for(user).get(f"/api/v1/customs-records/{record.pk}").json()
        assert body["is_forwarder"] is True and body["company"] is None
        items = api_for(user).get("/api/v1/customs-records?linked=forwarder").json()["items"]
        assert [i["id"] for i in items] == [record.pk]


def test_list_filters_and_pages(alice, acme, add_records, api_for):
    add_records(
        {"date": dt.date(2026, 1, 5), "hs_code": "8471.30", "product_description": "Laptops", "origin_country": "TW"},
        {"date": dt.date(2026, 2, 5), "exporter_name": "Yongkang Cup Factory"},
        {"date": dt.date(2026, 2, 6), "importer_country": "CA"},
        company=acme,
    )  # fmt: skip
    c = api_for(alice)

    def ids(query):
        resp = c.get(f"/api/v1/customs-records?{query}")
        assert resp.status_code == 200, resp.json()
        RecordPage.model_validate(resp.json())
        return [i["date"] for i in resp.json()["items"]]

    assert ids("") == ["2026-02-06", "2026-02-05", "2026-01-05"]
    assert ids("sort=date") == ["2026-01-05", "2026-02-05", "2026-02-06"]
    assert ids("hs=8471") == ["2026-01-05"]
    assert ids("hs=8471.30") == ["2026-01-05"]
    assert ids("origin=Taiwan") == ["2026-01-05"]
    assert ids("supplier=yongkang") == ["2026-02-05"]
    assert ids("country=CA") == ["2026-02-06"]
    assert ids("country=加拿大") == ["2026-02-06"]
    assert ids("date_from=2026-02-01&date_to=2026-02-05") == ["2026-02-05"]
    assert ids("q=laptop") == ["2026-01-05"]
    assert ids("customer=acme") == ["2026-02-06", "2026-02-05", "2026-01-05"]
    assert ids("customer=westwind") == []
    assert ids(f"company={acme.pk}&limit=2") == ["2026-02-06", "2026-02-05"]
    page = c.get("/api/v1/customs-records?limit=2").json()
    rest = c.get(f"/api/v1/customs-records?limit=2&cursor={page['next_cursor']}").json()
    assert [i["date"] for i in rest["items"]] == ["2026-01-05"]


def test_bad_filters_are_422_naming_the_field(alice, api_for):
    c = api_for(alice)
    for query, field in (("hs=84x", "hs"), ("date_from=05/03/2026", "date_from"), ("country=Narnia", "country"),
                         ("linked=maybe", "linked"), ("limit=500", "limit"), ("company=0", "company")):  # fmt: skip
        resp = c.get(f"/api/v1/customs-records?{query}")
        assert resp.status_code == 422, query
        assert resp.json()["detail"][0]["field"] == field
    assert c.get("/api/v1/customs-records?cursor=nonsense").status_code == 400


def test_a_customers_summary(alice, acme, add_records, api_for):
    add_records(
        {"date": dt.date(2026, 1, 3), "weight_kg": D("2000"), "value": D("9000")},
        {"date": dt.date(2026, 2, 3), "hs_code": "7323.93", "weight_kg": D("500"), "value": "EUR 2,000"},
        company=acme,
    )  # fmt: skip
    resp = api_for(alice).get(f"/api/v1/customs-records/summary?company={acme.pk}&months=3")
    assert resp.status_code == 200
    body = SummaryOut.model_validate(resp.json())
    assert (body.count, body.first_date, body.last_date) == (2, dt.date(2026, 1, 3), dt.date(2026, 2, 3))
    assert [(h.hs_code, h.weight_kg, [(v.currency, v.amount) for v in h.value]) for h in body.hs_codes] == [
        ("961700", "2000.000", [("USD", "9000.00")]), ("732393", "500.000", [("EUR", "2000.00")])]  # fmt: skip
    assert [(t.month, t.count) for t in body.trend] == [("2025-12", 0), ("2026-01", 1), ("2026-02", 1)]
    assert body.suppliers[0].name == "Ningbo Hengda Trading Co., Ltd." and body.suppliers[0].count == 2
    assert [r.date for r in body.latest] == [dt.date(2026, 2, 3), dt.date(2026, 1, 3)]


def test_link_and_unlink(alice, carol, acme, west_co, add_records, api_for):
    a, b = add_records({"importer_name": "TO ORDER", "notify_party": "Acme"}, {"importer_name": "TO ORDER"})
    url = f"/api/v1/customs-records/{a.pk}"
    assert post(api_for(alice), f"{url}/link", {"company": acme.pk}).status_code == 404  # alice cannot see it
    c = api_for(carol)
    resp = post(c, f"{url}/link", {"company": west_co.pk})
    assert resp.status_code == 422 and resp.json()["detail"][0]["field"] == "company"
    resp = post(c, f"{url}/link", {"company": acme.pk, "same_importer": False})
    assert resp.status_code == 200
    body = LinkOut.model_validate(resp.json())
    assert body.changed == 1 and body.record.company.id == acme.pk
    assert CustomsRecord.objects.get(pk=b.pk).company_id is None
    assert post(api_for(alice), f"{url}/unlink", {}).status_code == 403  # sees it now, may not unlink
    resp = post(c, f"{url}/unlink", {})
    assert resp.status_code == 200 and resp.json()["record"]["company"] is None
