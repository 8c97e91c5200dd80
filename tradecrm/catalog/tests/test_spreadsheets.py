"""XLSX / CSV import and export of products and price lists. Fixture files are built here with
xlsxwriter (no binary files in the repository)."""

import io
from decimal import Decimal

import pytest
import python_calamine
from django.core.exceptions import PermissionDenied, ValidationError

from tradecrm.audit.models import AuditEvent
from tradecrm.catalog import services, spreadsheets
from tradecrm.catalog.models import PriceList, PriceListItem, Product
from tradecrm.catalog.spreadsheets import describe_error, products_import

pytestmark = pytest.mark.django_db
D = Decimal
CHINESE_HEADER = ["货号", "英文品名", "中文品名", "规格", "海关编码", "单位", "起订量", "装箱数", "外箱尺寸",
                  "毛重(KG)", "净重(KG)", "采购价（元）", "增值税率", "退税率", "供应商", "分类"]  # fmt: skip


def _export(user) -> bytes:
    """Every product as the list's "Export XLSX" gives it to `user` (who may export)."""
    from tradecrm.reports.exports import export_prepare

    if not user.can_export:
        user.can_export = True
        user.save(update_fields=["can_export"])
    out = io.BytesIO()
    for piece in export_prepare(actor=user, entity="products", fmt="xlsx", params={"active": "all"}).chunks():
        out.write(piece)
    return out.getvalue()


def _read(data: bytes) -> list[list]:
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    return book.get_sheet_by_index(0).to_python(skip_empty_area=False)


def _chinese_file(make_xlsx, rows):
    return make_xlsx([["宁波恒达进出口有限公司 产品报价资料"], ["2026年3月"], [], CHINESE_HEADER, *rows])


MUG = ["MG-350", "Ceramic mug 350 ml", "陶瓷马克杯", "Stoneware", "6912.00.10", "个", 1000, 36, "45×30×28",
       12.5, 11, 6.8, 0.13, 0.13, "潮州华艺陶瓷厂", "Drinkware"]  # fmt: skip


def test_chinese_headers_below_title_rows(carol, make_xlsx):
    data = _chinese_file(make_xlsx, [MUG])
    result = products_import(actor=carol, file=data, filename="报价.xlsx")
    assert result.ok and result.header_row == 4 and (result.created, result.updated) == (1, 0)
    p = Product.objects.get()
    assert (p.sku, p.name_zh, p.unit, p.hs_code) == ("MG-350", "陶瓷马克杯", "pcs", "69120010")
    assert (p.carton_length_cm, p.carton_width_cm, p.carton_height_cm) == (D("45"), D("30"), D("28"))
    assert p.carton_cbm == D("0.0378")  # worked out from the size
    assert (p.vat_rate, p.tax_rebate_rate) == (D("13"), D("13"))  # percent-formatted cells (0.13) read as 13
    assert p.purchase_cost_cny == D("6.8") and p.supplier == "潮州华艺陶瓷厂" and p.category == "Drinkware"
    event = AuditEvent.objects.get(action="product.import")
    assert event.changes["created"] == 1 and event.actor == carol


def test_bad_rows_are_listed_with_row_and_column_and_nothing_is_written(carol, make_xlsx, flask):
    bad_size = [*MUG[:8], "45×30", *MUG[9:]]
    bad = ["LP-600", "", "LED平板灯", "", "9405", "barrel", 0, 4, "", 10, 12, -1, 13, 20, "", ""]
    data = _chinese_file(make_xlsx, [MUG, bad_size, bad, ["VF-500", "Flask", "", "", "", "pcs", *[""] * 10]])
    result = products_import(actor=carol, file=data, filename="p.xlsx")
    messages = [describe_error(e) for e in result.errors]
    assert "row 6, column 货号: The SKU “MG-350” is also on row 5." in messages
    assert "row 7, column 英文品名: Enter the English name." in messages
    assert (
        "row 7, column 海关编码: “9405” is not an HS code: enter 6 to 10 digits (dots and spaces are ignored)."
        in messages
    )
    assert any(m.startswith("row 7, column 单位: “barrel” is not a unit") for m in messages)
    assert "row 7, column 起订量: Enter a number greater than 0." in messages
    assert (
        "row 7, column 净重(KG): The net weight (12 kg) cannot be more than the gross weight (10 kg)."
        in messages
    )
    assert "row 7, column 采购价（元）: Enter a number of at least 0." in messages
    assert (
        "row 7, column 退税率: The export tax-rebate rate (20%) cannot be higher than the VAT rate (13%)."
        in messages
    )
    assert not any(m.startswith("row 5,") or m.startswith("row 8,") for m in messages)
    assert not result.ok
    assert list(Product.objects.values_list("sku", flat=True)) == ["VF-500"]
    assert Product.objects.get().name_en.startswith("Stainless")  # row 8 (valid) was not applied either
    assert not AuditEvent.objects.filter(action="product.import").exists()


