"""/api/v1/exchange-rates: everyone reads, admins and managers write (403 otherwise), 404 for a
missing id, 422 naming the field, versions (428/409), ETag/304, convert, CSV import."""

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tradecrm.accounts.models import ApiToken
from tradecrm.audit.models import AuditEvent
from tradecrm.core import fx
from tradecrm.core.fx_schemas import ConvertOut, ImportOut, ImportRefused, RateOut, RatePage
from tradecrm.core.models import ExchangeRate

pytestmark = pytest.mark.django_db
JSON = "application/json"
FRI = dt.date(2026, 11, 20)
URL = "/api/v1/exchange-rates"


@pytest.fixture
def api_for(db):
    def make(user):
        _tok, raw = ApiToken.issue(user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


def call(client, method, url, body=None, **headers):
    if body is None:
        return getattr(client, method)(url, **headers)
    return getattr(client, method)(url, json.dumps(body), content_type=JSON, **headers)


def fields_of(resp) -> dict:
    return {e["field"]: e["message"] for e in resp.json()["detail"]}


@pytest.fixture
def eur_usd(admin):
    return fx.rate_set(actor=admin, base="EUR", quote="USD", date=FRI, rate="1.0856", source="ECB")


@pytest.mark.parametrize("persona", ["alice", "dave", "carol", "admin"])
def test_everyone_signed_in_reads(request, api_for, eur_usd, persona):
    api = api_for(request.getfixturevalue(persona))
    r = call(api, "get", f"{URL}/{eur_usd.pk}")
    assert r.status_code == 200 and r["ETag"] == '"1"'
    body = RateOut.model_validate(r.json())
    assert (body.base, body.quote, body.rate, body.source) == ("EUR", "USD", "1.0856000000", "ECB")
    assert body.updated_by.username == "admin"
    assert call(api, "get", f"{URL}/{eur_usd.pk}", HTTP_IF_NONE_MATCH='"1"').status_code == 304
    page = RatePage.model_validate(call(api, "get", URL).json())
    assert [i.id for i in page.items] == [eur_usd.pk]


def test_anonymous_gets_401(eur_usd):
    assert Client().get(f"{URL}/{eur_usd.pk}").status_code == 401


@pytest.mark.parametrize("persona", ["alice", "dave", "carol", "admin"])
def test_a_missing_id_is_404_for_everyone(request, api_for, persona):
    api = api_for(request.getfixturevalue(persona))
    for method, body in (("get", None), ("patch", {"rate": "1", "version": 1}), ("delete", None)):
        r = call(api, method, f"{URL}/987654")
        if body is not None:
            r = call(api, method, f"{URL}/987654", body)
        assert r.status_code == 404 and r.json() == {"detail": "Not found."}


@pytest.mark.parametrize("persona", ["alice", "dave"])
def test_sales_cannot_change_rates_403(request, api_for, eur_usd, persona):
    api = api_for(request.getfixturevalue(persona))
    r = call(api, "post", URL, {"base": "EUR", "quote": "USD", "date": "2026-11-20", "rate": "2"})
    assert r.status_code == 403
    assert r.json()["detail"] == "Only administrators and managers may change exchange rates."
    assert call(api, "patch", f"{URL}/{eur_usd.pk}", {"rate": "2", "version": 1}).status_code == 403
    assert call(api, "patch", f"{URL}/{eur_usd.pk}", {"rate": "2"}).status_code == 403  # not 428
    assert call(api, "delete", f"{URL}/{eur_usd.pk}").status_code == 403
    upload = SimpleUploadedFile("r.csv", b"date,base,quote,rate\n2026-11-20,EUR,USD,2\n", "text/csv")
    assert api.post(f"{URL}/import", {"file": upload}).status_code == 403
    eur_usd.refresh_from_db()
    assert (eur_usd.rate, eur_usd.version) == (Decimal("1.0856"), 1)
    assert ExchangeRate.objects.count() == 1


def test_manager_sets_a_day_then_replaces_it(api_for, carol):
    api = api_for(carol)
    body = {"base": "eur", "quote": "usd", "date": "2026-11-20", "rate": "1.0856"}
    r = call(api, "post", URL, body)
    assert r.status_code == 201 and r["Location"] == f"{URL}/{r.json()['id']}"
    assert RateOut.model_validate(r.json()).source == "manual"
    r = call(api, "post", URL, {**body, "rate": 1.09, "source": "PBOC"})  # a JSON number works too
    assert r.status_code == 200 and r.json()["rate"] == "1.0900000000" and r.json()["version"] == 2


def test_post_422_names_every_bad_field_and_saves_nothing(api_for, admin):
    api = api_for(admin)
    r = call(api, "post", URL, {"base": "EURO", "quote": "USD", "date": "20/11/2026", "rate": "0"})
    assert r.status_code == 422
    assert set(fields_of(r)) == {"base", "date", "rate"}
    assert fields_of(r)["rate"] == "The rate must be greater than zero."
    r = call(api, "post", URL, {"base": "USD", "quote": "USD", "date": "2026-11-20", "rate": "x"})
    assert fields_of(r) == {
        "rate": "Enter the rate as a number, e.g. 7.1234 (this is “x”).",
        "quote": "The quote currency must differ from the base currency.",
    }
    r = call(api, "post", URL, {"base": "USD", "quote": "CNY", "date": "2026-11-20", "rate": "7", "extra": 1})
    assert r.status_code == 422 and fields_of(r) == {"extra": "Unknown field."}
    r = call(api, "post", URL, {"quote": "CNY", "date": "2026-11-20", "rate": "7"})
    assert r.status_code == 422 and fields_of(r) == {"base": "This field is required."}
    assert not ExchangeRate.objects.exists() and not AuditEvent.objects.exists()


def test_patch_needs_the_version_and_refuses_a_stale_one_409(api_for, carol, admin, eur_usd):
    api = api_for(carol)
    url = f"{URL}/{eur_usd.pk}"
    assert call(api, "patch", url, {"rate": "1.1"}).status_code == 428
    r = call(api, "patch", url, {"rate": "1.1"}, HTTP_IF_MATCH='"1"')
    assert r.status_code == 200 and r.json()["version"] == 2 and r["ETag"] == '"2"'
    r = call(api_for(admin), "patch", url, {"rate": "1.2", "version": 1})
    assert r.status_code == 409
    assert r.json()["changed_by"] == "Carol" and r.json()["current_version"] == 2
    r = call(api, "patch", url, {"rate": "-3", "date": "soon", "version": 2})
    assert r.status_code == 422 and set(fields_of(r)) == {"rate", "date"}
    eur_usd.refresh_from_db()
    assert (eur_usd.rate, eur_usd.version) == (Decimal("1.1"), 2)


def test_delete_with_stale_if_match_409_then_204(api_for, carol, eur_usd):
    api = api_for(carol)
    url = f"{URL}/{eur_usd.pk}"
    assert call(api, "delete", url, HTTP_IF_MATCH='"7"').status_code == 409
    assert call(api, "delete", url).status_code == 204
    assert not ExchangeRate.objects.exists()


def test_list_filters_page_and_422(api_for, alice, admin):
    for i in range(5):
        fx.rate_set(actor=admin, base="EUR", quote="USD", date=FRI - dt.timedelta(days=i), rate=f"1.0{i}")
    fx.rate_set(actor=admin, base="USD", quote="CNY", date=FRI, rate="7.1")
    api = api_for(alice)
    page = call(api, "get", f"{URL}?base=eur&quote=USD&date_from=2026-11-17&limit=3").json()
    assert [i["date"] for i in page["items"]] == ["2026-11-20", "2026-11-19", "2026-11-18"]
    page = call(
        api, "get", f"{URL}?base=EUR&quote=USD&date_from=2026-11-17&limit=3&cursor={page['next_cursor']}"
    ).json()
    assert [i["date"] for i in page["items"]] == ["2026-11-17"] and page["next_cursor"] is None
    r = call(api, "get", f"{URL}?base=EURO&date_to=tomorrow")
    assert r.status_code == 422 and set(fields_of(r)) == {"base", "date_to"}
    assert call(api, "get", f"{URL}?cursor=garbage").status_code == 400


def test_convert(api_for, alice, eur_usd):
    api = api_for(alice)
    r = call(api, "get", f"{URL}/convert?amount=100&from=eur&to=USD&date=2026-11-22")
    assert r.status_code == 200, r.content
    body = ConvertOut.model_validate(r.json())
    assert r.json()["from"] == "EUR"
    assert (body.result, body.formatted, body.rate, body.rate_date, body.source) == (
        "108.56", "$108.56", "1.0856000000", FRI, "ECB",
    )  # fmt: skip
    with time_machine.travel(dt.datetime(2026, 11, 23, 1, tzinfo=dt.UTC), tick=False):
        # alice is in Shanghai: 09:00 on Monday the 23rd there, the default date
        assert call(api, "get", f"{URL}/convert?amount=1&from=USD&to=EUR").json()["date"] == "2026-11-23"
    r = call(api, "get", f"{URL}/convert?amount=abc&from=EURO&to=USD&date=x")
    assert r.status_code == 422 and set(fields_of(r)) == {"amount", "from", "date"}
    r = call(api, "get", f"{URL}/convert?amount=1&from=EUR&to=JPY&date=2026-11-20")
    assert r.status_code == 422
    assert r.json()["detail"][0]["message"].startswith("No exchange rate EUR→JPY on or before 2026-11-20")
    assert call(api, "get", f"{URL}/convert?from=EUR&to=USD").status_code == 422


ECB = b"Date,USD,JPY,\n2026-11-20,1.0856,163.12,\n2026-11-19,1.0801,N/A,\n"


def test_import_dry_run_then_import(api_for, carol):
    api = api_for(carol)
    r = api.post(
        f"{URL}/import", {"file": SimpleUploadedFile("ecb.csv", ECB), "base": "EUR", "dry_run": "true"}
    )
    assert r.status_code == 200, r.content
    body = ImportOut.model_validate(r.json())
    assert (body.created, body.dry_run, body.layout) == (
        3,
        True,
        "wide",
    ) and not ExchangeRate.objects.exists()
    r = api.post(f"{URL}/import", {"file": SimpleUploadedFile("ecb.csv", ECB), "base": "EUR"})
    assert r.status_code == 201 and r.json()["created"] == 3
    assert (
        ExchangeRate.objects.count() == 3
        and AuditEvent.objects.filter(action="exchange_rate.import").count() == 1
    )


def test_import_with_a_bad_row_is_422_and_writes_nothing(api_for, carol):
    data = b"date,base,quote,rate\n2026-11-20,EUR,USD,1.08\n2026-11-21,EUR,USD,-1\n"
    r = api_for(carol).post(f"{URL}/import", {"file": SimpleUploadedFile("r.csv", data)})
    assert r.status_code == 422
    body = ImportRefused.model_validate(r.json())
    assert [(e.row, e.field) for e in body.errors] == [(3, "rate")]
    assert body.detail[0].message == "row 3, rate: The rate must be greater than zero."
    r = api_for(carol).post(f"{URL}/import", {"file": SimpleUploadedFile("e.csv", ECB)})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "base"
    assert not ExchangeRate.objects.exists()
