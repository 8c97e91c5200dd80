"""/api/v1/products and /api/v1/price-lists: lists with filters and keyset paging, create, get
with ETag/304, patch with versions, delete, photos, the price for a quantity, import/export,
price lists with items; 403 for sales reps on writes, cost fields hidden from them; responses
match the schemas.

Products are shared by the whole company, so there is no "not yours" 404 here: unknown ids give
404 (tested below for every by-id endpoint, as dave)."""

import io

import pytest
import python_calamine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tradecrm.accounts.models import ApiToken
from tradecrm.catalog import services
from tradecrm.catalog.models import PriceList, PriceListItem, Product, ProductPhoto
from tradecrm.catalog.schemas import (
    CatalogImportOut,
    CatalogImportRefused,
    PhotoOut,
    PriceItemOut,
    PriceItemPage,
    PriceListOut,
    PriceListPage,
    ProductOut,
    ProductPage,
    ProductPickerOut,
    ProductPriceOut,
)

pytestmark = pytest.mark.django_db
JSON = "application/json"
BASE = "/api/v1/products"
LISTS = "/api/v1/price-lists"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
MISSING = 999999


@pytest.fixture
def api_for(db):
    def make(user):
        _tok, raw = ApiToken.issue(user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


@pytest.fixture
def usd(carol, flask):
    pl = services.price_list_create(actor=carol, data={"name": "FOB Ningbo USD", "currency": "USD"})
    services.price_set(actor=carol, price_list=pl, product=flask, unit_price="5.8", min_quantity=1)
    services.price_set(actor=carol, price_list=pl, product=flask, unit_price="5.5", min_quantity=1000)
    return pl


def test_unknown_ids_are_404_on_every_by_id_endpoint(api_for, dave, flask, usd):
    c = api_for(dave)
    for path in (f"{BASE}/{MISSING}", f"{BASE}/{MISSING}/price?currency=USD", f"{BASE}/photos/{MISSING}",
                 f"{LISTS}/{MISSING}", f"{LISTS}/{MISSING}/items", f"{LISTS}/{MISSING}/export"):  # fmt: skip
        assert c.get(path).status_code == 404, path
    assert c.patch(f"{BASE}/{MISSING}", {"name_en": "x", "version": 1}, content_type=JSON).status_code == 404
    assert c.delete(f"{BASE}/{MISSING}").status_code == 404
    assert c.delete(f"{BASE}/photos/{MISSING}").status_code == 404
    assert c.post(f"{BASE}/{MISSING}/photos", {"file": SimpleUploadedFile("a.png", PNG)}).status_code == 404
    assert c.patch(f"{LISTS}/{MISSING}", {"notes": "x", "version": 1}, content_type=JSON).status_code == 404
    assert c.delete(f"{LISTS}/{MISSING}/items/{MISSING}").status_code == 404
    # dave (another team) reads the shared catalogue like everyone
    assert c.get(f"{BASE}/{flask.pk}").status_code == 200 and c.get(f"{LISTS}/{usd.pk}").status_code == 200


def test_sales_reps_get_403_on_writes_and_nothing_changes(api_for, alice, flask, usd):
    c = api_for(alice)
    photo = services.product_photo_add(actor=None, product=flask, upload=SimpleUploadedFile("a.png", PNG))
    item = PriceListItem.objects.first()
    answers = [
        c.post(BASE, {"sku": "X-1", "name_en": "X"}, content_type=JSON),
        c.patch(f"{BASE}/{flask.pk}", {"name_en": "X", "version": 1}, content_type=JSON),
        c.delete(f"{BASE}/{flask.pk}"),
        c.post(f"{BASE}/{flask.pk}/photos", {"file": SimpleUploadedFile("b.png", PNG)}),
        c.delete(f"{BASE}/photos/{photo.pk}"),
        c.post(f"{BASE}/import", {"file": SimpleUploadedFile("p.csv", b"SKU,Name\nA,B\n")}),
        c.post(LISTS, {"name": "L", "currency": "EUR"}, content_type=JSON),
        c.patch(f"{LISTS}/{usd.pk}", {"notes": "x", "version": usd.version}, content_type=JSON),
        c.delete(f"{LISTS}/{usd.pk}"),
        c.post(f"{LISTS}/{usd.pk}/items", {"product": flask.pk, "unit_price": 1}, content_type=JSON),
        c.delete(f"{LISTS}/{usd.pk}/items/{item.pk}"),
        c.post(
            f"{LISTS}/{usd.pk}/import", {"file": SimpleUploadedFile("p.csv", b"SKU,Unit price\nVF-500,1\n")}
        ),
    ]
    for r in answers:
        assert r.status_code == 403, r.content
        assert r.json() == {"detail": "Only managers and administrators may change products and price lists."}
    assert Product.objects.get().name_en.startswith("Stainless") and ProductPhoto.objects.count() == 1
    assert PriceList.objects.count() == 1 and PriceListItem.objects.count() == 2


def test_list_filters_paging_and_costs_by_role(api_for, alice, carol, flask, make_product):
    make_product(sku="LB-9", name_en="LED bulb", name_zh="LED球泡灯", hs_code="85395200", category="Lighting")
    make_product(sku="LB-7", name_en="LED bulb 7W", hs_code="85395200", category="Lighting", active=False)
    r = api_for(alice).get(BASE, {"limit": 2, "sort": "sku"})
    page = ProductPage.model_validate(r.json())
    assert [p.sku for p in page.items] == ["LB-7", "LB-9"] and page.next_cursor
    assert "purchase_cost_cny" not in r.json()["items"][0] and "supplier" not in r.json()["items"][0]
    r2 = api_for(alice).get(BASE, {"limit": 2, "sort": "sku", "cursor": page.next_cursor})
    assert [p["sku"] for p in r2.json()["items"]] == ["VF-500"]
    c = api_for(carol)
    assert [p["sku"] for p in c.get(BASE, {"q": "球泡"}).json()["items"]] == ["LB-9"]
    assert [p["sku"] for p in c.get(BASE, {"hs_code": "8539", "active": "false"}).json()["items"]] == ["LB-7"]
    assert [p["sku"] for p in c.get(BASE, {"category": "Lighting", "sort": "-sku"}).json()["items"]] == [
        "LB-9",
        "LB-7",
    ]
    row = next(p for p in c.get(BASE, {"q": "VF-500"}).json()["items"])
    assert row["purchase_cost_cny"] == "28.5000" and row["supplier"] == "Yongkang Hengda Cup Factory"
    assert c.get(BASE, {"cursor": "garbage"}).status_code == 400


def test_create_get_etag_patch_delete(api_for, carol):
    c = api_for(carol)
    r = c.post(BASE, {"sku": "LP-600", "name_en": "LED panel", "hs_code": "9405.11.00", "units_per_carton": 4,
                      "carton_length_cm": 62, "carton_width_cm": "62", "carton_height_cm": 18,
                      "purchase_cost_cny": "58.00", "tax_rebate_rate": 13}, content_type=JSON)  # fmt: skip
    assert r.status_code == 201, r.content
    out = ProductOut.model_validate(r.json())
    assert out.hs_code == "94051100" and out.carton_cbm == "0.0692" and r["ETag"] == '"1"'
    assert r["Location"] == f"{BASE}/{out.id}"
    assert c.get(f"{BASE}/{out.id}", HTTP_IF_NONE_MATCH='"1"').status_code == 304
    assert c.patch(f"{BASE}/{out.id}", {"name_zh": "LED平板灯"}, content_type=JSON).status_code == 428
    r = c.patch(f"{BASE}/{out.id}", {"name_zh": "LED平板灯"}, content_type=JSON, HTTP_IF_MATCH='"1"')
    assert r.status_code == 200 and r.json()["version"] == 2 and r["ETag"] == '"2"'
    r = c.patch(f"{BASE}/{out.id}", {"name_zh": "旧", "version": 1}, content_type=JSON)
    assert r.status_code == 409 and r.json()["current_version"] == 2
    assert c.delete(f"{BASE}/{out.id}", HTTP_IF_MATCH='"1"').status_code == 409
    assert c.delete(f"{BASE}/{out.id}").status_code == 204 and not Product.objects.exists()


def test_validation_errors_are_422_with_fields(api_for, carol, flask):
    c = api_for(carol)
    r = c.post(
        BASE, {"sku": "vf-500", "name_en": "X", "moq": 0, "vat_rate": "abc", "unit": "bbl"}, content_type=JSON
    )
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["detail"]}
    assert fields == {"sku", "moq", "vat_rate", "unit"}
    r = c.post(BASE, {"sku": "A", "name_en": "B", "colour": "red"}, content_type=JSON)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "colour"
    assert Product.objects.count() == 1


