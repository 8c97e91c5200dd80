"""Web pages of the catalogue: list with filters, detail (cost panel for managers only), forms,
photos, prices, import preview → confirm, export, the line picker's JSON; 403 for sales reps
on every change, 404 for unknown ids.

Products and price lists are shared by the whole company: the "dave gets 404" rule of the
customer archive applies to nothing here (dave sees the catalogue like everyone), so the 404
tests use ids that do not exist."""

import io

import pytest
import python_calamine
from django.core.files.uploadedfile import SimpleUploadedFile

from tradecrm.catalog import services
from tradecrm.catalog.models import PriceList, PriceListItem, Product, ProductPhoto

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
MISSING = 999999


@pytest.fixture
def usd(carol, flask):
    pl = services.price_list_create(actor=carol, data={"name": "FOB Ningbo USD", "currency": "USD"})
    services.price_set(actor=carol, price_list=pl, product=flask, unit_price="5.8", min_quantity=1)
    return pl


def test_list_search_and_filters(client_for, alice, flask, make_product):
    make_product(
        sku="LB-9", name_en="LED bulb", name_zh="LED球泡灯", hs_code="8539.52.00", category="Lighting"
    )
    make_product(sku="OLD-1", name_en="Old bulb", hs_code="8539.52.00", active=False)
    c = client_for(alice)
    html = c.get("/products/").content.decode()
    assert "VF-500" in html and "LB-9" in html and "OLD-1" not in html  # active products by default
    assert "Cost (CNY)" not in html
    html = c.get("/products/", {"q": "球泡"}).content.decode()
    assert "LB-9" in html and "VF-500" not in html
    html = c.get("/products/", {"hs": "8539.52", "active": "all"}).content.decode()
    assert "LB-9" in html and "OLD-1" in html and "VF-500" not in html
    r = c.get("/products/", {"category": "Lighting"}, HTTP_HX_REQUEST="true")
    assert "LB-9" in r.content.decode() and "<html" not in r.content.decode()
    assert r["HX-Push-Url"] == "/products/?category=Lighting"


def test_detail_shows_cost_panel_only_to_managers(client_for, alice, carol, flask, usd):
    html = client_for(carol).get(f"/products/{flask.pk}/").content.decode()
    assert 'data-testid="cost-panel"' in html and "28.50" in html and "Yongkang" in html
    assert "25.22" in html  # cost after the rebate: 28.50 − 28.50 ÷ 1.13 × 13 %
    assert "5.80 USD" in html and "0.0473 m³" in html and "9617.00.90" in html
    html = client_for(alice).get(f"/products/{flask.pk}/").content.decode()
    assert 'data-testid="cost-panel"' not in html and "28.5" not in html and "Yongkang" not in html
    assert "5.80 USD" in html and f"/products/{flask.pk}/edit/" not in html


def test_margin_of_each_price_at_todays_rate(client_for, carol, flask, usd):
    from django.utils import timezone

    from tradecrm.core.fx import rate_set

    html = client_for(carol).get(f"/products/{flask.pk}/").content.decode()
    assert "No purchase cost or no exchange rate to CNY for today" in html  # no rate yet
    rate_set(actor=None, base="USD", quote="CNY", date=timezone.localdate(), rate="7.2")
    html = client_for(carol).get(f"/products/{flask.pk}/").content.decode()
    # 5.80 USD × 7.2 = 41.76 CNY against 25.22 CNY after the rebate
    assert "39.6 %" in html


def test_unknown_ids_are_404(client_for, dave, carol):
    for user in (dave, carol):
        c = client_for(user)
        for url in (f"/products/{MISSING}/", f"/products/{MISSING}/edit/", f"/products/{MISSING}/delete/",
                    f"/products/photos/{MISSING}/", f"/price-lists/{MISSING}/", f"/price-lists/{MISSING}/edit/",
                    f"/price-lists/{MISSING}/export/", f"/price-lists/{MISSING}/import/"):  # fmt: skip
            assert c.get(url).status_code == 404, url
        assert c.post(f"/products/{MISSING}/photos/").status_code == 404
        assert c.post(f"/price-lists/prices/{MISSING}/delete/").status_code == 404


def test_dave_of_another_team_sees_the_shared_catalogue(client_for, dave, flask, usd):
    c = client_for(dave)
    assert c.get(f"/products/{flask.pk}/").status_code == 200
    assert c.get(f"/price-lists/{usd.pk}/").status_code == 200


def test_sales_reps_get_403_on_every_change(client_for, alice, flask, usd):
    c = client_for(alice)
    photo = services.product_photo_add(actor=None, product=flask, upload=SimpleUploadedFile("a.png", PNG))
    item = PriceListItem.objects.get()
    for url in ("/products/new/", f"/products/{flask.pk}/edit/", f"/products/{flask.pk}/delete/",
                "/products/import/", "/price-lists/new/", f"/price-lists/{usd.pk}/edit/",
                f"/price-lists/{usd.pk}/delete/", f"/price-lists/{usd.pk}/import/"):  # fmt: skip
        r = c.get(url)
        assert r.status_code == 403, url
        assert "Only managers and administrators may change products and price lists." in r.content.decode()
    assert c.post("/products/new/", {"sku": "X", "name_en": "X"}).status_code == 403
    assert c.post(f"/products/{flask.pk}/delete/").status_code == 403
    assert c.post(f"/products/photos/{photo.pk}/delete/").status_code == 403
    assert c.post(f"/price-lists/prices/{item.pk}/delete/").status_code == 403
    assert c.post(f"/price-lists/{usd.pk}/prices/", {"sku": "VF-500", "unit_price": "1"}).status_code == 403
    assert Product.objects.count() == 1 and ProductPhoto.objects.count() == 1
    assert str(PriceListItem.objects.get().unit_price) == "5.8000"