def test_carton_size_that_cannot_be_read(carol, make_xlsx):
    data = _chinese_file(make_xlsx, [[*MUG[:8], "45 by 30", *MUG[9:]]])
    result = products_import(actor=carol, file=data, filename="p.xlsx")
    assert [describe_error(e) for e in result.errors] == [
        "row 5, column 外箱尺寸: “45 by 30” is not a carton size: enter length × width × height in cm, e.g. 60×40×35."
    ]


def test_dry_run_reports_created_updated_unchanged_and_writes_nothing(carol, make_xlsx, flask, make_product):
    make_product(sku="MG-350", name_en="Ceramic mug 350 ml", unit="pcs")
    data = make_xlsx(
        [
            ["SKU", "Name", "MOQ"],
            ["vf-500", "Stainless steel vacuum flask 500 ml", 500],  # same values, SKU in lower case
            ["MG-350", "Ceramic mug 350 ml", 2000],  # MOQ changes
            ["TS-180", "Cotton T-shirt", 500],  # new
        ]
    )
    result = products_import(actor=carol, file=data, filename="p.xlsx", dry_run=True)
    assert result.ok and (result.created, result.updated, result.unchanged) == (1, 1, 1)
    statuses = {p["sku"]: (p["status"], p["changes"]) for p in result.preview}
    assert statuses["MG-350"] == ("updated", ["MOQ"])
    assert statuses["TS-180"][0] == "created"
    assert Product.objects.count() == 2 and Product.objects.get(sku="MG-350").moq is None
    assert not AuditEvent.objects.filter(action="product.import").exists()


def test_second_import_of_the_same_file_changes_nothing(carol, make_xlsx):
    data = _chinese_file(make_xlsx, [MUG, ["LB-9", "LED bulb A60 9W", "LED球泡灯", "", "8539.52.00", "pcs", 3000,
                                           100, "52x42x26", 6.5, 5.2, 3.2, 13, 13, "", "Lighting"]])  # fmt: skip
    first = products_import(actor=carol, file=data, filename="p.xlsx")
    assert (first.created, first.updated) == (2, 0)
    versions = dict(Product.objects.values_list("sku", "version"))
    second = products_import(actor=carol, file=data, filename="p.xlsx")
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    assert dict(Product.objects.values_list("sku", "version")) == versions


def test_export_then_import_changes_nothing(carol, flask, make_product):
    make_product(sku="0901-A", name_en="Coffee beans 1 kg", hs_code="0901.21.00", unit="kg", moq="0.5",
                 specification="Line one\nLine two", active=False, purchase_cost_cny="0.0125")  # fmt: skip
    data = _export(carol)
    rows = _read(data)
    assert rows[0][:4] == ["ID", "SKU", "Name (English)", "Name (Chinese)"] and "Purchase cost (CNY)" in rows[0]
    assert [r[1] for r in rows[1:]] == ["0901-A", "VF-500"]  # by SKU
    result = products_import(actor=carol, file=data, filename="products.xlsx")
    assert result.ok and (result.created, result.updated, result.unchanged) == (0, 0, 2), result.preview
    assert Product.objects.get(sku="0901-A").hs_code == "09012100"


