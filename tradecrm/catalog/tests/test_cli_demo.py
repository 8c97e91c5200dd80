"""`tradecrm products import|export` and the demo catalogue."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from tradecrm.catalog.demo import demo_products
from tradecrm.catalog.models import PriceList, PriceListItem, Product
from tradecrm.catalog.selectors import price_for

pytestmark = pytest.mark.django_db


def test_cli_dry_run_import_and_export(tmp_path, carol, make_xlsx, capsys):
    src = tmp_path / "in.xlsx"
    src.write_bytes(
        make_xlsx([["产品报价"], ["货号", "英文品名", "中文品名"], ["TS-180", "Cotton T-shirt", "纯棉T恤"]])
    )
    call_command("products", "import", str(src), "--dry-run", "--user", "carol")
    assert "Would import 1 rows (header on row 2): 1 new, 0 updated, 0 unchanged." in capsys.readouterr().out
    assert not Product.objects.exists()
    call_command("products", "import", str(src), "--user", "carol")
    assert Product.objects.get().name_zh == "纯棉T恤"
    out = tmp_path / "out.xlsx"
    call_command("products", "export", str(out))
    assert out.read_bytes()[:2] == b"PK"
    call_command("products", "import", str(out))
    assert "0 new, 0 updated, 1 unchanged" in capsys.readouterr().out


def test_cli_refuses_bad_rows_sales_users_and_missing_files(tmp_path, alice, make_xlsx, capsys):
    src = tmp_path / "bad.xlsx"
    src.write_bytes(make_xlsx([["SKU", "Name", "HS code"], ["A-1", "Thing", "99"]]))
    with pytest.raises(CommandError, match="Nothing imported: 1 problem"):
        call_command("products", "import", str(src))
    assert "row 2, column HS code:" in capsys.readouterr().err
    with pytest.raises(CommandError, match="Only managers and administrators"):
        call_command("products", "import", str(src), "--user", "alice")
    with pytest.raises(CommandError, match="No file at"):
        call_command("products", "import", str(tmp_path / "nope.xlsx"))
    assert not Product.objects.exists()


def test_demo_products_with_prices(carol):
    assert demo_products(3) == 3  # the demo command asks for 40; 3 keep the test fast
    assert Product.objects.count() == 3 and PriceList.objects.count() == 2
    flask = Product.objects.get(sku="VF-100")
    assert flask.name_zh.startswith("不锈钢") and flask.hs_code == "96170090" and flask.carton_cbm
    assert flask.purchase_cost_cny and flask.tax_rebate_rate == 13
    assert PriceListItem.objects.count() == 3 * 2 * 3  # USD and EUR, three quantity breaks each
    usd = price_for(flask, "USD", 1)
    assert usd == Decimal("5.8") and price_for(flask, "USD", 10_000) < usd
    assert price_for(flask, "EUR", 1) < usd
    assert demo_products(3) == 0  # reruns add nothing twice
    assert demo_products(4) == 1
