"""GET /api/v1/exports/{list}: the same path as the web download, over a token."""

import csv
import io

import pytest

pytestmark = pytest.mark.django_db


def test_csv_over_the_api(api_for, exporter, make_company, acme):
    make_company(name="Berlin Buyers GmbH", country="DE")
    response = api_for(exporter).get("/api/v1/exports/companies", {"format": "csv", "country": "DE"})
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:2] == ["ID", "Company name"] and rows[1][1] == "Berlin Buyers GmbH"


def test_xlsx_is_the_other_format(api_for, carol, acme):
    response = api_for(carol).get("/api/v1/exports/orders", {"format": "xlsx"})
    assert response.status_code == 200 and b"".join(response.streaming_content)[:2] == b"PK"


def test_errors(api_for, alice, carol, dave, acme):
    r = api_for(alice).get("/api/v1/exports/companies")
    assert r.status_code == 403 and "export permission" in r.json()["detail"]
    r = api_for(carol).get("/api/v1/exports/companies", {"format": "pdf"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "format"
    r = api_for(carol).get("/api/v1/exports/companies", {"status": "vip", "owner": "nobody"})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["detail"]} == {"status", "owner"}
    assert api_for(carol).get("/api/v1/exports/secrets").status_code == 404
    dave.can_export = True
    dave.save(update_fields=["can_export"])
    r = api_for(dave).get("/api/v1/exports/contacts", {"company_id": acme.pk})
    assert r.status_code == 404
    r = api_for(dave).get("/api/v1/exports/opportunities", {"company": acme.pk})
    assert r.status_code == 404
