import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from tradecrm.core.errors import ConcurrentEditError
from tradecrm.customers.models import Company
from tradecrm.customers.selectors import CompanyFilters, company_get_for_user, company_list
from tradecrm.customers.services import company_update, contact_create, tag_create


def test_create_normalizes_phone_and_infers_timezone(make_company):
    c = make_company(name="Windy City Imports", city="Chicago", phones=["(312) 555-0123"], email="Buyer@Windy.COM",
                     website="windy.com")
    assert c.phones == ["+13125550123"]
    assert c.timezone == "America/Chicago"
    assert c.email == "buyer@windy.com"
    assert c.email_domains == ["windy.com"]
    assert "13125550123" in c.search_text


def test_bad_fields_are_all_named(alice, make_company):
    with pytest.raises(ValidationError) as exc:
        make_company(name="", country="XX", currency="ABC", timezone="Mars/Base", phones=["12"], email="nope@")
    errors = exc.value.message_dict
    assert set(errors) == {"name", "country", "currency", "timezone", "phones", "email"}
    assert "XX" in errors["country"][0]
    assert Company.objects.count() == 0


def test_second_save_with_stale_version_is_refused(alice, bob, make_company):
    c = make_company()
    c.followers.add(bob)
    company_update(actor=alice, company=company_get_for_user(alice, c.pk), version=1, data={"city": "Boston"})
    with pytest.raises(ConcurrentEditError) as exc:
        company_update(actor=bob, company=company_get_for_user(bob, c.pk), version=1, data={"city": "Denver"})
    assert exc.value.by == "Alice"
    assert Company.objects.get(pk=c.pk).city == "Boston"


def test_visibility_rules(alice, bob, carol, dave, admin, make_company):
    c = make_company()
    assert company_get_for_user(carol, c.pk) == c  # manager of the parent department
    assert company_get_for_user(admin, c.pk) == c
    for outsider in (bob, dave):
        with pytest.raises(Http404):
            company_get_for_user(outsider, c.pk)
    with pytest.raises(Http404):
        company_get_for_user(alice, 999999)


def test_search_finds_latin_chinese_and_phone(alice, make_company):
    make_company(name="Müller Handels GmbH", country="DE", phones=["030 1234567"])
    make_company(name="深圳市华强电子有限公司", country="CN")
    rows = lambda q: [r["name"] for r in company_list(alice, CompanyFilters(q=q))[0]]  # noqa: E731
    assert rows("müller") == ["Müller Handels GmbH"]
    assert rows("华强电子") == ["深圳市华强电子有限公司"]
    assert rows("华强") == ["深圳市华强电子有限公司"]
    assert rows("030 1234567") == ["Müller Handels GmbH"]
    assert rows("nothing-like-this") == []


def test_contact_updates_company_search(alice, make_company):
    c = make_company()
    contact_create(actor=alice, company=c, data={"first_name": "Jane", "emails": ["jane@acme.example"]})
    assert [r["id"] for r in company_list(alice, CompanyFilters(q="jane@acme"))[0]] == [c.pk]


def test_keyset_pages_cover_all_rows_once(alice, make_company):
    ids = {make_company(name=f"Company {i:02d}").pk for i in range(7)}
    seen, cursor = [], None
    while True:
        rows, cursor, _prev = company_list(alice, CompanyFilters(sort="name"), cursor=cursor, limit=3)
        seen += [r["id"] for r in rows]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 7


def test_tag_names_unique_per_team(alice):
    tag_create(actor=alice, data={"name": "VIP", "color": "#ff0000"})
    with pytest.raises(ValidationError):
        tag_create(actor=alice, data={"name": "vip", "color": "#00ff00"})


@pytest.mark.parametrize("sort", ["-updated_at", "name", "-created_at"])
@pytest.mark.parametrize("q", ["", "acme"])
def test_pages_over_visibility_branches_cover_each_visible_row_once(alice, bob, carol, dave, sort, q):
    """Owned, followed and team customers overlap; paging (by branch or by one OR) must list each
    visible company exactly once and nothing else."""
    from tradecrm.customers.services import company_create

    mine = [company_create(actor=alice, data={"name": f"Acme {i}", "country": "US"}).pk for i in range(4)]
    bobs = [company_create(actor=bob, data={"name": f"Acme Bob {i}", "country": "US"}).pk for i in range(3)]
    daves = [company_create(actor=dave, data={"name": f"Acme West {i}", "country": "US"}).pk for i in range(3)]
    # alice follows one of bob's and one of dave's; carol (manager of East's parent) follows one of dave's
    Company.objects.get(pk=bobs[0]).followers.add(alice)
    Company.objects.get(pk=daves[0]).followers.add(alice, carol)
    Company.objects.get(pk=mine[0]).followers.add(alice)  # owned and followed: two branches
    expected = {alice: set(mine) | {bobs[0], daves[0]}, carol: set(mine) | set(bobs) | {daves[0]}}
    for user, want in expected.items():
        seen, cursor = [], None
        while True:
            rows, cursor, _ = company_list(user, CompanyFilters(q=q, sort=sort), cursor=cursor, limit=2)
            seen += [r["id"] for r in rows]
            if not cursor:
                break
        assert len(seen) == len(set(seen)) and set(seen) == want, user
