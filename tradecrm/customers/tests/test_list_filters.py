"""The customer list's smart-list filters: tier, tags, products bought, HS code (the customer's
own codes, its order lines, its customs records), last contact, source, country; how they read
from a query string and how bad values are refused."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from tradecrm.catalog.models import Product
from tradecrm.customers import filtering
from tradecrm.customers.models import Company, CompanyTag, Tag
from tradecrm.customers.selectors import CompanyFilters, company_filter, company_list, hs_range
from tradecrm.customs.models import CustomsRecord
from tradecrm.grading.models import CompanyGrade, Tier
from tradecrm.orders.models import Order, OrderLine

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def _co(owner, name, **kw):
    return Company.objects.create(name=name, owner=owner, team_id=owner.team_id, **kw)


def _names(user, **filters):
    return sorted(c.name for c in company_filter(user, CompanyFilters(**filters)))


def _tier(code, rank):
    return Tier.objects.get_or_create(
        code=code, defaults={"name": f"Tier {code}", "rank": rank, "min_score": 100 - rank * 20}
    )[0]


_seq = iter(range(1, 10**6))


def _order(company, status="confirmed"):
    n = next(_seq)
    return Order.objects.create(
        company=company, number=f"SO-T-{n}", document_date=dt.date(2026, 1, 5), currency="USD", status=status
    )


def _line(order, *, product=None, hs=""):
    return OrderLine.objects.create(
        order=order,
        product=product,
        name=product.name_en if product else "Item",
        hs_code=hs,
        quantity=Decimal("1"),
        unit_price=Decimal("10"),
    )


def _record(company, hs):
    return CustomsRecord.objects.create(
        company=company,
        importer_name=company.name,
        hs_code=hs,
        date=dt.date(2026, 1, 1),
        fingerprint=f"fp-{next(_seq)}",
    )


@pytest.fixture
def products(db):
    shirt = Product.objects.create(sku="SH-1", name_en="Cotton shirt", hs_code="620520")
    tie = Product.objects.create(sku="TI-1", name_en="Silk tie", hs_code="621510")
    return shirt, tie


def test_hs_range_covers_exactly_the_codes_with_the_prefix():
    assert hs_range("8471") == ("8471", "8472")
    assert hs_range("8479") == ("8479", "848")
    assert hs_range("8499") == ("8499", "85")
    assert hs_range("99") == ("99", None)
    low, high = hs_range("6109")
    inside = ["6109", "610910", "6109100010"]
    outside = ["6108", "6110", "61", "610", "6111"]
    assert all(low <= c < high for c in inside) and not any(low <= c < high for c in outside)


def test_tier_filter_follows_the_current_grade(alice):
    _tier("A", 1), _tier("B", 2)
    a, b, none = _co(alice, "Key Buyer"), _co(alice, "Important Buyer"), _co(alice, "Ungraded")
    CompanyGrade.objects.create(company=a, tier="A", score=90)
    CompanyGrade.objects.create(company=b, tier="B", score=70)
    assert _names(alice, tier="A") == ["Key Buyer"]
    assert _names(alice, tier="B") == ["Important Buyer"]
    assert none.name not in _names(alice, tier="A")


def test_products_bought_ignores_cancelled_orders_and_other_buyers(alice, products):
    shirt, tie = products
    buyer, cancelled, other = (
        _co(alice, "Shirt Buyer"),
        _co(alice, "Cancelled Buyer"),
        _co(alice, "Tie Buyer"),
    )
    _line(_order(buyer), product=shirt)
    _line(_order(cancelled, status="cancelled"), product=shirt)
    _line(_order(other), product=tie)
    assert _names(alice, products=[shirt.pk]) == ["Shirt Buyer"]
    assert _names(alice, products=[shirt.pk, tie.pk]) == ["Shirt Buyer", "Tie Buyer"]  # any of them
    # a sales rep's list pages branch by branch with the EXISTS form: the same answer
    rows, _n, _p = company_list(alice, CompanyFilters(products=[shirt.pk, tie.pk], sort="name"))
    assert [r["name"] for r in rows] == ["Shirt Buyer", "Tie Buyer"]


def test_hs_prefix_matches_own_codes_order_lines_and_customs_records(alice):
    _co(alice, "Own Codes", hs_codes=["847130", "6109"])
    ordered, recorded = _co(alice, "Ordered", hs_codes=["9403"]), _co(alice, "Recorded")
    nothing = _co(alice, "Other Codes", hs_codes=["84"])  # shorter than the prefix: no match
    _line(_order(ordered), hs="847150")
    _record(recorded, "8471300000")
    _record(nothing, "8472")
    assert _names(alice, hs="8471") == ["Ordered", "Own Codes", "Recorded"]
    assert _names(alice, hs="847130") == ["Own Codes", "Recorded"]
    assert _names(alice, hs="6109") == ["Own Codes"]
    assert _names(alice, hs="9403") == ["Ordered"]
    cancelled = _co(alice, "Cancelled Order")
    _line(_order(cancelled, status="cancelled"), hs="847199")
    assert _names(alice, hs="8471") == ["Ordered", "Own Codes", "Recorded"]  # a cancelled order is no purchase
    # a sales rep's list pages branch by branch with the EXISTS form: the same answer
    rows, _n, _p = company_list(alice, CompanyFilters(hs="8471", sort="name"))
    assert [r["name"] for r in rows] == ["Ordered", "Own Codes", "Recorded"]


@pytest.mark.parametrize("cap", [2_000, 0], ids=["collected-ids", "per-customer-walk"])
def test_hs_filter_gives_the_same_answer_on_both_plans(alice, dave, monkeypatch, cap):
    """A rare prefix is answered from the ids the three index ranges collect, a common one (more
    than HS_ID_CAP customers; cap 0 forces it here) by the per-customer walk: the same customers,
    and the visibility rule still applies."""
    from tradecrm.customers import selectors

    monkeypatch.setattr(selectors, "HS_ID_CAP", cap)
    _co(alice, "Own Codes", hs_codes=["847130", "6109"])
    ordered, recorded = _co(alice, "Ordered"), _co(alice, "Recorded")
    _line(_order(ordered), hs="847150")
    _record(recorded, "8471300000")
    _line(_order(_co(alice, "Cancelled"), status="cancelled"), hs="847199")
    _line(_order(_co(dave, "West Buyer")), hs="847110")  # another team's: never listed for alice
    assert _names(alice, hs="8471") == ["Ordered", "Own Codes", "Recorded"]
    assert _names(alice, hs="99") == []
    assert _names(dave, hs="8471") == ["West Buyer"]
    rows, _n, _p = company_list(alice, CompanyFilters(hs="8471", sort="name"))
    assert [r["name"] for r in rows] == ["Ordered", "Own Codes", "Recorded"]


def test_hs_codes_of_interest_are_kept_in_their_table_by_every_writer(alice):
    """The triggers of migration 0010 keep customers_companyhscode in step with Company.hs_codes,
    whether the ORM or plain SQL (as the importers use) writes the customer."""
    from django.db import connection

    from tradecrm.customers.models import CompanyHsCode
    from tradecrm.customers.selectors import hs_company_ids

    def codes(company_id):
        return sorted(CompanyHsCode.objects.filter(company_id=company_id).values_list("code", flat=True))

    c = _co(alice, "Kept", hs_codes=["847130", "6109"])
    assert codes(c.pk) == ["6109", "847130"]
    c.hs_codes = ["9403"]
    c.save()
    assert codes(c.pk) == ["9403"]
    Company.objects.filter(pk=c.pk).update(hs_codes=[])
    assert codes(c.pk) == []
    Company.objects.filter(pk=c.pk).update(hs_codes=["6205", "6109"])
    assert hs_company_ids("62") == {c.pk}
    table = connection.ops.quote_name(Company._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {table} SET name = %s WHERE id = %s", ["Renamed", c.pk])  # codes untouched
    assert codes(c.pk) == ["6109", "6205"]
    raw = _co(alice, "Raw")
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {table} SET hs_codes = %s{cast} WHERE id = %s", ['["8501"]', raw.pk])
    assert codes(raw.pk) == ["8501"]
    c.delete()
    assert codes(c.pk) == []
    assert hs_company_ids("85") == {raw.pk}


def test_last_contact_before_includes_never_and_after_is_inclusive_in_the_viewers_day(alice):
    tz = zoneinfo.ZoneInfo("Asia/Shanghai")
    early = _co(alice, "Early", last_contact_at=dt.datetime(2026, 3, 1, 10, tzinfo=UTC))
    # 2026-03-09 23:30 in Shanghai is 15:30 UTC on the 9th: the 9th for a viewer there
    late = _co(alice, "Late", last_contact_at=dt.datetime(2026, 3, 9, 15, 30, tzinfo=UTC))
    _co(alice, "Never")
    with timezone.override(tz):
        assert _names(alice, contact_after=dt.date(2026, 3, 9)) == ["Late"]
        assert _names(alice, contact_before=dt.date(2026, 3, 9)) == ["Early", "Never"]
        assert _names(alice, contact_after=dt.date(2026, 3, 1), contact_before=dt.date(2026, 3, 9)) == [
            "Early"
        ]
    assert {early.pk, late.pk}


def test_tags_any_of_and_scoped_to_the_viewer(alice, bob, dave, teams):
    vip = Tag.objects.create(name="VIP", team=teams["east"])
    fair = Tag.objects.create(name="Canton Fair", team=teams["east"])
    a, b = _co(alice, "Alice VIP"), _co(alice, "Alice Fair")
    d = _co(dave, "Dave VIP")
    CompanyTag.objects.bulk_create(
        [CompanyTag(company=a, tag=vip), CompanyTag(company=b, tag=fair), CompanyTag(company=d, tag=vip)]
    )
    assert _names(alice, tags=[vip.pk, fair.pk]) == ["Alice Fair", "Alice VIP"]
    assert _names(dave, tags=[vip.pk]) == ["Dave VIP"]  # never another team's customers
    assert _names(bob, tags=[vip.pk]) == []  # bob sees only his own and followed


def test_combination_with_keyset_paging(alice, products):
    shirt, _tie = products
    _tier("A", 1)
    rows = []
    for i in range(5):
        c = _co(alice, f"DE Buyer {i}", country="DE", source="trade_show")
        CompanyGrade.objects.create(company=c, tier="A" if i % 2 == 0 else "", score=i)
        _line(_order(c), product=shirt)
        rows.append(c)
    _co(alice, "FR Buyer", country="FR", source="trade_show")
    f = CompanyFilters(country="DE", source="trade_show", tier="A", products=[shirt.pk], sort="name")
    page, nxt, _prev = company_list(alice, f, limit=2)
    assert [r["name"] for r in page] == ["DE Buyer 0", "DE Buyer 2"]
    page2, nxt2, _ = company_list(alice, f, cursor=nxt, limit=2)
    assert [r["name"] for r in page2] == ["DE Buyer 4"] and nxt2 is None


def test_reader_refuses_bad_values_with_specific_messages(alice, teams):
    _tier("A", 1)
    Tag.objects.create(name="West only", team=teams["west"])
    hidden = Tag.objects.get(name="West only").pk
    raw = {
        "tier": "Z",
        "country": "XX",
        "hs": "84a1",
        "contact_after": "2026-02-30",
        "tag": [hidden, "x"],
        "product": [999999],
        "source": "fax",
        "colour": "red",
        "sort": "?",
    }
    clean, errors = filtering.read_filters(raw, alice, strict=True)
    assert clean == {}
    codes = ", ".join(Tier.objects.order_by("rank").values_list("code", flat=True))
    assert "A" in codes and errors["tier"] == [f"There is no tier “Z”; the tiers are: {codes}."]
    assert errors["country"] == ["Enter a two-letter country code such as DE or CN."]
    assert errors["hs"][0].startswith("Enter an HS code or its start")
    assert errors["contact_after"] == ["Enter a date as YYYY-MM-DD."]
    assert errors["tag"] == ["“x” is not an id.", f"There is no tag with id {hidden}."]
    assert errors["product"] == ["There is no product with id 999999."]
    assert errors["source"][0].startswith("“fax” is not one of the available choices")
    assert errors["colour"][0].startswith("Unknown filter “colour”")
    assert "sort" in errors
    _clean, errors = filtering.read_filters(
        {"contact_after": "2026-03-01", "contact_before": "2026-03-01"}, alice
    )
    assert list(errors) == ["contact_before"]
    _clean, errors = filtering.read_filters({"product": [10**30, True], "owner": "1.5"}, alice)
    assert errors["product"] == [f"“{10**30}” is not an id.", "“True” is not an id."]
    assert errors["owner"] == ["“1.5” is not an id."]
    clean, errors = filtering.read_filters({"hs": "8471.30", "colour": "red"}, alice, strict=False)
    assert clean == {"hs": "847130"} and errors == {}


@time_machine.travel(dt.datetime(2026, 3, 10, 9, tzinfo=UTC), tick=False)
def test_list_page_filters_from_the_query_string(alice, client_for, products):
    shirt, _ = products
    _tier("A", 1)
    a = _co(alice, "Graded Shirt Buyer", country="DE", hs_codes=["6205"])
    CompanyGrade.objects.create(company=a, tier="A", score=90)
    _line(_order(a), product=shirt)
    _co(alice, "Other DE", country="DE")
    c = client_for(alice)
    html = c.get(f"/customers/?country=DE&tier=A&product={shirt.pk}&hs=6205").content.decode()
    assert "Graded Shirt Buyer" in html and "Other DE" not in html
    html = c.get("/customers/?tier=Q&contact_after=yesterday").content.decode()
    assert 'data-testid="filter-errors"' in html and "There is no tier “Q”" in html
    assert "Other DE" in html  # a bad filter is dropped, not applied
    resp = c.get("/customers/?country=DE&tier=A", HTTP_HX_REQUEST="true")
    assert resp["HX-Push-Url"] == "/customers/?country=DE&tier=A"


def test_product_options_follow_the_catalogue_and_keep_a_selected_inactive_one(alice, client_for, products):
    shirt, tie = products
    c = client_for(alice)
    html = c.get(f"/customers/?product={shirt.pk}").content.decode()
    assert f'<option value="{shirt.pk}" selected>SH-1 · Cotton shirt</option>' in html
    Product.objects.filter(pk=tie.pk).update(name_en="Silk bow tie", active=False)
    tie.refresh_from_db()
    tie.save()  # a change of the catalogue: the options are rebuilt
    html = c.get(f"/customers/?product={tie.pk}").content.decode()
    assert f'<option value="{tie.pk}" selected>TI-1 · Silk bow tie</option>' in html
    assert f'<option value="{shirt.pk}">SH-1 · Cotton shirt</option>' in html
