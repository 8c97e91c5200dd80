"""The exchange-rate pages: everyone reads, only admins and managers change (403), 404 for a
missing id, forms with 422/409, the htmx converter and inline add, the CSV import preview."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from tradecrm.audit.models import AuditEvent
from tradecrm.core import fx
from tradecrm.core.models import ExchangeRate

pytestmark = pytest.mark.django_db
FRI = dt.date(2026, 11, 20)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def frozen():
    # Friday 09:00 in Shanghai (everyone's zone in these tests)
    with time_machine.travel(dt.datetime(2026, 11, 20, 1, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def eur_usd(admin):
    return fx.rate_set(actor=admin, base="EUR", quote="USD", date=FRI, rate="1.0856", source="ECB")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }


def test_list_shows_the_newest_rate_per_pair_to_sales(client_for, alice, admin, eur_usd):
    fx.rate_set(actor=admin, base="EUR", quote="USD", date=FRI - dt.timedelta(days=1), rate="1.07")
    fx.rate_set(actor=admin, base="USD", quote="CNY", date=FRI - dt.timedelta(days=9), rate="7.1")
    r = client_for(alice).get("/exchange-rates/")
    html = r.content.decode()
    assert r.status_code == 200
    assert "1 EUR = 1.0856 USD" in html and "1.07" not in html
    assert "Out of date" in html  # USD→CNY is 9 days old
    assert 'data-testid="fx-add-link"' not in html and "/edit/" not in html  # sales cannot change
    assert 'data-testid="fx-converter"' in html


def test_manager_sees_the_buttons(client_for, carol, eur_usd):
    html = client_for(carol).get("/exchange-rates/").content.decode()
    assert 'data-testid="fx-add-link"' in html and f"/exchange-rates/{eur_usd.pk}/edit/" in html


def test_converter_answers_in_place_and_without_javascript(client_for, alice, eur_usd):
    c = client_for(alice)
    r = c.get(
        "/exchange-rates/convert/", {"amount": "100", "frm": "EUR", "to": "USD", "date": "2026-11-22"}, **HTMX
    )
    html = r.content.decode()
    assert r.status_code == 200 and "€100.00 = $108.56" in html
    assert "rate of 2026-11-20 (ECB)" in html
    r = c.get("/exchange-rates/", {"amount": "100", "frm": "USD", "to": "EUR"})
    assert "$100.00 = €92.11" in r.content.decode()  # today, inverse: 100/1.0856 = 92.1149…
    r = c.get("/exchange-rates/convert/", {"amount": "1", "frm": "EUR", "to": "JPY"}, **HTMX)
    assert (
        "No exchange rate EUR→JPY on or before 2026-11-20; add one under Exchange rates."
        in r.content.decode()
    )
    r = c.get("/exchange-rates/convert/", {"amount": "x", "frm": "EURO", "to": "USD"}, **HTMX)
    assert "(this is “x”)" in r.content.decode() and "EURO" in r.content.decode()


def test_pair_history_is_paged(client_for, alice, admin):
    for i in range(55):
        fx.rate_set(actor=admin, base="USD", quote="CNY", date=FRI - dt.timedelta(days=i), rate="7.1")
    c = client_for(alice)
    r = c.get("/exchange-rates/USD-CNY/")
    assert r.status_code == 200 and r.content.decode().count('data-testid="fx-rate-') == 50
    assert 'data-testid="fx-inline-form"' not in r.content.decode()
    older = r.context["next_cursor"]
    r = c.get(f"/exchange-rates/USD-CNY/?cursor={older}", **HTMX)
    assert r.content.decode().count('data-testid="fx-rate-') == 5 and "<html" not in r.content.decode()
    assert c.get("/exchange-rates/USD-CNY/?cursor=bad").status_code == 200
    for bad in ("USD-USD", "usd-cny", "USD-XYZ", "nonsense"):
        assert c.get(f"/exchange-rates/{bad}/").status_code == 404


@pytest.mark.parametrize("persona", ["alice", "dave"])
def test_sales_get_403_on_every_change(request, client_for, eur_usd, persona):
    c = client_for(request.getfixturevalue(persona))
    for url in ("/exchange-rates/new/", f"/exchange-rates/{eur_usd.pk}/edit/", f"/exchange-rates/{eur_usd.pk}/delete/",
                "/exchange-rates/import/"):  # fmt: skip
        assert c.get(url).status_code == 403, url
    data = {"base": "EUR", "quote": "USD", "date": "2026-11-20", "rate": "2", "version": 1}
    assert c.post("/exchange-rates/new/", data).status_code == 403
    assert c.post(f"/exchange-rates/{eur_usd.pk}/edit/", data).status_code == 403
    assert c.post(f"/exchange-rates/{eur_usd.pk}/delete/").status_code == 403
    eur_usd.refresh_from_db()
    assert (eur_usd.rate, eur_usd.version) == (Decimal("1.0856"), 1)


@pytest.mark.parametrize("persona", ["dave", "carol"])
def test_a_missing_id_is_404(request, client_for, persona):
    c = client_for(request.getfixturevalue(persona))
    for url in ("/exchange-rates/987654/edit/", "/exchange-rates/987654/delete/"):
        assert c.get(url).status_code == 404
        assert c.post(url, {"rate": "1", "version": 1}).status_code == 404


def test_anonymous_is_sent_to_sign_in(client):
    r = client.get("/exchange-rates/")
    assert r.status_code == 302 and "login" in r["Location"]


def test_add_names_bad_fields_422_then_saves(client_for, carol):
    c = client_for(carol)
    assert c.get("/exchange-rates/new/").status_code == 200
    r = c.post("/exchange-rates/new/", {"base": "EUR", "quote": "EUR", "date": "11/20/2026", "rate": "-1"})
    assert r.status_code == 422
    assert set(r.context["form"].errors) == {"quote", "date", "rate"}
    assert not ExchangeRate.objects.exists()
    r = c.post(
        "/exchange-rates/new/",
        {"base": "EUR", "quote": "USD", "date": "2026-11-20", "rate": "1.0856", "source": ""},
    )
    assert r.status_code == 302 and r["Location"] == "/exchange-rates/EUR-USD/"
    rate = ExchangeRate.objects.get()
    assert (rate.rate, rate.source, rate.created_by) == (Decimal("1.0856"), "manual", carol)


def test_inline_add_on_the_pair_page_swaps_the_history(client_for, carol, eur_usd):
    c = client_for(carol)
    assert 'data-testid="fx-inline-form"' in c.get("/exchange-rates/EUR-USD/").content.decode()
    data = {
        "from": "pair",
        "base": "EUR",
        "quote": "USD",
        "date": "2026-11-19",
        "rate": "1.08",
        "source": "ECB",
    }
    r = c.post("/exchange-rates/new/", data, **HTMX)
    html = r.content.decode()
    assert r.status_code == 200 and "Rate EUR→USD on 2026-11-19 added." in html
    assert html.count('data-testid="fx-rate-') == 2
    r = c.post("/exchange-rates/new/", {**data, "rate": "abc"}, **HTMX)
    assert r.status_code == 422 and 'data-testid="fx-inline-form"' in r.content.decode()
    assert "(this is “abc”)" in r.content.decode()
    assert ExchangeRate.objects.count() == 2


def test_edit_and_stale_edit_409(client_for, carol, admin, eur_usd):
    c = client_for(carol)
    url = f"/exchange-rates/{eur_usd.pk}/edit/"
    r = c.get(url)
    assert r.status_code == 200 and r.context["form"].initial["rate"] == "1.0856"
    data = {
        "base": "EUR",
        "quote": "USD",
        "date": "2026-11-20",
        "rate": "1.09",
        "source": "ECB",
        "version": 1,
    }
    assert c.post(url, data).status_code == 302
    r = client_for(admin).post(url, {**data, "rate": "1.5"})
    assert r.status_code == 409 and "Carol" in r.content.decode()
    eur_usd.refresh_from_db()
    assert (eur_usd.rate, eur_usd.version) == (Decimal("1.09"), 2)


def test_delete_confirms_then_deletes(client_for, carol, eur_usd):
    c = client_for(carol)
    url = f"/exchange-rates/{eur_usd.pk}/delete/"
    assert "Documents made with it keep it." in c.get(url).content.decode()
    r = c.post(url)
    assert r.status_code == 302 and not ExchangeRate.objects.exists()
    assert AuditEvent.objects.filter(action="exchange_rate.delete").exists()


ECB = b"Date,USD,JPY,\n2026-11-20,1.0856,163.12,\n2026-11-19,1.0801,N/A,\n"


def test_import_preview_then_import(client_for, carol):
    c = client_for(carol)
    assert c.get("/exchange-rates/import/").status_code == 200
    r = c.post("/exchange-rates/import/", {"file": SimpleUploadedFile("eurofxref.csv", ECB), "base": "EUR"})
    html = r.content.decode()
    assert (
        r.status_code == 200
        and "3 rates from 2026-11-19 to 2026-11-20: 3 new, 0 changed, 0 unchanged." in html
    )
    assert not ExchangeRate.objects.exists()
    token = r.context["token"]
    r = c.post(
        "/exchange-rates/import/",
        {"token": token, "file_name": "eurofxref.csv", "base": "EUR", "action": "import"},
    )
    assert r.status_code == 302 and r["Location"] == "/exchange-rates/"
    assert ExchangeRate.objects.count() == 3
    assert ExchangeRate.objects.filter(source="CSV eurofxref.csv").count() == 3
    r = c.post(
        "/exchange-rates/import/", {"token": token, "file_name": "x", "base": "EUR", "action": "import"}
    )
    assert r.status_code == 422 and "expired or was imported already" in r.content.decode()


def test_import_lists_row_errors_and_writes_nothing(client_for, carol):
    data = b"date,base,quote,rate\n2026-11-20,EUR,USD,1.08\n2026-11-21,EUR,USD,-1\n2026-11-22,EUR,ABC,1\n"
    r = client_for(carol).post("/exchange-rates/import/", {"file": SimpleUploadedFile("r.csv", data)})
    assert r.status_code == 422
    assert r.context["row_errors"] == [
        "row 3, rate: The rate must be greater than zero.",
        "row 4, quote: Unknown currency code “ABC” (use ISO 4217, e.g. USD).",
    ]
    assert 'data-testid="fx-import-confirm"' not in r.content.decode()
    assert not ExchangeRate.objects.exists()
    r = client_for(carol).post("/exchange-rates/import/", {})
    assert r.status_code == 422 and r.context["form"].errors["file"] == ["Choose the CSV file."]


def test_chinese_page(client_for, carol, eur_usd):
    carol.language = "zh-hans"
    carol.save()
    r = client_for(carol).get("/exchange-rates/", {"amount": "1234.5", "frm": "EUR", "to": "USD"})
    html = r.content.decode()
    assert r.status_code == 200 and "USD · 美元" in html
    assert "€1,234.50 = US$1,340.17" in html
