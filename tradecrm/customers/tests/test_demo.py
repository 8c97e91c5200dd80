import functools

import pytest
from django.core.management import call_command

from tradecrm.core import geo
from tradecrm.customers import demo
from tradecrm.customers.demo import (
    CITY_AREAS,
    COMPANY_COLUMNS,
    CONTACT_COLUMNS,
    MARKETS,
    TAGS,
    DemoGenerator,
    Owner,
    Rows,
    _company_search_text_fast,
    _contact_search_text_fast,
    _infer_tz,
    create_through_services,
    fast_insert_django,
    phone_valid,
    sqlite_dt,
)
from tradecrm.customers.models import Company, Contact, Tag
from tradecrm.customers.selectors import CompanyFilters, company_list


@pytest.fixture(scope="module")
def generated():
    gen = DemoGenerator(seed=11, owners=[Owner(1, None)], use_faker=False)
    return [gen.company() for _ in range(60)]


def test_every_market_gives_valid_e164_numbers():
    gen = DemoGenerator(seed=3, use_faker=False)
    for m in MARKETS:
        for kind in ("mobile", "fixed"):
            for _ in range(3):
                number = gen.phone(m.country, kind)
                assert number.startswith("+") and phone_valid(number, m.country), (m.country, kind, number)
    for (country, city), _area in CITY_AREAS.items():
        assert phone_valid(gen.phone(country, "fixed", city), country), city


def test_generated_companies_are_valid(generated):
    countries = geo.country_codes()
    for g in generated:
        d = g.data
        assert d["country"] in countries and d["currency"] in geo.currency_codes()
        numbers = d["phones"] + [p for c in g.contacts for p in c["phones"]]
        numbers += [c["whatsapp"] for c in g.contacts if c["whatsapp"]]
        assert all(phone_valid(p, d["country"]) for p in numbers), numbers
        assert _infer_tz(d) in geo.timezone_names()
        assert d["email"].endswith("@" + d["email_domains"][0])
        assert 1 <= len(g.contacts) <= 3 and g.contacts[0]["is_primary"]
    assert {g.data["country"] for g in generated} >= {"US", "DE", "AE", "MX", "BR"}
    assert any(g.data["name_local"] and "\u4e00" <= g.data["name_local"][0] <= "\u9fff" for g in generated)
    assert any("\u0600" <= ch <= "\u06ff" for g in generated for ch in g.data["name_local"])


def test_city_area_code_and_time_zone_agree():
    gen = DemoGenerator(seed=5, use_faker=False)
    seen = {}
    for _ in range(150):
        g = gen.company()
        if g.data["country"] == "US":
            seen[g.data["city"]] = _infer_tz(g.data)
    assert seen.get("Seattle", "America/Los_Angeles") == "America/Los_Angeles"
    assert seen.get("Houston", "America/Chicago") == "America/Chicago"


def test_row_tuples_match_the_columns(generated):
    companies, contacts, tags, followers = Rows(1, 1, sqlite_dt).build(generated[:5])
    assert all(len(r) == len(COMPANY_COLUMNS) for r in companies)
    assert all(len(r) == len(CONTACT_COLUMNS) for r in contacts)
    concrete = {f.column for f in Company._meta.concrete_fields}
    assert set(COMPANY_COLUMNS) == concrete
    assert set(CONTACT_COLUMNS) == {f.column for f in Contact._meta.concrete_fields}


def test_services_store_what_the_fast_path_computes(alice, bob):
    gen = DemoGenerator(
        seed=21, owners=[Owner(alice.pk, alice.team_id)], follower_ids=[bob.pk], use_faker=False
    )
    batch = [gen.company() for _ in range(4)]
    companies = create_through_services(batch, {alice.pk: alice})
    for g, company in zip(batch, companies, strict=True):
        company.refresh_from_db()
        assert company.search_text == _company_search_text_fast(g.data, g.contacts)
        assert company.timezone == _infer_tz(g.data)
        assert company.phones == g.data["phones"]
        stored = list(Contact.objects.filter(company=company).order_by("id"))
        assert [c.search_text for c in stored] == [_contact_search_text_fast(c) for c in g.contacts]
        assert [c.phones for c in stored] == [c["phones"] for c in g.contacts]


def test_fast_path_rows_are_searchable(admin, alice):
    gen = DemoGenerator(seed=8, owners=[Owner(alice.pk, alice.team_id)], use_faker=False)
    counts = fast_insert_django(gen, 6, batch=4)
    assert counts["companies"] == 6 and Company.objects.count() == 6
    company = Company.objects.order_by("id").last()
    assert company.search_text == _company_search_text_fast(
        {
            **{
                k: getattr(company, k)
                for k in ("name", "name_local", "email", "city", "email_domains", "phones")
            }
        },
        list(
            Contact.objects.filter(company=company)
            .order_by("id")
            .values("first_name", "last_name", "name_local", "emails", "phones")
        ),
    )
    word = company.email.split("@")[1]
    assert company.pk in [r["id"] for r in company_list(admin, CompanyFilters(q=word))[0]]
    assert len(company_list(alice, CompanyFilters())[0]) == 6


def test_demo_command_through_services_and_rerun(db, capsys, monkeypatch):
    # faker's locales take ~70 ms each to start; names are not what this test is about
    monkeypatch.setattr(demo, "DemoGenerator", functools.partial(DemoGenerator, use_faker=False))
    call_command("demo", companies=2, seed=4)
    first = capsys.readouterr().out
    assert "Added 2 demo companies (services" in first and "wang.fang" in first
    call_command("demo", companies=1, seed=5)
    assert "Demo users created" not in capsys.readouterr().out  # passwords shown once
    assert Company.objects.count() == 3
    assert Contact.objects.filter(is_primary=True).count() == 3
    assert Tag.objects.filter(team__isnull=True).count() == len(TAGS)
