"""HTML pages of customs records: every page that loads an object by id is 404 for dave; the list
and its filters, what sales reps and managers see, the record page, linking, and the customer
page's panel."""

import datetime as dt
from decimal import Decimal

import pytest

from tradecrm.audit.models import AuditEvent
from tradecrm.customs.models import CustomsRecord

pytestmark = pytest.mark.django_db
D = Decimal

BY_ID = [
    ("get", "/customs/{record}/"),
    ("post", "/customs/{record}/link/"),
    ("post", "/customs/{record}/unlink/"),
    ("get", "/customers/{company}/customs/"),
]


@pytest.mark.parametrize("method,url", BY_ID, ids=[f"{m} {u}" for m, u in BY_ID])
def test_dave_gets_404_on_every_page_by_id(dave, acme, west_co, add_records, client_for, method, url):
    (record,) = add_records({}, company=acme)
    resp = getattr(client_for(dave), method)(
        url.format(record=record.pk, company=acme.pk), {"company": west_co.pk}
    )
    assert resp.status_code == 404
    assert CustomsRecord.objects.get(pk=record.pk).company_id == acme.pk


def test_unlinked_records_are_404_for_sales_and_open_for_managers(alice, carol, add_records, client_for):
    (record,) = add_records({"importer_name": "TO ORDER"})
    assert client_for(alice).get(f"/customs/{record.pk}/").status_code == 404
    page = client_for(carol).get(f"/customs/{record.pk}/")
    assert page.status_code == 200
    assert "“to order”" in page.content.decode() and 'data-testid="forwarder-badge"' in page.content.decode()


def test_the_list_shows_what_the_user_sees_and_filters(alice, carol, acme, west_co, add_records, client_for):
    add_records(
        {"hs_code": "8471.30", "product_description": "Laptops", "date": dt.date(2026, 1, 5)},
        {"hs_code": "9617.00", "exporter_name": "Yongkang Cup Factory", "date": dt.date(2026, 2, 5)},
        company=acme,
    )
    add_records({"importer_name": "Westwind Trading GmbH", "importer_country": "DE", "product_description": "Dave's"},
                company=west_co)  # fmt: skip
    add_records({"importer_name": "DHL Global Forwarding", "product_description": "Forwarded goods"})
    c = client_for(alice)
    body = c.get("/customs/").content.decode()
    assert "Laptops" in body and "Vacuum flasks" in body
    assert "Dave&#x27;s" not in body and "Forwarded goods" not in body
    assert "Vacuum flasks" not in c.get("/customs/?hs=8471").content.decode()
    assert "Laptops" not in c.get("/customs/?supplier=yongkang").content.decode()
    assert "Laptops" not in c.get("/customs/?date_from=2026-02-01").content.decode()
    assert "Laptops" in c.get(f"/customs/?company={acme.pk}&country=United+States").content.decode()
    assert "Forwarded goods" not in c.get("/customs/?linked=unlinked").content.decode()  # not for sales
    body = client_for(carol).get("/customs/?linked=unlinked").content.decode()
    assert "Forwarded goods" in body and "Laptops" not in body


def test_a_bad_filter_is_named_not_fatal(alice, acme, add_records, client_for):
    add_records({}, company=acme)
    resp = client_for(alice).get("/customs/?hs=84x&date_from=yesterday&country=Narnia", follow=True)
    body = resp.content.decode()
    assert resp.status_code == 200
    assert "84x" in body and "yesterday" in body and "Narnia" in body
    assert "Vacuum flasks" in body


def test_list_pages_by_keyset(alice, acme, add_records, client_for):
    add_records(*[{"date": dt.date(2026, 1, 1) + dt.timedelta(days=i)} for i in range(55)], company=acme)
    c = client_for(alice)
    first = c.get("/customs/")
    assert first.content.decode().count('href="/customs/') >= 50
    nxt = first.context["next_cursor"]
    second = c.get(f"/customs/?cursor={nxt}")
    assert len(second.context["rows"]) == 5
    assert second.context["rows"][-1]["date"] == dt.date(2026, 1, 1)
    assert c.get("/customs/?cursor=garbage").status_code == 302