def test_create_with_errors_then_success(client_for, carol):
    c = client_for(carol)
    r = c.post("/products/new/", {"sku": "LP-600", "name_en": "", "hs_code": "94", "unit": "pcs", "vat_rate": "13",
                                  "tax_rebate_rate": "0", "active": "on"})  # fmt: skip
    assert r.status_code == 422
    html = r.content.decode()
    assert "Enter the English name." in html and "is not an HS code" in html
    assert not Product.objects.exists()
    r = c.post("/products/new/", {"sku": "LP-600", "name_en": "LED panel", "unit": "pcs", "vat_rate": "13",
                                  "tax_rebate_rate": "13", "active": "on", "carton_length_cm": "62",
                                  "carton_width_cm": "62", "carton_height_cm": "18"})  # fmt: skip
    p = Product.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/products/{p.pk}/"
    assert str(p.carton_cbm) == "0.0692" and p.active


def test_edit_form_round_trips_and_refuses_a_stale_version(client_for, carol, admin, flask):
    c = client_for(carol)
    page = c.get(f"/products/{flask.pk}/edit/").content.decode()
    assert 'value="9617.00.90"' in page and 'data-number="carton_cbm"' in page
    form = {"version": "1", "sku": "VF-500", "name_en": "Flask 500", "unit": "pcs", "vat_rate": "13",
            "tax_rebate_rate": "13", "active": "on", "carton_length_cm": "52", "carton_width_cm": "35",
            "carton_height_cm": "26"}  # fmt: skip
    services.product_update(actor=admin, product=flask, version=1, data={"name_zh": "保温杯"})
    r = c.post(f"/products/{flask.pk}/edit/", form)
    assert r.status_code == 409 and "while you were editing" in r.content.decode()
    r = c.post(f"/products/{flask.pk}/edit/", {**form, "version": "2"})
    assert r.status_code == 302
    assert Product.objects.get().name_en == "Flask 500"


def test_delete_page_warns_about_lines_and_suggests_deactivating(client_for, carol, flask):
    from django.utils import timezone

    from tradecrm.sales.models import Inquiry, InquiryItem

    inquiry = Inquiry.objects.create(channel="email", received_at=timezone.now())
    InquiryItem.objects.create(inquiry=inquiry, product=flask, description="flask")
    c = client_for(carol)
    html = c.get(f"/products/{flask.pk}/delete/").content.decode()
    assert 'data-testid="usage"' in html and "deactivate it instead" in html
    assert c.post(f"/products/{flask.pk}/delete/").status_code == 302
    assert not Product.objects.exists()


def test_photo_upload_show_and_delete(client_for, carol, alice, flask):
    c = client_for(carol)
    r = c.post(f"/products/{flask.pk}/photos/", {"file": [SimpleUploadedFile("a.png", PNG),
                                                          SimpleUploadedFile("b.txt", b"hello")]})  # fmt: skip
    assert r.status_code == 302
    photo = ProductPhoto.objects.get()
    page = c.get(f"/products/{flask.pk}/").content.decode()
    assert "is not a photo" in page and f"/products/photos/{photo.pk}/" in page
    r = client_for(alice).get(f"/products/photos/{photo.pk}/")
    assert (
        r.status_code == 200 and r["Content-Type"] == "image/png" and r["X-Content-Type-Options"] == "nosniff"
    )
    assert b"".join(r.streaming_content) == PNG
    assert c.post(f"/products/photos/{photo.pk}/delete/").status_code == 302
    assert not ProductPhoto.objects.exists()


def test_prices_from_the_product_page_and_the_price_list_page(client_for, carol, flask, usd):
    c = client_for(carol)
    c.post(
        f"/products/{flask.pk}/prices/", {"price_list": usd.pk, "min_quantity": "1000", "unit_price": "5.5"}
    )
    c.post(f"/price-lists/{usd.pk}/prices/", {"sku": "vf-500", "min_quantity": "5000", "unit_price": "5.2"})
    r = c.post(
        f"/price-lists/{usd.pk}/prices/", {"sku": "NOPE", "min_quantity": "1", "unit_price": "1"}, follow=True
    )
    assert "No product has the SKU “NOPE”." in r.content.decode()
    assert sorted(str(p) for p in PriceListItem.objects.values_list("unit_price", flat=True)) == [
        "5.2000",
        "5.5000",
        "5.8000",
    ]
    html = c.get(f"/price-lists/{usd.pk}/").content.decode()
    assert "5.20 USD" in html and "5.50 USD" in html
    html = c.get("/price-lists/").content.decode()
    assert "FOB Ningbo USD" in html and ">3<" in html


