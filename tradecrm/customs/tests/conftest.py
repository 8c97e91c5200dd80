"""Fixtures of the customs tests: time frozen on 2026-03-04, customers of alice (East) and dave
(West), and customs records written directly through the customs app's own functions
(`prepare_customs_row` + `write_customs_rows`), never through the import engine."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from tradecrm.accounts.models import ApiToken

NOW = dt.datetime(2026, 3, 4, 2, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 4)
D = Decimal


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def acme(make_company):
    """alice's customer (team East); dave (West) does not see it."""
    return make_company(name="Acme Imports LLC", country="US")


@pytest.fixture
def west_co(make_company, dave):
    return make_company(actor=dave, name="Westwind Trading GmbH", country="DE")


@pytest.fixture
def add_records(db):
    """add_records({...}, {...}, company=acme) → the CustomsRecords, in the order given."""
    from tradecrm.customs.importing import prepare_customs_row, write_customs_rows
    from tradecrm.customs.models import CustomsRecord

    counter = iter(range(1, 1_000_000))

    def add(*rows, company=None, job_id=None):
        prepared = []
        for values in rows:
            v = {
                "importer_name": "ACME IMPORTS LLC",
                "importer_country": "US",
                "exporter_name": "Ningbo Hengda Trading Co., Ltd.",
                "exporter_country": "CN",
                "hs_code": "9617.00",
                "product_description": "Vacuum flasks",
                "weight_kg": D("1000"),
                "value": D("5000"),
                "date": dt.date(2026, 2, 1),
                "bl_number": f"BL{next(counter)}",
            }
            v.update(values)
            row = prepare_customs_row(v, today=TODAY)
            row["company_id"] = company.pk if company is not None else values.get("company_id")
            prepared.append(row)
        write_customs_rows(prepared, job_id=job_id)
        by_fp = {
            r.fingerprint: r
            for r in CustomsRecord.objects.filter(fingerprint__in=[p["fingerprint"] for p in prepared])
        }
        return [by_fp[p["fingerprint"]] for p in prepared]

    return add


@pytest.fixture
def api_for(db):
    def make(user):
        _tok, raw = ApiToken.issue(user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make
