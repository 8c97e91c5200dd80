"""The customer archive's HTML views: access (404 for what is not yours), query budgets, forms
that show the services' errors per field, concurrent-edit refusal, htmx partials and paging."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from tradecrm.customers.models import Company, CompanyTag, Contact, Tag
from tradecrm.customers.services import company_update, contact_create, contact_update, tag_create, tag_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(make_company, bob):
    """alice's customer; bob (same team) is not a follower."""
    return make_company(name="Acme Imports LLC", country="US", city="Chicago", phones=["(312) 555-0123"])


@pytest.fixture
def jane(alice, acme):
    data = {
        "first_name": "Jane",
        "emails": ["jane@acme.example"],
        "birthday": "1980-07-15",
        "notes": "Prefers WhatsApp",
    }
    return contact_create(actor=alice, company=acme, data={**data, "preferred_language": "es"})


@pytest.fixture
def vip(alice):
    return tag_create(actor=alice, data={"name": "VIP", "color": "#d63939"})


def _object_urls(company, contact, tag):
    """Every view that loads an object by id, with the methods it answers."""
    return [
        reverse("customers:company_detail", args=[company.pk]),
        reverse("customers:company_edit", args=[company.pk]),
        reverse("customers:company_delete", args=[company.pk]),
        reverse("customers:contact_create", args=[company.pk]),
        reverse("customers:contact_edit", args=[contact.pk]),
        reverse("customers:contact_delete", args=[contact.pk]),
    ]


def _tag_urls(tag):
    return [reverse("customers:tag_edit", args=[tag.pk]), reverse("customers:tag_delete", args=[tag.pk])]