def test_export_download_for_sales_has_no_costs(client_for, alice, carol, flask):
    assert client_for(alice).get("/products/export/", {"q": "flask"}).status_code == 403  # no permission yet
    alice.can_export = True
    alice.save(update_fields=["can_export"])

    def header(user):
        r = client_for(user).get("/products/export/", {"q": "flask"})
        assert r.status_code == 200 and r["Content-Disposition"].startswith('attachment; filename="products-')
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(b"".join(r.streaming_content)))
        return book.get_sheet_by_index(0).to_python()

    assert "Purchase cost (CNY)" not in header(alice)[0] and len(header(alice)) == 2
    assert "Purchase cost (CNY)" in header(carol)[0]


def test_import_preview_then_confirm(client_for, carol, make_xlsx, flask):
    c = client_for(carol)
    data = make_xlsx([["货号", "英文品名", "起订量"], ["VF-500", "Stainless steel vacuum flask 500 ml", 800],
                      ["MG-350", "Ceramic mug", 1000]])  # fmt: skip
    r = c.post("/products/import/", {"file": SimpleUploadedFile("p.xlsx", data)})
    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="import-confirm"' in html
    assert 'data-testid="import-created">1<' in html and 'data-testid="import-updated">1<' in html
    assert Product.objects.count() == 1
    token = html.split('name="token" value="')[1].split('"')[0]
    r = c.post("/products/import/", {"token": token, "file_name": "p.xlsx", "action": "import"})
    assert r.status_code == 302 and Product.objects.count() == 2
    assert str(Product.objects.get(sku="VF-500").moq) == "800.000"
    r = c.post("/products/import/", {"token": token, "action": "import"})  # the file was used up
    assert r.status_code == 422 and "expired or was imported already" in r.content.decode()


def test_import_with_bad_rows_shows_them_and_offers_no_import(client_for, carol, make_xlsx):
    c = client_for(carol)
    data = make_xlsx([["Title"], ["SKU", "Name", "HS code"], ["A-1", "Thing", "12"]])
    r = c.post("/products/import/", {"file": SimpleUploadedFile("p.xlsx", data)})
    html = r.content.decode()
    assert r.status_code == 422 and "row 3, column HS code: “12” is not an HS code" in html
    assert 'data-testid="import-confirm-button"' not in html and not Product.objects.exists()
    r = c.post("/products/import/", {"file": SimpleUploadedFile("p.pdf", b"%PDF")})
    assert r.status_code == 422 and "Choose an XLSX, XLS, ODS or CSV file." in r.content.decode()


def test_price_list_import_page(client_for, carol, flask, usd, make_xlsx):
    c = client_for(carol)
    data = make_xlsx([["SKU", "From quantity", "Unit price"], ["VF-500", 1000, 5.4]])
    r = c.post(f"/price-lists/{usd.pk}/import/", {"file": SimpleUploadedFile("p.xlsx", data)})
    token = r.content.decode().split('name="token" value="')[1].split('"')[0]
    r = c.post(f"/price-lists/{usd.pk}/import/", {"token": token, "action": "import"})
    assert r.status_code == 302 and PriceListItem.objects.count() == 2


def test_picker_json(client_for, alice, carol, flask, usd, make_product):
    make_product(sku="OLD-1", name_en="Old flask", active=False)
    r = client_for(alice).get("/products/picker/", {"q": "保温"})
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["sku"] for i in items] == ["VF-500"]
    assert items[0]["prices"]["USD"]["unit_price"] == "5.8000" and items[0]["packing"]["cbm"] == "0.0473"
    assert "cost" not in items[0]
    items = client_for(carol).get("/products/picker/", {"q": "flask"}).json()["items"]
    assert [i["sku"] for i in items] == ["VF-500"] and items[0]["cost"]["purchase_cost_cny"] == "28.5000"


def test_price_list_create_edit_delete(client_for, carol):
    c = client_for(carol)
    r = c.post("/price-lists/new/", {"name": "EU", "currency": "EUR", "active": "on"})
    pl = PriceList.objects.get()
    assert r.status_code == 302 and pl.currency == "EUR"
    r = c.post(
        f"/price-lists/{pl.pk}/edit/", {"version": "1", "name": "EU", "currency": "XYZ", "active": "on"}
    )
    assert r.status_code == 422 and "not an ISO 4217 currency code" in r.content.decode()
    assert c.post(f"/price-lists/{pl.pk}/delete/").status_code == 302 and not PriceList.objects.exists()


def test_pages_render_in_chinese(client_for, carol, flask, usd):
    carol.language = "zh-hans"
    carol.save()
    c = client_for(carol)
    c.cookies["tradecrm_language"] = "zh-hans"
    for url in ("/products/", f"/products/{flask.pk}/", "/products/new/", "/price-lists/", f"/price-lists/{usd.pk}/",
                "/products/import/"):  # fmt: skip
        r = c.get(url)
        assert r.status_code == 200 and 'lang="zh-hans"' in r.content.decode(), url