def test_the_customer_panel_shows_the_import_history(alice, acme, add_records, client_for):
    add_records(
        {"date": dt.date(2025, 12, 3), "hs_code": "9617.00", "weight_kg": D("1000"), "value": D("5000")},
        {"date": dt.date(2026, 1, 3), "hs_code": "9617.00", "weight_kg": D("2000"), "value": D("9000")},
        {"date": dt.date(2026, 2, 3), "hs_code": "7323.93", "weight_kg": D("500"), "value": D("2000"),
         "exporter_name": "Yongkang Cup Factory", "product_description": "Tableware"},
        company=acme,
    )  # fmt: skip
    c = client_for(alice)
    page = c.get(f"/customers/{acme.pk}/").content.decode()
    assert f'hx-get="/customers/{acme.pk}/customs/"' in page
    resp = c.get(f"/customers/{acme.pk}/customs/")
    body = resp.content.decode()
    assert 'data-testid="customs-count">3<' in body
    assert "2025-12-03 – 2026-02-03" in body
    s = resp.context["s"]
    assert [(h["hs_code"], h["count"], h["weight_kg"]) for h in s["hs_codes"]] == [
        ("961700", 2, D("3000")), ("732393", 1, D("500"))]  # fmt: skip
    assert s["hs_codes"][0]["value"] == [{"currency": "USD", "amount": D("14000")}]
    assert [(p["name"], p["count"]) for p in s["suppliers"]] == [
        ("Ningbo Hengda Trading Co., Ltd.", 2), ("Yongkang Cup Factory", 1)]  # fmt: skip
    trend = {t["month"]: t["weight_kg"] for t in s["trend"]}
    assert len(s["trend"]) == 24 and s["trend"][-1]["month"] == "2026-02"
    assert (trend["2025-12"], trend["2026-01"], trend["2026-02"], trend["2025-11"]) == (1000, 2000, 500, 0)
    assert body.count("<rect") == 24 and "Tableware" in body


def test_the_panel_of_a_customer_without_records(alice, acme, client_for):
    body = client_for(alice).get(f"/customers/{acme.pk}/customs/").content.decode()
    assert 'data-testid="no-customs"' in body


def test_a_manager_links_every_record_of_an_importer_to_a_customer(carol, acme, add_records, client_for):
    a, b = add_records({"importer_name": "ACME IMPORTS L.L.C."}, {"importer_name": "Acme Imports LLC"})
    (other,) = add_records({"importer_name": "Someone Else Inc"})
    c = client_for(carol)
    page = c.get(f"/customs/{a.pk}/")
    assert [co.pk for co in page.context["candidates"]] == [acme.pk]  # found by the importer's name
    resp = c.post(f"/customs/{a.pk}/link/", {"company": acme.pk, "same_importer": "1"}, follow=True)
    assert "2 record(s) linked to Acme Imports LLC." in resp.content.decode()
    assert set(CustomsRecord.objects.filter(company=acme).values_list("pk", flat=True)) == {a.pk, b.pk}
    assert CustomsRecord.objects.get(pk=other.pk).company_id is None
    assert AuditEvent.objects.filter(action="customs.link", object_id=a.pk).exists()
    c.post(f"/customs/{a.pk}/unlink/", {})  # only this one
    assert list(CustomsRecord.objects.filter(company=acme).values_list("pk", flat=True)) == [b.pk]


def test_sales_may_not_link_and_a_customer_must_be_visible(
    alice, carol, acme, west_co, add_records, client_for
):
    (record,) = add_records({}, company=acme)
    assert client_for(alice).post(f"/customs/{record.pk}/link/", {"company": acme.pk}).status_code == 403
    assert client_for(alice).post(f"/customs/{record.pk}/unlink/", {}).status_code == 403
    resp = client_for(carol).post(f"/customs/{record.pk}/link/", {"company": west_co.pk}, follow=True)
    assert "Choose a customer you can see." in resp.content.decode()
    assert CustomsRecord.objects.get(pk=record.pk).company_id == acme.pk


def test_pages_need_a_login(client, acme, add_records):
    (record,) = add_records({}, company=acme)
    for url in ("/customs/", f"/customs/{record.pk}/", f"/customers/{acme.pk}/customs/"):
        assert client.get(url).status_code == 302


def test_linking_a_to_order_record_moves_only_the_same_notify_party(carol, acme, add_records, client_for):
    a, b, other, alone = add_records(
        {"importer_name": "TO ORDER", "notify_party": "Acme Imports LLC"},
        {"importer_name": "TO THE ORDER", "notify_party": "Acme Imports LLC"},
        {"importer_name": "TO ORDER", "notify_party": "Another Buyer Inc"},
        {"importer_name": "TO ORDER"},
    )
    c = client_for(carol)
    assert c.get(f"/customs/{a.pk}/").context["same_importer_count"] == 2
    c.post(f"/customs/{a.pk}/link/", {"company": acme.pk, "same_importer": "1"})
    assert set(CustomsRecord.objects.filter(company=acme).values_list("pk", flat=True)) == {a.pk, b.pk}
    c.post(f"/customs/{alone.pk}/link/", {"company": acme.pk, "same_importer": "1"})
    assert CustomsRecord.objects.get(pk=other.pk).company_id is None
    assert CustomsRecord.objects.filter(company=acme).count() == 3
