"""Market notes and competitors: everyone reads, managers and admins edit; validation; the
customer page's market panel (country notes + its regions); the API."""

import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from tradecrm.accounts.models import ApiToken
from tradecrm.customers import segment_selectors as sel
from tradecrm.customers import segment_services as svc
from tradecrm.customers.models import Company, Competitor, MarketNote
from tradecrm.customers.regions import regions_of
from tradecrm.customers.segment_api import CompetitorOut, MarketList, MarketOut

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_for(db):
    def make(user):
        _tok, raw = ApiToken.issue(user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


def _json(client, method, url, body=None):
    return getattr(client, method)(url, json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def eu(carol):
    return MarketNote.objects.get(code="EU")  # a starter note (migration 0008)


def test_starter_notes_carry_the_usual_certifications():
    certs = dict(MarketNote.objects.filter(code__in=["EU", "US", "SA"]).values_list("code", "certifications"))
    assert certs["EU"][0] == "CE marking"
    assert certs["US"][0].startswith("FDA") and certs["SA"][0].startswith("SASO")


def test_regions_of_a_country():
    assert regions_of("DE") == ["EU", "EEA"]
    assert regions_of("SA") == ["GCC"]
    assert regions_of("MX") == ["LATAM", "USMCA"]
    assert regions_of("CN") == []


def test_create_validates_code_and_certifications(carol):
    with pytest.raises(ValidationError) as exc:
        svc.market_create(actor=carol, data={"code": "Europe", "certifications": ["CE", 5]})
    errors = exc.value.message_dict
    assert errors["code"][0].startswith("“EUROPE” is neither a two-letter country code")
    assert errors["certifications"] == ["Item 2: enter text."]
    with pytest.raises(ValidationError) as exc:
        svc.market_create(actor=carol, data={"code": "eu"})
    assert exc.value.message_dict == {"code": ["There is a note for the market EU already."]}
    m = svc.market_create(actor=carol, data={"code": "gcc", "certifications": "G-Mark\n\nG-Mark\nSASO\n"})
    assert (m.code, m.certifications) == ("GCC", ["G-Mark", "SASO"])


def test_only_managers_and_admins_edit(alice, carol, eu):
    with pytest.raises(PermissionDenied):
        svc.market_create(actor=alice, data={"code": "DE"})
    with pytest.raises(PermissionDenied):
        svc.market_update(actor=alice, market=eu, version=eu.version, data={"notes": "x"})
    with pytest.raises(PermissionDenied):
        svc.competitor_create(actor=alice, market=eu, data={"name": "Rival"})
    svc.market_update(actor=carol, market=eu, version=eu.version, data={"notes": "Big market."})
    eu.refresh_from_db()
    assert (eu.notes, eu.version, eu.updated_by_id) == ("Big market.", 2, carol.pk)


def test_competitor_prices_validated(carol, eu):
    with pytest.raises(ValidationError) as exc:
        svc.competitor_create(
            actor=carol,
            market=eu,
            data={"name": "Rival", "price_min": "12", "price_max": "9", "price_currency": "EUR"},
        )
    assert exc.value.message_dict == {"price_max": ["The highest price must not be below the lowest price."]}
    with pytest.raises(ValidationError) as exc:
        svc.competitor_create(
            actor=carol,
            market=eu,
            data={"name": "Rival", "price_min": "-1", "price_max": "x", "price_currency": "EURO"},
        )
    errors = exc.value.message_dict
    assert errors == {
        "price_min": ["A price cannot be negative."],
        "price_max": ["Enter a number."],
        "price_currency": ["Enter a three-letter currency code such as USD or EUR."],
    }
    with pytest.raises(ValidationError) as exc:
        svc.competitor_create(actor=carol, market=eu, data={"name": "Rival", "price_min": "3"})
    assert exc.value.message_dict == {"price_currency": ["Give the currency of the prices."]}
    c = svc.competitor_create(
        actor=carol,
        market=eu,
        data={
            "name": "Rival",
            "price_min": "3.5",
            "price_max": "7",
            "price_currency": "eur",
            "products": "Knitwear",
        },
    )
    assert (c.price_min, c.price_max, c.price_currency) == (Decimal("3.50"), Decimal("7.00"), "EUR")
    # a partial change is checked against the stored range
    with pytest.raises(ValidationError):
        svc.competitor_update(actor=carol, competitor=c, version=1, data={"price_min": "8"})


def test_markets_for_a_german_customer(alice, carol, eu):
    de = svc.market_create(actor=carol, data={"code": "DE", "notes": "Strong private labels."})
    svc.competitor_create(actor=carol, market=eu, data={"name": "Rival"})
    assert [m.code for m in sel.markets_for_country("DE")] == ["DE", "EU"]
    assert sel.markets_for_country("DE")[1].competitor_count == 1
    assert sel.markets_for_country("") == [] and de.pk


def test_pages_read_by_everyone_edited_by_managers(alice, carol, client_for, eu):
    a, c = client_for(alice), client_for(carol)
    listing = a.get("/markets/").content.decode()
    assert "European Union" in listing and "CE marking" in listing and "New market notes" not in listing
    assert a.get(f"/markets/{eu.pk}/").status_code == 200
    for url in (
        "/markets/new/",
        f"/markets/{eu.pk}/edit/",
        f"/markets/{eu.pk}/delete/",
        f"/markets/{eu.pk}/competitors/new/",
    ):
        assert a.get(url).status_code == 403, url
    resp = c.post(
        "/markets/new/", {"code": "DE", "notes": "Germany notes", "certifications": "GS mark\nCE marking"}
    )
    de = MarketNote.objects.get(code="DE")
    assert resp.status_code == 302 and de.certifications == ["GS mark", "CE marking"]
    resp = c.post("/markets/new/", {"code": "DE"})
    assert resp.status_code == 422 and "There is a note for the market DE already." in resp.content.decode()
    resp = c.post(
        f"/markets/{de.pk}/competitors/new/",
        {"name": "Rival GmbH", "price_currency": "EUR", "price_min": "4", "price_max": "2"},
    )
    assert resp.status_code == 422 and "must not be below the lowest price" in resp.content.decode()
    c.post(
        f"/markets/{de.pk}/competitors/new/",
        {
            "name": "Rival GmbH",
            "price_currency": "EUR",
            "price_min": "2",
            "price_max": "4",
            "website": "rival.de",
        },
    )
    comp = Competitor.objects.get()
    page = a.get(f"/markets/{de.pk}/").content.decode()
    assert "Rival GmbH" in page and "EUR 2.00 – 4.00" in page and 'href="https://rival.de"' in page
    resp = c.post(
        f"/competitors/{comp.pk}/edit/",
        {"name": "Rival AG", "version": 1, "price_currency": "EUR", "price_min": "2", "price_max": "5"},
    )
    assert resp.status_code == 302 and Competitor.objects.get().name == "Rival AG"
    assert a.post(f"/competitors/{comp.pk}/delete/").status_code == 403
    assert c.post(f"/competitors/{comp.pk}/delete/").status_code == 302 and not Competitor.objects.exists()
    assert (
        c.post(f"/markets/{de.pk}/delete/").status_code == 302
        and not MarketNote.objects.filter(code="DE").exists()
    )
    assert a.get("/markets/999999/").status_code == 404


def test_customer_page_market_panel(alice, carol, dave, client_for, eu):
    svc.competitor_create(actor=carol, market=eu, data={"name": "Rival"})
    co = Company.objects.create(name="Berlin GmbH", country="DE", owner=alice, team_id=alice.team_id)
    html = client_for(alice).get(f"/customers/{co.pk}/markets/").content.decode()
    assert "European Union" in html and "CE marking" in html and "1 competitor" in html
    assert "Add notes for" not in html  # sales reps read only
    html = client_for(carol).get(f"/customers/{co.pk}/markets/").content.decode()
    assert "/markets/new/?code=DE" in html
    assert client_for(dave).get(f"/customers/{co.pk}/markets/").status_code == 404
    detail = client_for(alice).get(f"/customers/{co.pk}/").content.decode()
    assert f'hx-get="/customers/{co.pk}/markets/"' in detail


def test_api_markets(alice, carol, api_for, eu):
    c, a = api_for(carol), api_for(alice)
    items = MarketList.model_validate(a.get("/api/v1/markets").json()).items
    assert "EU" in [m.code for m in items]
    resp = _json(c, "post", "/api/v1/markets", {"code": "DE", "certifications": ["GS mark"]})
    assert resp.status_code == 201
    de = MarketOut.model_validate(resp.json())
    assert (de.code, de.is_region, de.certifications) == ("DE", False, ["GS mark"])
    assert _json(a, "post", "/api/v1/markets", {"code": "FR"}).status_code == 403
    resp = _json(c, "post", "/api/v1/markets", {"code": "Atlantis"})
    assert resp.status_code == 422 and resp.json()["detail"][0]["field"] == "code"
    resp = _json(
        c,
        "post",
        f"/api/v1/markets/{de.id}/competitors",
        {"name": "Rival", "price_min": "1", "price_max": "2", "price_currency": "EUR"},
    )
    assert resp.status_code == 201
    comp = CompetitorOut.model_validate(resp.json())
    assert (comp.price_min, comp.price_max) == ("1.00", "2.00")
    resp = _json(c, "patch", f"/api/v1/markets/competitors/{comp.id}", {"price_max": "0.5", "version": 1})
    assert resp.status_code == 422 and resp.json()["detail"] == [
        {"field": "price_max", "message": "The highest price must not be below the lowest price."}
    ]
    codes = [m["code"] for m in a.get("/api/v1/markets/for-country/de").json()["items"]]
    assert codes == ["DE", "EU"]
    resp = _json(c, "patch", f"/api/v1/markets/{de.id}", {"notes": "n", "version": 1})
    assert resp.status_code == 200 and resp.json()["version"] == 2
    assert a.get("/api/v1/markets/999999").status_code == 404
    assert a.get("/api/v1/markets/competitors/999999").status_code == 404
    assert c.delete(f"/api/v1/markets/competitors/{comp.id}").status_code == 204
    assert c.delete(f"/api/v1/markets/{de.id}").status_code == 204
    regions = {r["code"]: r for r in a.get("/api/v1/markets/regions").json()}
    assert "DE" in regions["EU"]["countries"] and regions["GCC"]["countries"][0] == "SA"