def test_sales_export_has_no_cost_columns(alice, flask):
    rows = _read(_export(alice))
    header = rows[0]
    for column in ("Purchase cost (CNY)", "VAT rate (%)", "Export tax-rebate rate (%)", "Supplier"):
        assert column not in header
    assert "28.5" not in str(rows) and "Yongkang" not in str(rows)
    assert rows[1][header.index("HS code")] == "96170090"


def test_a_sales_export_imported_by_a_manager_keeps_the_costs(carol, alice, flask):
    data = _export(alice)
    result = products_import(actor=carol, file=data, filename="from-alice.xlsx")
    assert result.unchanged == 1
    assert Product.objects.get().purchase_cost_cny == D("28.5")


def test_csv_in_gb18030_with_semicolons(carol):
    text = "货号;英文品名;中文品名;毛重;净重\nBP-01;Ceramic brake pads;陶瓷刹车片;18,5;17\n"
    result = products_import(actor=carol, file=text.encode("gb18030"), filename="pads.csv")
    assert result.ok, result.errors
    p = Product.objects.get()
    assert (p.name_zh, p.carton_gross_weight_kg) == ("陶瓷刹车片", D("18.5"))


def test_unreadable_files_and_missing_header(carol, alice, make_xlsx):
    with pytest.raises(ValidationError) as exc:
        products_import(actor=carol, file=b"PK\x03\x04 broken", filename="p.xlsx")
    assert "could not be read as a spreadsheet" in exc.value.message_dict["file"][0]
    with pytest.raises(ValidationError) as exc:
        products_import(actor=carol, file=make_xlsx([["Item", "Price"], ["A", 1]]), filename="p.xlsx")
    assert "No header row found" in exc.value.message_dict["file"][0]
    with pytest.raises(PermissionDenied):
        products_import(actor=alice, file=make_xlsx([["SKU", "Name"], ["A", "B"]]), filename="p.xlsx")
    assert not Product.objects.exists()


def test_unknown_columns_are_reported_as_ignored(carol, make_xlsx):
    data = make_xlsx([["SKU", "Name", "Price USD", "Remark"], ["A-1", "Thing", 3.5, "new"]])
    result = products_import(actor=carol, file=data, filename="p.xlsx")
    assert result.ok and result.ignored_columns == ["Price USD", "Remark"]


def test_price_list_import_export_round_trip(carol, alice, flask, make_product, make_xlsx):
    usd = services.price_list_create(actor=carol, data={"name": "FOB USD", "currency": "USD"})
    make_product(sku="MG-350", name_en="Mug")
    data = make_xlsx([["Prices 2026"], ["货号", "起始数量", "单价"], ["VF-500", 1, 5.8], ["vf-500", 1000, 5.5],
                      ["MG-350", None, 1.35]])  # fmt: skip
    result = spreadsheets.price_list_import(
        actor=carol, price_list=usd, file=data, filename="p.xlsx", dry_run=True
    )
    assert result.ok and result.created == 3 and not PriceListItem.objects.exists()
    result = spreadsheets.price_list_import(actor=carol, price_list=usd, file=data, filename="p.xlsx")
    assert result.created == 3 and PriceListItem.objects.count() == 3
    exported = spreadsheets.price_list_export_xlsx(alice, usd)
    assert _read(exported)[0] == ["SKU", "Name (English)", "From quantity", "Unit price (USD)"]
    again = spreadsheets.price_list_import(actor=carol, price_list=usd, file=exported, filename="e.xlsx")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_price_list_import_errors(carol, flask, make_xlsx):
    usd = services.price_list_create(actor=carol, data={"name": "FOB USD", "currency": "USD"})
    data = make_xlsx(
        [["SKU", "Min qty", "Unit price"], ["NOPE", 1, 2], ["VF-500", 0, 5], ["VF-500", 1, "abc"]]
    )
    result = spreadsheets.price_list_import(actor=carol, price_list=usd, file=data, filename="p.xlsx")
    assert [describe_error(e) for e in result.errors] == [
        "row 2, column SKU: No product has the SKU “NOPE”.",
        "row 3, column Min qty: Enter a number greater than 0.",
        "row 4, column Unit price: “abc” is not a number.",
    ]
    assert not PriceListItem.objects.exists() and PriceList.objects.get().version == 1
