"""Factories for the orders tests. Proforma invoices are created directly with the ORM in an issued
state (numbered, FX frozen), so these tests do not depend on the documents app's services."""

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from tradecrm.accounts.models import ApiToken
from tradecrm.catalog.models import Product
from tradecrm.core.models import ExchangeRate
from tradecrm.documents.lines import Packing, line_figures, totals
from tradecrm.documents.models import ProformaInvoice, ProformaLine
from tradecrm.orders.services import order_from_proforma

D = Decimal
NOW = dt.datetime(2026, 3, 4, 2, 0, tzinfo=dt.UTC)  # Wed 10:00 in Shanghai (alice's zone)
TODAY = dt.date(2026, 3, 4)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def rates(db):
    """EUR→USD and USD→CNY around the test dates (base currency: USD, the default)."""

    def put(base, quote, day, rate):
        ExchangeRate.objects.create(base=base, quote=quote, date=day, rate=D(rate), source="ECB")

    put("EUR", "USD", dt.date(2026, 2, 2), "1.0800")
    put("EUR", "USD", dt.date(2026, 3, 2), "1.1000")
    put("EUR", "USD", dt.date(2026, 3, 4), "1.1200")
    put("USD", "CNY", dt.date(2026, 2, 2), "7.2000")
    put("USD", "CNY", dt.date(2026, 3, 2), "7.1000")
    return put


@pytest.fixture
def acme(make_company):
    """alice's customer; bob (same team) does not follow it, dave is in another team."""
    return make_company(name="Acme Imports LLC", country="US", city="Chicago")


@pytest.fixture
def mug(db):
    return Product.objects.create(
        sku="MUG-350", name_en="Ceramic mug 350 ml", name_zh="陶瓷杯 350 毫升", hs_code="6912001000",
        units_per_carton=48, carton_length_cm=D("50"), carton_width_cm=D("40"), carton_height_cm=D("30"),
        carton_gross_weight_kg=D("18.5"), carton_net_weight_kg=D("16"), purchase_cost_cny=D("6.50"),
        vat_rate=D("13"), tax_rebate_rate=D("13"),
    )  # fmt: skip


@pytest.fixture
def plate(db):
    return Product.objects.create(sku="PLT-27", name_en="Dinner plate 27 cm", name_zh="餐盘 27 厘米",
                                  units_per_carton=24, carton_gross_weight_kg=D("20"), unit="pcs")  # fmt: skip


_pi_counter = {"n": 0}


@pytest.fixture
def make_proforma(alice, acme, mug, plate):
    """An issued PI: 1,000 mugs at 2.50 and 500 plates at 4.00 (total 4,500.00) by default."""

    def make(*, company=None, currency="USD", fx_rate="1", lines=None, deposit="1350.00",
             deposit_due=None, balance_due=None, status="issued", owner=None, document_date=TODAY,
             lead_time_days=35, **extra):  # fmt: skip
        _pi_counter["n"] += 1
        lines = lines if lines is not None else [(mug, "1000", "2.50"), (plate, "500", "4.00")]
        pi = ProformaInvoice.objects.create(
            company=company or acme, number=f"PI-2026-{_pi_counter['n']:04d}", status=status,
            document_date=document_date, currency=currency, base_currency="USD", fx_rate=D(fx_rate),
            fx_date=document_date, fx_source="ECB", incoterm="FOB", incoterm_place="Ningbo",
            port_of_loading="Ningbo", port_of_destination="Chicago", payment_terms="tt_deposit",
            deposit_percent=D("30"), lead_time_days=lead_time_days, deposit_amount=D(deposit), deposit_due_date=deposit_due,
            balance_due_date=balance_due, owner=owner or alice, issued_at=NOW, **extra,
        )  # fmt: skip
        made = []
        for n, (product, qty, price) in enumerate(lines, start=1):
            f = line_figures(quantity=D(qty), unit_price=D(price), packing=Packing.of_product(product))
            made.append(ProformaLine.objects.create(
                document=pi, position=n, product=product, sku=product.sku, name=product.name_en,
                name_zh=product.name_zh, hs_code=product.hs_code, unit=product.unit, quantity=D(qty),
                unit_price=D(price), amount=f.amount, units_per_carton=product.units_per_carton, cartons=f.cartons,
                gross_weight_kg=f.gross_weight_kg, cbm=f.cbm, unit_cost_cny=product.purchase_cost_cny,
            ))  # fmt: skip
        t = totals(made)
        ProformaInvoice.objects.filter(pk=pi.pk).update(
            subtotal=t.subtotal,
            total_amount=t.total_amount,
            balance_amount=t.total_amount - D(deposit),
            total_cartons=t.total_cartons,
            total_gross_weight_kg=t.total_gross_weight_kg,
            total_cbm=t.total_cbm,
        )
        pi.refresh_from_db()
        return pi

    return make


@pytest.fixture
def make_order(alice, make_proforma):
    def make(actor=None, **pi):
        return order_from_proforma(actor=actor or alice, proforma=make_proforma(**pi))

    return make


@pytest.fixture
def api_for(db):
    def make(user):
        _tok, raw = ApiToken.issue(user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


def call(client, method, url, body=None, **headers):
    if body is None:
        return getattr(client, method)(url, **headers)
    return getattr(client, method)(url, json.dumps(body), content_type="application/json", **headers)


def fields_of(resp) -> dict:
    return {e["field"]: e["message"] for e in resp.json()["detail"]}