# --- access -------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client, acme):
    for url in ["/customers/", f"/customers/{acme.pk}/", "/tags/", "/customers/new/"]:
        r = client.get(url)
        assert r.status_code == 302 and r["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("method", ["get", "post"])
def test_other_team_gets_404_on_every_object_view(client_for, dave, acme, jane, vip, method):
    c = client_for(dave)
    for url in _object_urls(acme, jane, vip) + _tag_urls(vip):
        assert getattr(c, method)(url).status_code == 404, url
    assert Company.objects.filter(pk=acme.pk).exists() and Contact.objects.filter(pk=jane.pk).exists()
    assert Tag.objects.filter(pk=vip.pk).exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_teammate_who_does_not_follow_gets_404(client_for, bob, acme, jane, vip, method):
    c = client_for(bob)
    for url in _object_urls(acme, jane, vip):
        assert getattr(c, method)(url).status_code == 404, url
    assert Company.objects.filter(pk=acme.pk).exists()


def test_missing_ids_are_404_like_foreign_ones(client_for, alice):
    c = client_for(alice)
    for url in [
        "/customers/999999/",
        "/customers/999999/edit/",
        "/contacts/999999/edit/",
        "/tags/999999/edit/",
    ]:
        assert c.get(url).status_code == 404


@pytest.mark.parametrize("who", ["alice", "carol", "admin"])
def test_owner_manager_and_admin_open_every_object_view(request, who, acme, jane, vip, client_for):
    c = client_for(request.getfixturevalue(who))
    for url in _object_urls(acme, jane, vip) + _tag_urls(vip):
        assert c.get(url).status_code == 200, url


def test_follower_may_edit_but_not_delete(client_for, bob, acme):
    acme.followers.add(bob)
    c = client_for(bob)
    assert c.get(f"/customers/{acme.pk}/edit/").status_code == 200
    assert c.post(f"/customers/{acme.pk}/delete/").status_code == 403
    assert Company.objects.filter(pk=acme.pk).exists()


def test_tags_of_another_team_are_404_and_shared_ones_read_only(client_for, dave, bob, admin, vip):
    assert client_for(bob).get(f"/tags/{vip.pk}/edit/").status_code == 200  # same team
    for url in _tag_urls(vip):
        assert client_for(dave).get(url).status_code == 404
    shared = tag_create(actor=admin, data={"name": "Global", "color": "#000000", "shared": True})
    r = client_for(dave).get("/tags/")
    assert "Global" in r.content.decode() and "VIP" not in r.content.decode()
    assert client_for(dave).post(f"/tags/{shared.pk}/delete/").status_code == 403
    assert client_for(admin).get(f"/tags/{shared.pk}/edit/").status_code == 200


# --- list ---------------------------------------------------------------------------------------


def _bulk_companies(owner, n, **extra):
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = [
        Company(
            name=f"Bulk {i:03d}",
            country="DE",
            owner=owner,
            team_id=owner.team_id,
            search_text=f"bulk {i:03d}",
            created_at=now,
            updated_at=now + dt.timedelta(minutes=i),
            **extra,
        )
        for i in range(n)
    ]
    Company.objects.bulk_create(rows)
    return list(Company.objects.filter(name__startswith="Bulk").order_by("id"))


@pytest.mark.parametrize("who", ["alice", "carol", "admin"])
def test_list_page_query_budget(request, who, alice, vip, client_for, django_assert_max_num_queries):
    companies = _bulk_companies(alice, 55)
    CompanyTag.objects.bulk_create([CompanyTag(company=c, tag=vip) for c in companies])
    c = client_for(request.getfixturevalue(who))
    with django_assert_max_num_queries(10):
        r = c.get("/customers/?country=DE")
    assert r.status_code == 200
    html = r.content.decode()
    assert html.count('class="tag-chip"') == 50  # one page, every row with its tag
    assert "Bulk 054" in html and "Bulk 004" not in html  # newest first
    assert 'rel="next"' in html


def test_list_shows_only_visible_customers(client_for, alice, dave, acme, make_company):
    make_company(actor=dave, name="Westward Trading")
    html = client_for(alice).get("/customers/").content.decode()
    assert "Acme Imports LLC" in html and "Westward Trading" not in html
    html = client_for(dave).get("/customers/").content.decode()
    assert "Acme Imports LLC" not in html and "Westward Trading" in html


def test_keyset_links_walk_forward_and_back(client_for, alice):
    _bulk_companies(alice, 55)
    c = client_for(alice)
    first = c.get("/customers/?sort=name")
    page1 = first.context["rows"]
    assert [r["name"] for r in page1][:2] == ["Bulk 000", "Bulk 001"] and not first.context["prev_url"]
    second = c.get(first.context["next_url"])
    assert [r["name"] for r in second.context["rows"]] == [f"Bulk {i:03d}" for i in range(50, 55)]
    assert "OFFSET" not in str(second.context)  # addresses pages by key only
    assert not second.context["next_url"]
    back = c.get(second.context["prev_url"])
    assert [r["id"] for r in back.context["rows"]] == [r["id"] for r in page1]


@pytest.mark.parametrize(
    "query", ["owner=99999999999999999999", "tag=-1", "country=%00%00", "q=a%00b", "status=%00", "cursor=%00"]
)
def test_odd_list_parameters_never_fail(client_for, alice, acme, query):
    assert client_for(alice).get(f"/customers/?{query}").status_code == 200


def test_bad_cursor_falls_back_to_first_page(client_for, alice, acme):
    r = client_for(alice).get("/customers/?cursor=not-a-cursor")
    assert r.status_code == 200 and "Acme Imports LLC" in r.content.decode()


@pytest.mark.parametrize(
    "query, hit",
    [
        ("country=US", True),
        ("country=DE", False),
        ("status=lead", True),
        ("status=lost", False),
        ("source=b2b", True),
        ("source=customs", False),
        ("business_type=importer", True),
        ("business_type=retailer", False),
        ("q=acme", True),
        ("q=zzzz", False),
        ("q=312555", True),
    ],
)
def test_filters(client_for, alice, make_company, query, hit):
    make_company(
        name="Acme Imports LLC",
        country="US",
        phones=["(312) 555-0123"],
        source="b2b",
        business_type="importer",
    )
    html = client_for(alice).get(f"/customers/?{query}").content.decode()
    assert ("Acme Imports LLC" in html) is hit


def test_owner_and_tag_filters(client_for, alice, carol, bob, make_company, vip):
    a = make_company(name="Alpha", tags=[vip.pk])
    make_company(actor=bob, name="Bravo")
    c = client_for(carol)
    assert [r["name"] for r in c.get(f"/customers/?owner={bob.pk}").context["rows"]] == ["Bravo"]
    assert [r["id"] for r in c.get(f"/customers/?tag={vip.pk}").context["rows"]] == [a.pk]
    assert c.get("/customers/?owner=abc&tag=").status_code == 200


def test_htmx_filter_renders_only_the_table(client_for, alice, acme):
    r = client_for(alice).get("/customers/?q=acme&country=&owner=&sort=-updated_at", HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert r.status_code == 200 and "<html" not in html and "Acme Imports LLC" in html
    assert "HX-Request" in r["Vary"]
    assert r["HX-Push-Url"] == "/customers/?q=acme"  # empty filters left out of the address bar
    full = client_for(alice).get("/customers/?q=acme").content.decode()
    assert "<html" in full and 'hx-get="/customers/"' in full


# --- detail -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "carol"])
def test_detail_page_query_budget_and_content(
    request, who, alice, bob, acme, jane, vip, client_for, django_assert_max_num_queries
):
    acme.followers.add(bob)
    CompanyTag.objects.create(company=acme, tag=vip)
    c = client_for(request.getfixturevalue(who))
    with django_assert_max_num_queries(8):
        r = c.get(f"/customers/{acme.pk}/")
    html = r.content.decode()
    assert "+1 312-555-0123" in html  # international format
    assert "Jane" in html and "jane@acme.example" in html
    assert "VIP" in html and "Bob" in html and "America/Chicago" in html
    assert "Spanish" in html and "07-15" in html and "Prefers WhatsApp" in html


@pytest.mark.parametrize(
    "utc, within, text",
    [
        ("2026-11-24 15:00", True, "Within office hours"),  # Tue 09:00 in Chicago
        ("2026-11-24 08:00", False, "Outside office hours"),  # Tue 02:00 in Chicago
        ("2026-11-28 17:00", False, "Weekend"),  # Saturday
    ],
)
def test_detail_shows_customer_local_time_and_office_hours(client_for, alice, acme, utc, within, text):
    with time_machine.travel(dt.datetime.fromisoformat(utc + "+00:00"), tick=False):
        r = client_for(alice).get(f"/customers/{acme.pk}/")
    html = r.content.decode()
    assert r.context["office"]["within"] is within and text in html
    local = dt.datetime.fromisoformat(utc + "+00:00") - dt.timedelta(hours=6)
    assert local.strftime("%H:%M") in html  # the customer's clock (UTC-6)
    mine = dt.datetime.fromisoformat(utc + "+00:00") + dt.timedelta(hours=8)
    assert mine.strftime("%H:%M") in html  # alice's own clock (Asia/Shanghai)


# --- create / edit / delete ---------------------------------------------------------------------


def test_new_customer_form_lists_localized_choices(client_for, alice):
    html = client_for(alice).get("/customers/new/").content.decode()
    assert '<option value="DE">Germany</option>' in html
    assert '<option value="Europe/Berlin">Europe/Berlin</option>' in html
    assert 'value="EUR"' in html and 'name="version"' in html


def test_create_shows_every_service_error_on_its_field(client_for, alice):
    c = client_for(alice)
    r = c.post(
        "/customers/new/", {"name": "", "country": "XX", "phones": "12", "email": "nope@", "hs_codes": "12"}
    )
    assert r.status_code == 422
    errors = r.context["form"].errors
    assert set(errors) == {"name", "country", "phones", "email", "hs_codes"}
    assert errors["name"] == ["The company name is required."]
    assert errors["phones"][0].startswith("“12” ")  # names the bad value; the country is invalid too
    html = r.content.decode()
    assert 'id="id_phones_error"' in html and "is-invalid" in html
    assert Company.objects.count() == 0


def test_create_saves_and_redirects(client_for, alice, vip):
    r = client_for(alice).post(
        "/customers/new/",
        {
            "name": "Windy City Imports",
            "country": "US",
            "city": "Chicago",
            "phones": "(312) 555-0123\n+1 212 555 0199",
            "status": "prospect",
            "tags": [str(vip.pk)],
            "email_domains": "windy.example",
            "office_start": "08:30",
        },
    )
    company = Company.objects.get(name="Windy City Imports")
    assert r.status_code == 302 and r["Location"] == f"/customers/{company.pk}/"
    assert company.phones == ["+13125550123", "+12125550199"] and company.owner == alice
    assert company.timezone == "America/Chicago" and company.office_start == dt.time(8, 30)
    assert list(company.tags.all()) == [vip]


def test_sales_cannot_assign_owner_but_manager_can(client_for, alice, bob, carol):
    client_for(alice).post("/customers/new/", {"name": "Mine", "owner": str(bob.pk)})
    assert Company.objects.get(name="Mine").owner == alice  # the field is not offered to sales
    assert 'name="owner"' not in client_for(alice).get("/customers/new/").content.decode()
    client_for(carol).post("/customers/new/", {"name": "Assigned", "owner": str(bob.pk)})
    assert Company.objects.get(name="Assigned").owner == bob


def test_edit_form_round_trips_without_changes(client_for, alice, acme):
    c = client_for(alice)
    form = c.get(f"/customers/{acme.pk}/edit/").context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    r = c.post(f"/customers/{acme.pk}/edit/", data)
    assert r.status_code == 302
    acme.refresh_from_db()
    assert acme.version == 2 and acme.phones == ["+13125550123"] and acme.timezone == "America/Chicago"


def test_edit_error_keeps_record_unchanged(client_for, alice, acme):
    r = client_for(alice).post(
        f"/customers/{acme.pk}/edit/", {"name": "Acme", "version": "1", "currency": "ZZZ"}
    )
    assert r.status_code == 422 and "currency" in r.context["form"].errors
    acme.refresh_from_db()
    assert acme.version == 1 and acme.name == "Acme Imports LLC"


def test_concurrent_edit_is_refused_with_who_and_when(client_for, alice, bob, acme):
    acme.followers.add(bob)
    c = client_for(alice)
    version = c.get(f"/customers/{acme.pk}/edit/").context["form"].initial["version"]
    with time_machine.travel(dt.datetime(2026, 11, 23, 2, 5, tzinfo=dt.UTC), tick=False):
        company_update(
            actor=bob, company=Company.objects.get(pk=acme.pk), version=version, data={"city": "Boston"}
        )
    r = c.post(
        f"/customers/{acme.pk}/edit/", {"name": "Acme Imports LLC", "city": "Denver", "version": version}
    )
    assert r.status_code == 409
    html = r.content.decode()
    assert "changed by Bob at 2026-11-23 10:05" in html  # in alice's time zone
    assert "Reload the current version" in html
    acme.refresh_from_db()
    assert acme.city == "Boston" and acme.version == 2


def test_delete_asks_then_deletes(client_for, alice, acme):
    c = client_for(alice)
    r = c.get(f"/customers/{acme.pk}/delete/")
    assert r.status_code == 200 and "Acme Imports LLC" in r.content.decode()
    assert Company.objects.filter(pk=acme.pk).exists()
    r = c.post(f"/customers/{acme.pk}/delete/")
    assert r.status_code == 302 and r["Location"] == "/customers/"
    assert not Company.objects.filter(pk=acme.pk).exists()


# --- contacts -----------------------------------------------------------------------------------


def test_contact_create_errors_then_saves(client_for, alice, acme):
    c = client_for(alice)
    r = c.post(f"/customers/{acme.pk}/contacts/new/", {"emails": "bad@", "phones": "12"})
    assert r.status_code == 422
    assert set(r.context["form"].errors) == {"first_name", "emails", "phones"}
    r = c.post(
        f"/customers/{acme.pk}/contacts/new/",
        {"first_name": "Jane", "phones": "312 555 0100", "emails": "Jane@Acme.example", "is_primary": "on"},
    )
    assert r.status_code == 302
    jane = Contact.objects.get(company=acme)
    assert jane.phones == ["+13125550100"] and jane.emails == ["jane@acme.example"] and jane.is_primary


def test_contact_edit_concurrency_and_delete(client_for, alice, carol, jane):
    c = client_for(alice)
    assert c.get(f"/contacts/{jane.pk}/edit/").context["form"].initial["version"] == 1
    contact_update(actor=carol, contact=jane, version=1, data={"title": "Buyer"})
    r = c.post(f"/contacts/{jane.pk}/edit/", {"first_name": "Janet", "version": "1"})
    assert r.status_code == 409 and "changed by Carol" in r.content.decode()
    assert Contact.objects.get(pk=jane.pk).first_name == "Jane"
    r = c.post(f"/contacts/{jane.pk}/edit/", {"first_name": "Janet", "version": "2"})
    assert r.status_code == 302 and Contact.objects.get(pk=jane.pk).first_name == "Janet"
    assert c.post(f"/contacts/{jane.pk}/delete/").status_code == 302
    assert not Contact.objects.filter(pk=jane.pk).exists()


# --- tags ---------------------------------------------------------------------------------------


def test_tag_crud_with_errors(client_for, alice, vip):
    c = client_for(alice)
    assert "VIP" in c.get("/tags/").content.decode()
    r = c.post("/tags/new/", {"name": "vip", "color": "#00ff00"})
    assert r.status_code == 422 and "exists already" in r.context["form"].errors["name"][0]
    r = c.post("/tags/new/", {"name": "Hot", "color": "red"})
    assert r.status_code == 422 and "#RRGGBB" in r.context["form"].errors["color"][0]
    assert c.post("/tags/new/", {"name": "Hot", "color": "#FF6600"}).status_code == 302
    assert Tag.objects.get(name="Hot").color == "#ff6600"
    tag_update(actor=alice, tag=vip, version=1, data={"color": "#000000"})
    r = c.post(f"/tags/{vip.pk}/edit/", {"name": "VIP!", "color": "#111111", "version": "1"})
    assert r.status_code == 409
    assert (
        c.post(f"/tags/{vip.pk}/edit/", {"name": "VIP!", "color": "#111111", "version": "2"}).status_code
        == 302
    )
    assert c.post(f"/tags/{vip.pk}/delete/").status_code == 302
    assert not Tag.objects.filter(pk=vip.pk).exists()


def test_error_pages_are_styled(client_for, dave, alice, acme):
    r = client_for(dave).get(f"/customers/{acme.pk}/")
    assert r.status_code == 404 and "not shared with you" in r.content.decode()
    acme.followers.add(dave)
    r = client_for(dave).post(f"/customers/{acme.pk}/delete/")
    assert r.status_code == 403 and "Only the owner" in r.content.decode()


def test_field_errors_come_in_the_users_language(client_for, alice):
    alice.language = "zh-hans"
    alice.save(update_fields=["language"])
    r = client_for(alice).post("/customers/new/", {"name": "", "country": "US", "phones": "12345"})
    errors = r.context["form"].errors
    assert errors["name"] == ["公司名称为必填项。"]
    assert errors["phones"] == ["“12345”不是该国家的有效电话号码。"]
    html = r.content.decode()
    assert "请修正下方标出的字段。" in html and '<option value="DE">德国</option>' in html


def test_list_rows_escape_what_users_typed(client_for, alice, make_company):
    tag = tag_create(actor=alice, data={"name": "<i>hot</i>", "color": "#ff0000"})
    make_company(name='<script>alert("x")</script>', name_local="A & B", city="<b>", tags=[tag.pk])
    html = client_for(alice).get("/customers/").content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "A &amp; B" in html and "&lt;b&gt;" in html and "&lt;i&gt;hot&lt;/i&gt;" in html


def test_list_shows_last_contact_and_next_follow_up(client_for, alice, make_company):
    from django.utils import timezone

    from tradecrm.customers.models import Company

    now = timezone.now()
    late = make_company(actor=alice, name="Overdue Buyer GmbH")
    Company.objects.filter(pk=late.pk).update(
        last_contact_at=dt.datetime(2026, 3, 4, 10, tzinfo=dt.UTC),
        next_followup_at=now - dt.timedelta(days=1),
    )
    make_company(actor=alice, name="Untouched Lead Ltd")
    html = client_for(alice).get("/customers/").content.decode()
    row = next(r for r in html.split("<tr>") if "Overdue Buyer GmbH" in r)
    assert "2026-03-04" in row and 'class="text-danger fw-medium"' in row
    fresh = next(r for r in html.split("<tr>") if "Untouched Lead Ltd" in r)
    assert "none planned" in fresh and "text-danger" not in fresh


def test_country_list_filter_does_not_take_the_blank_away_from_the_form(client_for, alice):
    """The list's country filter and the form's country select are cached apart: after the list,
    a new customer still starts with no country chosen (not the first country of the list)."""
    c = client_for(alice)
    assert c.get("/customers/").status_code == 200
    html = c.get("/customers/new/").content.decode()
    select = html[html.index('name="country"') :]
    select = select[: select.index("</select>")]
    assert '<option value="">' in select and 'value="AF" selected' not in select
