"""Fixtures of the quotation and proforma-invoice tests: a customer, products with packing and cost,
a seller with bank accounts, exchange rates. Time is frozen only for the modules that ask for it
(`pytestmark = pytest.mark.usefixtures("frozen")`)."""

import datetime as dt
from decimal import Decimal as D

import pytest
import time_machine

NOW = dt.datetime(2026, 3, 4, 2, 0, tzinfo=dt.UTC)  # Wed 10:00 in Shanghai
TODAY = dt.date(2026, 3, 4)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def acme(make_company):
    """alice's customer; bob (same team) does not follow it, dave is in another team."""
    return make_company(name="Acme Imports LLC", country="US", city="Chicago", address="1200 W Lake St",
                        currency="USD")  # fmt: skip


@pytest.fixture
def jane(acme, alice):
    from tradecrm.customers.models import Contact

    return Contact.objects.create(company=acme, first_name="Jane", last_name="Doe", email="jane@acme.example")


@pytest.fixture
def lamp(db):
    """24 per carton, 12.5 kg gross, 11 kg net, 0.0625 m³; cost 11.30 CNY with 13 % VAT and rebate."""
    from tradecrm.catalog.models import Product

    return Product.objects.create(
        sku="LED-T8", name_en="LED tube T8 18W", name_zh="LED灯管", specification="6500K", hs_code="8539520000",
        unit="pcs", units_per_carton=24, carton_gross_weight_kg=D("12.5"), carton_net_weight_kg=D("11"),
        carton_cbm=D("0.0625"), purchase_cost_cny=D("11.30"), vat_rate=D("13"), tax_rebate_rate=D("13"),
    )  # fmt: skip


@pytest.fixture
def seller(db):
    from tradecrm.documents.models import SellerProfile

    return SellerProfile.objects.create(name_en="Ningbo Brightway Lighting Co., Ltd.", name_zh="宁波明途照明有限公司",
                                        address_en="88 Jiangnan Road, Ningbo", is_default=True)  # fmt: skip


@pytest.fixture
def usd_account(seller):
    from tradecrm.documents.models import BankAccount

    return BankAccount.objects.create(seller=seller, label="BOC USD", currency="USD", beneficiary=seller.name_en,
                                      bank_name="Bank of China, Ningbo Branch", swift="BKCHCNBJ92A",
                                      account_number="3581 0000 1234 5678", is_default=True)  # fmt: skip


@pytest.fixture
def rates(db):
    """EUR→USD and USD→CNY on the day before TODAY (rates are looked up on or before a date)."""
    from tradecrm.core.models import ExchangeRate

    day = TODAY - dt.timedelta(days=1)
    ExchangeRate.objects.create(base="EUR", quote="USD", date=day, rate=D("1.0850"), source="ECB")
    ExchangeRate.objects.create(base="USD", quote="CNY", date=day, rate=D("7.1000"), source="PBOC")


@pytest.fixture
def lines(lamp):
    return [
        {"product": lamp.pk, "quantity": "1000", "unit_price": "2.00"},
        {"name": "Display stand", "quantity": "2", "unit_price": "100", "discount_percent": "10"},
    ]


@pytest.fixture
def make_quotation(alice, acme, lines, seller):
    from tradecrm.documents.services import quotation_create

    def make(actor=None, company=None, lines=lines, **data):
        data.setdefault("incoterm", "FOB")
        data.setdefault("incoterm_place", "Ningbo")
        return quotation_create(actor=actor or alice, company=company or acme, data=data, lines=lines)

    return make


@pytest.fixture
def issued(make_quotation, alice, rates):
    from tradecrm.documents.services import quotation_issue

    def make(**data):
        q = make_quotation(**data)
        return quotation_issue(actor=alice, quotation=q, version=q.version)

    return make
