"""Fixtures of the catalogue tests: photos land in a temporary media directory; a product made
through the service (by carol, a manager) and XLSX files built in the test with xlsxwriter."""

import io

import pytest
import xlsxwriter


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    return tmp_path


@pytest.fixture
def make_product(carol):
    from tradecrm.catalog.services import product_create

    def make(actor=None, **data):
        data.setdefault("sku", "VF-500")
        data.setdefault("name_en", "Vacuum flask 500 ml")
        return product_create(actor=actor or carol, data=data)

    return make


@pytest.fixture
def flask(make_product):
    return make_product(
        sku="VF-500",
        name_en="Stainless steel vacuum flask 500 ml",
        name_zh="不锈钢真空保温杯 500毫升",
        specification="18/8 stainless steel, double wall, powder coated",
        category="Drinkware",
        hs_code="9617.00.90",
        unit="pcs",
        moq="500",
        units_per_carton=24,
        carton_length_cm="52",
        carton_width_cm="35",
        carton_height_cm="26",
        carton_gross_weight_kg="9.6",
        carton_net_weight_kg="8.4",
        purchase_cost_cny="28.50",
        vat_rate="13",
        tax_rebate_rate="13",
        supplier="Yongkang Hengda Cup Factory",
    )


def xlsx(rows, sheet="Sheet1") -> bytes:
    """An .xlsx file whose first sheet holds `rows` (lists of cells; None leaves a cell empty)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = book.add_worksheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, bool):
                ws.write_boolean(r, c, value)
            elif isinstance(value, int | float):
                ws.write_number(r, c, value)
            else:
                ws.write_string(r, c, str(value))
    book.close()
    return out.getvalue()


@pytest.fixture
def make_xlsx():
    return xlsx