def test_get_hides_costs_from_sales(api_for, alice, carol, flask):
    sales = api_for(alice).get(f"{BASE}/{flask.pk}").json()
    ProductOut.model_validate(sales)
    assert not {"purchase_cost_cny", "vat_rate", "tax_rebate_rate", "supplier"} & sales.keys()
    manager = api_for(carol).get(f"{BASE}/{flask.pk}").json()
    assert manager["tax_rebate_rate"] == "13.00" and manager["purchase_cost_cny"] == "28.5000"


def test_price_endpoint(api_for, alice, flask, usd):
    c = api_for(alice)
    r = c.get(f"{BASE}/{flask.pk}/price", {"currency": "usd", "quantity": "1200"})
    out = ProductPriceOut.model_validate(r.json())
    assert (out.unit_price, out.min_quantity, out.price_list.name) == ("5.5000", "1000.000", "FOB Ningbo USD")
    r = c.get(f"{BASE}/{flask.pk}/price", {"currency": "EUR"})
    assert r.status_code == 200 and r.json()["unit_price"] is None and r.json()["price_list"] is None
    r = c.get(f"{BASE}/{flask.pk}/price", {"currency": "EURO", "quantity": "-1", "date": "2026-02-30"})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["detail"]} == {"currency", "quantity", "date"}


def test_photos_upload_download_delete(api_for, carol, alice, flask):
    c = api_for(carol)
    r = c.post(f"{BASE}/{flask.pk}/photos", {"file": SimpleUploadedFile("front.png", PNG)})
    assert r.status_code == 201
    photo = PhotoOut.model_validate(r.json())
    assert photo.content_type == "image/png" and r["Location"] == photo.url
    r = c.post(f"{BASE}/{flask.pk}/photos", {"file": SimpleUploadedFile("manual.pdf", b"%PDF-1.4 xx")})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "file"
    got = api_for(alice).get(photo.url)
    assert got.status_code == 200 and b"".join(got.streaming_content) == PNG
    assert [p["id"] for p in c.get(f"{BASE}/{flask.pk}").json()["photos"]] == [photo.id]
    assert c.delete(photo.url).status_code == 204 and not ProductPhoto.objects.exists()


def test_import_dry_run_refusal_and_export(api_for, carol, alice, flask):
    c = api_for(carol)
    csv = "货号,英文品名,海关编码\nMG-350,Ceramic mug,6912.00.10\nVF-500,Stainless steel vacuum flask 500 ml,96170090\n"
    r = c.post(f"{BASE}/import", {"file": SimpleUploadedFile("p.csv", csv.encode()), "dry_run": "true"})
    out = CatalogImportOut.model_validate(r.json())
    assert r.status_code == 200 and out.dry_run and (out.created, out.updated, out.unchanged) == (1, 0, 1)
    assert Product.objects.count() == 1
    r = c.post(f"{BASE}/import", {"file": SimpleUploadedFile("p.csv", csv.encode())})
    assert r.status_code == 200 and Product.objects.count() == 2
    bad = "SKU,Name,HS code\nX-1,,12\n"
    r = c.post(f"{BASE}/import", {"file": SimpleUploadedFile("bad.csv", bad.encode())})
    refused = CatalogImportRefused.model_validate(r.json())
    assert r.status_code == 422 and not refused.ok
    assert [d.message for d in refused.detail] == [
        "row 2, column Name: Enter the English name.",
        "row 2, column HS code: “12” is not an HS code: enter 6 to 10 digits (dots and spaces are ignored).",
    ]
    assert api_for(alice).get(f"{BASE}/export", {"q": "mug"}).status_code == 403  # no export permission
    alice.can_export = True
    alice.save(update_fields=["can_export"])
    r = api_for(alice).get(f"{BASE}/export", {"q": "mug"})
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = (
        python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(b"".join(r.streaming_content)))
        .get_sheet_by_index(0)
        .to_python()
    )
    sku = rows[0].index("SKU")
    assert [row[sku] for row in rows] == ["SKU", "MG-350"] and "Purchase cost (CNY)" not in rows[0]


def test_picker(api_for, alice, flask, usd):
    r = api_for(alice).get(f"{BASE}/picker", {"q": "VF"})
    out = ProductPickerOut.model_validate(r.json())
    assert [i.sku for i in out.items] == ["VF-500"] and out.items[0].cost is None
    assert out.items[0].prices["USD"]["breaks"][1] == {"min_quantity": "1000.000", "unit_price": "5.5000"}


def test_price_lists_crud_and_items(api_for, carol, flask):
    c = api_for(carol)
    r = c.post(
        LISTS, {"name": "EU distributors", "currency": "eur", "valid_from": "2026-01-01"}, content_type=JSON
    )
    assert r.status_code == 201
    pl = PriceListOut.model_validate(r.json())
    assert pl.currency == "EUR" and pl.prices == 0
    r = c.post(
        f"{LISTS}/{pl.id}/items",
        {"product": flask.pk, "unit_price": "5.34", "min_quantity": 1},
        content_type=JSON,
    )
    item = PriceItemOut.model_validate(r.json())
    assert r.status_code == 200 and item.unit_price == "5.3400"
    r = c.post(f"{LISTS}/{pl.id}/items", {"product": MISSING, "unit_price": 1}, content_type=JSON)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "product"
    page = PriceItemPage.model_validate(c.get(f"{LISTS}/{pl.id}/items").json())
    assert [i.product.sku for i in page.items] == ["VF-500"]
    got = c.get(f"{LISTS}/{pl.id}")
    assert got.json()["prices"] == 1 and got["ETag"] == '"2"'  # the price moved the list's version
    listing = PriceListPage.model_validate(c.get(LISTS).json())
    assert [p.name for p in listing.items] == ["EU distributors"]
    r = c.patch(f"{LISTS}/{pl.id}", {"valid_until": "2025-12-31", "version": 2}, content_type=JSON)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "valid_until"
    assert c.delete(f"{LISTS}/{pl.id}/items/{item.id}").status_code == 204
    exported = c.get(f"{LISTS}/{pl.id}/export")
    assert exported.status_code == 200
    r = c.post(f"{LISTS}/{pl.id}/import", {"file": SimpleUploadedFile("p.xlsx", exported.content)})
    assert r.status_code == 200 and r.json()["rows"] == 0
    assert c.delete(f"{LISTS}/{pl.id}").status_code == 204 and not PriceList.objects.exists()
