"""/api/v1/ for the customer archive: companies, contacts, tags."""

import json

import pytest
from django.test import Client

from tradecrm.accounts.models import ApiToken
from tradecrm.audit.models import AuditEvent
from tradecrm.customers.models import Company, CompanyFollower, Contact, Tag
from tradecrm.customers.schemas import (
    CompanyListItem,
    CompanyOut,
    CompanyPage,
    ContactOut,
    ContactPage,
    TagOut,
    TagPage,
)
from tradecrm.customers.services import contact_create, tag_create

JSON = "application/json"


@pytest.fixture
def api_for(db):
    def make(user):
        _tok, raw = ApiToken.issue(user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


@pytest.fixture
def api(api_for, alice):
    return api_for(alice)


@pytest.fixture
def acme(make_company):
    return make_company(name="Acme Imports LLC", country="US", city="Chicago", phones=["(312) 555-0123"])


@pytest.fixture
def east_tag(alice):
    return tag_create(actor=alice, data={"name": "VIP", "color": "#ff0000"})


@pytest.fixture
def jane(alice, acme):
    return contact_create(
        actor=alice,
        company=acme,
        data={"first_name": "Jane", "last_name": "Doe", "emails": ["jane@acme.example"]},
    )


def post(client, url, data):
    return client.post(url, data, content_type=JSON)


def patch(client, url, data, **headers):
    return client.patch(url, data, content_type=JSON, **headers)


def fields_of(resp):
    return {e["field"]: e["message"] for e in resp.json()["detail"]}


# --- every load by id: other team 404, teammate 404 on a company they do not follow, manager and
# --- admin 200. (Tags are shared by the team, so the teammate sees those.)

BY_ID = [
    ("get", "/api/v1/companies/{company}", None, 200),
    ("patch", "/api/v1/companies/{company}", {"city": "Boston", "version": 1}, 200),
    ("delete", "/api/v1/companies/{company}", None, 204),
    ("get", "/api/v1/companies/{company}/contacts", None, 200),
    ("post", "/api/v1/companies/{company}/contacts", {"first_name": "Li"}, 201),
    ("get", "/api/v1/contacts?company={company}", None, 200),
    ("get", "/api/v1/contacts/{contact}", None, 200),
    ("patch", "/api/v1/contacts/{contact}", {"title": "Buyer", "version": 1}, 200),
    ("delete", "/api/v1/contacts/{contact}", None, 204),
]
TAG_BY_ID = [
    ("get", "/api/v1/tags/{tag}", None, 200),
    ("patch", "/api/v1/tags/{tag}", {"color": "#00ff00", "version": 1}, 200),
    ("delete", "/api/v1/tags/{tag}", None, 204),
]


def _call(client, method, url, body):
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, json.dumps(body), content_type=JSON)


@pytest.mark.parametrize("method,url,body,ok", BY_ID, ids=[f"{m} {u}" for m, u, _b, _o in BY_ID])
@pytest.mark.parametrize(
    "persona,allowed", [("dave", False), ("bob", False), ("carol", True), ("admin", True)]
)
def test_company_and_contact_by_id_follow_visibility(
    request, api_for, jane, method, url, body, ok, persona, allowed
):
    user = request.getfixturevalue(persona)
    url = url.format(company=jane.company_id, contact=jane.pk)
    resp = _call(api_for(user), method, url, body)
    assert resp.status_code == (ok if allowed else 404), resp.content
    if not allowed:
        assert resp.json() == {"detail": "Not found."}
        assert Company.objects.filter(pk=jane.company_id, city="Chicago").exists()  # nothing changed
        assert Contact.objects.filter(pk=jane.pk, title="").exists()


@pytest.mark.parametrize("method,url,body,ok", TAG_BY_ID, ids=[f"{m} {u}" for m, u, _b, _o in TAG_BY_ID])
@pytest.mark.parametrize(
    "persona,allowed", [("dave", False), ("bob", True), ("carol", True), ("admin", True)]
)
def test_tag_by_id_follows_team(request, api_for, east_tag, method, url, body, ok, persona, allowed):
    resp = _call(api_for(request.getfixturevalue(persona)), method, url.format(tag=east_tag.pk), body)
    assert resp.status_code == (ok if allowed else 404), resp.content
    if not allowed:
        assert Tag.objects.filter(pk=east_tag.pk, color="#ff0000").exists()


def test_follower_sees_the_company(api_for, bob, acme):
    CompanyFollower.objects.create(company=acme, user=bob)
    assert api_for(bob).get(f"/api/v1/companies/{acme.pk}").status_code == 200


def test_follower_may_edit_but_not_delete(api_for, bob, acme):
    CompanyFollower.objects.create(company=acme, user=bob)
    client = api_for(bob)
    assert patch(client, f"/api/v1/companies/{acme.pk}", {"city": "Boston", "version": 1}).status_code == 200
    resp = client.delete(f"/api/v1/companies/{acme.pk}")
    assert resp.status_code == 403
    assert "owner" in resp.json()["detail"]
    assert Company.objects.filter(pk=acme.pk).exists()


def test_shared_tags_are_changed_by_administrators_only(api, api_for, admin):
    resp = post(api, "/api/v1/tags", {"name": "Everyone", "shared": True})
    assert resp.status_code == 422 and "shared" in fields_of(resp)
    resp = post(api_for(admin), "/api/v1/tags", {"name": "Everyone", "shared": True})
    assert resp.status_code == 201 and resp.json()["team_id"] is None
    tid = resp.json()["id"]
    assert api.get(f"/api/v1/tags/{tid}").status_code == 200  # alice sees it and may use it
    assert patch(api, f"/api/v1/tags/{tid}", {"color": "#000000", "version": 1}).status_code == 403
    assert api.delete(f"/api/v1/tags/{tid}").status_code == 403
    assert Tag.objects.filter(pk=tid, color="#206bc4").exists()
    assert api_for(admin).delete(f"/api/v1/tags/{tid}").status_code == 204


def test_missing_ids_are_404(api):
    for url in (
        "/api/v1/companies/999999",
        "/api/v1/contacts/999999",
        "/api/v1/tags/999999",
        "/api/v1/companies/999999/contacts",
    ):
        assert api.get(url).status_code == 404, url


def test_unknown_api_paths_answer_json_404(client, db):
    for url in ("/api/v1/company", "/api/v1/companies/abc", "/api/v1/companies/1/nothing"):
        resp = client.get(url)
        assert resp.status_code == 404 and resp.json() == {"detail": "Not found."}, url


def test_ids_beyond_bigint_are_refused_not_crashed(api):
    resp = api.get("/api/v1/companies/99999999999999999999999")
    assert resp.status_code == 422
    assert "company_id" in fields_of(resp)


# --- companies: list --------------------------------------------------------------------------


def test_list_shows_only_visible_companies_with_owner_and_tags(api, alice, dave, make_company, east_tag):
    mine = make_company(name="Mine GmbH", country="DE", tags=[east_tag.pk])
    make_company(actor=dave, name="Dave's customer")
    resp = api.get("/api/v1/companies")
    assert resp.status_code == 200
    page = resp.json()
    CompanyPage.model_validate(page)
    assert [c["name"] for c in page["items"]] == ["Mine GmbH"]
    item = page["items"][0]
    assert set(item) == set(CompanyListItem.model_fields)  # the documented shape, no more
    assert item["id"] == mine.pk and item["version"] == 1
    assert item["owner"] == {"id": alice.pk, "username": "alice", "name": "Alice"}
    assert item["tags"] == [{"id": east_tag.pk, "name": "VIP", "color": "#ff0000"}]
    assert item["updated_at"].endswith("Z")
    assert page["next_cursor"] is None and page["prev_cursor"] is None


def test_list_filters(api, alice, make_company, east_tag):
    a = make_company(
        name="Berlin Trading",
        country="DE",
        status="prospect",
        source="trade_show",
        business_type="importer",
        tags=[east_tag.pk],
    )
    b = make_company(
        name="Chicago Buyers", country="US", status="lead", source="b2b", business_type="retailer"
    )

    def names(qs):
        resp = api.get("/api/v1/companies" + qs)
        assert resp.status_code == 200, resp.content
        return {c["id"] for c in resp.json()["items"]}

    assert names("") == {a.pk, b.pk}
    assert names("?country=de") == {a.pk}
    assert names("?status=lead") == {b.pk}
    assert names("?source=trade_show") == {a.pk}
    assert names("?business_type=retailer") == {b.pk}
    assert names(f"?tag={east_tag.pk}") == {a.pk}
    assert names(f"?owner={alice.pk}") == {a.pk, b.pk}
    assert names("?q=chicago") == {b.pk}
    assert names("?q=berlin&country=US") == set()


def test_list_pages_with_cursors(api, make_company):
    ids = {make_company(name=f"Company {i:02d}").pk for i in range(5)}
    seen, cursor, pages = [], None, []
    while True:
        resp = api.get(
            "/api/v1/companies", {"sort": "name", "limit": 2, **({"cursor": cursor} if cursor else {})}
        )
        page = resp.json()
        pages.append(page)
        seen += [c["name"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"Company {i:02d}" for i in range(5)] and len(ids) == 5
    back = api.get(
        "/api/v1/companies", {"sort": "name", "limit": 2, "cursor": pages[-1]["prev_cursor"]}
    ).json()
    assert [c["name"] for c in back["items"]] == ["Company 02", "Company 03"]


@pytest.mark.parametrize("persona,limit", [("alice", 4), ("carol", 6), ("admin", 4)])
def test_list_query_count_does_not_grow_with_rows(
    request, api_for, alice, make_company, east_tag, persona, limit, django_assert_max_num_queries
):
    for i in range(12):
        make_company(name=f"Co {i}", tags=[east_tag.pk], phones=["+13125550123"])
    client = api_for(request.getfixturevalue(persona))
    client.get("/api/v1/companies")  # first use of the token writes last_used_at
    with django_assert_max_num_queries(limit):
        resp = client.get("/api/v1/companies", {"limit": 200, "country": "US", "q": "co"})
    assert len(resp.json()["items"]) == 12


@pytest.mark.parametrize(
    "qs,field",
    [
        ("?limit=0", "limit"),
        ("?limit=201", "limit"),
        ("?limit=ten", "limit"),
        ("?status=sleeping", "status"),
        ("?sort=-notes", "sort"),
        ("?owner=abc", "owner"),
        ("?tag=0", "tag"),
        ("?country=USA", "country"),
        ("?owner=99999999999999999999999", "owner"),
        ("?q=a%00b", "q"),
    ],
)
def test_list_bad_parameters_are_422_naming_the_parameter(api, qs, field):
    resp = api.get("/api/v1/companies" + qs)
    assert resp.status_code == 422
    assert field in fields_of(resp)


@pytest.mark.parametrize("cursor", ["garbage", "eyJ4IjoxfQ", "W1siYWZ0ZXIiLCJ4IiwieCJdXQ", "!!!"])
def test_bad_cursor_is_400(api, acme, cursor):
    resp = api.get("/api/v1/companies", {"cursor": cursor})
    assert resp.status_code == 400
    assert "cursor" in resp.json()["detail"]


# --- companies: create, get, patch, delete --------------------------------------------------


def test_create_returns_201_with_normalized_fields(api, alice, east_tag, bob):
    resp = post(
        api,
        "/api/v1/companies",
        {
            "name": "Windy City Imports",
            "city": "Chicago",
            "country": "us",
            "phones": ["(312) 555-0123"],
            "website": "windy.com",
            "tags": [east_tag.pk],
            "followers": [bob.pk],
            "status": "prospect",
            "cooperation_since": "2024-05-01",
            "office_start": "08:30",
            "office_end": "17:00",
        },
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    CompanyOut.model_validate(body)
    assert set(body) == set(CompanyOut.model_fields)
    assert resp["ETag"] == '"1"' and resp["Location"] == f"/api/v1/companies/{body['id']}"
    assert api.get(resp["Location"]).json() == body
    assert body["country"] == "US" and body["phones"] == ["+13125550123"]
    assert body["timezone"] == "America/Chicago" and body["email_domains"] == ["windy.com"]
    assert body["owner"]["username"] == "alice" and body["team_id"] == alice.team_id
    assert body["tags"] == [{"id": east_tag.pk, "name": "VIP", "color": "#ff0000"}]
    assert [f["username"] for f in body["followers"]] == ["bob"]
    assert body["cooperation_since"] == "2024-05-01" and body["office_start"] == "08:30:00"
    assert AuditEvent.objects.filter(action="company.create", object_id=body["id"]).exists()


def test_create_validation_errors_name_each_field(api):
    resp = post(
        api,
        "/api/v1/companies",
        {
            "name": " ",
            "country": "XX",
            "currency": "ABC",
            "phones": ["12"],
            "timezone": "Mars/Base",
            "business_type": "pirate",
        },
    )
    assert resp.status_code == 422
    errors = fields_of(resp)
    assert set(errors) == {"name", "country", "currency", "phones", "timezone", "business_type"}
    assert errors["country"] == "Unknown country code “XX” (use ISO 3166 alpha-2, e.g. DE)."
    assert Company.objects.count() == 0


def test_create_refuses_tags_of_another_team(api_for, dave, east_tag):
    resp = post(api_for(dave), "/api/v1/companies", {"name": "X", "tags": [east_tag.pk]})
    assert resp.status_code == 422 and "tags" in fields_of(resp)


def test_sales_cannot_hand_a_customer_to_someone_else(api, bob):
    resp = post(api, "/api/v1/companies", {"name": "X", "owner": bob.pk})
    assert resp.status_code == 422 and "owner" in fields_of(resp)


@pytest.mark.parametrize(
    "body,field",
    [
        ({"name": "X", "bogus": 1}, "bogus"),
        ({"name": 123}, "name"),
        ({"name": "X", "phones": "+13125550123"}, "phones"),
        ({"name": "X", "phones": [1]}, "phones.0"),
        ({"name": "X", "tags": ["vip"]}, "tags.0"),
        ({"name": "X", "tags": [2**64]}, "tags.0"),
        ({"name": "X", "owner": 0}, "owner"),
        ({"name": "X", "notes": "a\x00b"}, "notes"),
        ({"country": "DE"}, "name"),
    ],
)
def test_wrong_types_and_unknown_fields_are_422(api, body, field):
    resp = post(api, "/api/v1/companies", body)
    assert resp.status_code == 422, resp.content
    assert field in fields_of(resp)
    assert Company.objects.count() == 0


@pytest.mark.parametrize(
    "raw", [b"{bad json", b'{"name": "X",}', b"\xff\xfe", b'{"name": "\\ud800"}', b"[" * 5000 + b"]" * 5000]
)
def test_malformed_json_is_400(api, raw):
    resp = api.post("/api/v1/companies", raw, content_type=JSON)
    assert resp.status_code == 400
    assert resp.json() == {"detail": "The request body is not valid JSON."}


@pytest.mark.parametrize("raw", [b"[]", b'"name"', b"null", b"42", b""])
def test_body_that_is_not_an_object_is_422(api, raw):
    resp = api.post("/api/v1/companies", raw, content_type=JSON)
    assert resp.status_code == 422
    assert Company.objects.count() == 0


def test_oversized_body_is_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    resp = post(api, "/api/v1/companies", {"name": "X", "notes": "n" * 2000})
    assert resp.status_code == 413
    assert "1000" in resp.json()["detail"]
    assert Company.objects.count() == 0


def test_too_many_query_parameters_is_400(api, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    resp = api.get("/api/v1/companies?" + "&".join(f"f{i}=1" for i in range(20)))
    assert resp.status_code == 400 and resp["Content-Type"] == JSON
    assert resp.json() == {"detail": "The request was refused as malformed."}


def test_get_has_version_and_etag_and_honours_if_none_match(api, acme):
    resp = api.get(f"/api/v1/companies/{acme.pk}")
    assert resp.status_code == 200
    assert resp.json()["version"] == 1 and resp["ETag"] == '"1"'
    assert api.get(f"/api/v1/companies/{acme.pk}", HTTP_IF_NONE_MATCH='"1"').status_code == 304
    assert api.get(f"/api/v1/companies/{acme.pk}", HTTP_IF_NONE_MATCH='"7"').status_code == 200


def test_detail_query_count(api, acme, django_assert_max_num_queries):
    api.get(f"/api/v1/companies/{acme.pk}")
    with django_assert_max_num_queries(4):  # token, company, tags, followers
        assert api.get(f"/api/v1/companies/{acme.pk}").status_code == 200


def test_patch_with_version_in_body(api, acme):
    resp = patch(api, f"/api/v1/companies/{acme.pk}", {"city": "Boston", "version": 1})
    assert resp.status_code == 200, resp.content
    assert resp.json()["city"] == "Boston" and resp.json()["version"] == 2 and resp["ETag"] == '"2"'
    assert resp.json()["name"] == "Acme Imports LLC"  # untouched fields stay
    assert resp.json() == api.get(f"/api/v1/companies/{acme.pk}").json()  # the answer is what was stored


def test_patch_with_if_match(api, acme):
    assert (
        patch(api, f"/api/v1/companies/{acme.pk}", {"city": "Boston"}, HTTP_IF_MATCH='"1"').status_code == 200
    )
    assert (
        patch(api, f"/api/v1/companies/{acme.pk}", {"city": "Denver"}, HTTP_IF_MATCH='W/"2"').status_code
        == 200
    )
    assert Company.objects.get(pk=acme.pk).city == "Denver"


def test_patch_with_stale_version_is_409_naming_who_and_when(api, api_for, bob, acme):
    CompanyFollower.objects.create(company=acme, user=bob)
    assert (
        patch(api_for(bob), f"/api/v1/companies/{acme.pk}", {"city": "Boston", "version": 1}).status_code
        == 200
    )
    resp = patch(api, f"/api/v1/companies/{acme.pk}", {"city": "Denver", "version": 1})
    assert resp.status_code == 409
    body = resp.json()
    assert body["changed_by"] == "Bob" and body["current_version"] == 2 and resp["ETag"] == '"2"'
    assert body["changed_at"].endswith("Z") and "Bob" in body["detail"]
    assert Company.objects.get(pk=acme.pk).city == "Boston"


def test_patch_without_version_is_428(api, acme):
    resp = patch(api, f"/api/v1/companies/{acme.pk}", {"city": "Boston"})
    assert resp.status_code == 428
    assert "version" in resp.json()["detail"]
    assert Company.objects.get(pk=acme.pk).city == "Chicago"


@pytest.mark.parametrize(
    "headers,body",
    [
        ({"HTTP_IF_MATCH": '"abc"'}, {"city": "B"}),
        ({"HTTP_IF_MATCH": "*"}, {"city": "B"}),
        ({"HTTP_IF_MATCH": '"2"'}, {"city": "B", "version": 1}),
    ],
)
def test_bad_or_contradicting_if_match_is_400(api, acme, headers, body):
    resp = patch(api, f"/api/v1/companies/{acme.pk}", body, **headers)
    assert resp.status_code == 400
    assert Company.objects.get(pk=acme.pk).version == 1


def test_patch_validation_error_changes_nothing(api, acme):
    resp = patch(api, f"/api/v1/companies/{acme.pk}", {"city": "Boston", "country": "XX", "version": 1})
    assert resp.status_code == 422 and list(fields_of(resp)) == ["country"]
    acme.refresh_from_db()
    assert (acme.city, acme.version) == ("Chicago", 1)


def test_patch_cannot_touch_read_only_fields(api, acme):
    for field in ("id", "team_id", "search_text", "created_at"):
        resp = patch(api, f"/api/v1/companies/{acme.pk}", {field: 1, "version": 1})
        assert resp.status_code == 422 and field in fields_of(resp)


def test_delete_then_gone(api, acme):
    assert api.delete(f"/api/v1/companies/{acme.pk}").status_code == 204
    assert api.get(f"/api/v1/companies/{acme.pk}").status_code == 404
    assert AuditEvent.objects.filter(action="company.delete", object_id=acme.pk).exists()


def test_delete_with_stale_if_match_is_409(api, acme):
    resp = api.delete(f"/api/v1/companies/{acme.pk}", HTTP_IF_MATCH='"5"')
    assert resp.status_code == 409 and resp.json()["current_version"] == 1
    assert Company.objects.filter(pk=acme.pk).exists()
    assert api.delete(f"/api/v1/companies/{acme.pk}", HTTP_IF_MATCH='"1"').status_code == 204


def test_validation_messages_follow_the_users_language(api, alice, acme):
    alice.language = "zh-hans"
    alice.save(update_fields=["language"])
    resp = patch(api, f"/api/v1/companies/{acme.pk}", {"country": "XX", "version": 1})
    assert resp.status_code == 422 and resp["Content-Language"] == "zh-hans"


# --- contacts ---------------------------------------------------------------------------------


def test_contact_crud(api, acme):
    resp = post(
        api,
        "/api/v1/contacts",
        {
            "company": acme.pk,
            "first_name": "Jane",
            "phones": ["312 555 0100"],
            "emails": ["Jane@Acme.example"],
            "birthday": "1980-02-29",
        },
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    ContactOut.model_validate(body)
    assert set(body) == set(ContactOut.model_fields)
    assert body["company"] == {"id": acme.pk, "name": "Acme Imports LLC"}
    assert resp["Location"] == f"/api/v1/contacts/{body['id']}"
    assert body["phones"] == ["+13125550100"] and body["emails"] == ["jane@acme.example"]
    assert body["is_primary"] is True and body["birthday"] == "1980-02-29"
    cid = body["id"]
    resp = patch(api, f"/api/v1/contacts/{cid}", {"title": "Purchasing manager", "version": 1})
    assert resp.status_code == 200 and resp.json()["version"] == 2
    assert resp.json() == api.get(f"/api/v1/contacts/{cid}").json()
    assert patch(api, f"/api/v1/contacts/{cid}", {"title": "X", "version": 1}).status_code == 409
    assert patch(api, f"/api/v1/contacts/{cid}", {"title": "X"}).status_code == 428
    assert api.get(f"/api/v1/contacts/{cid}").json()["title"] == "Purchasing manager"
    assert api.delete(f"/api/v1/contacts/{cid}").status_code == 204
    assert not Contact.objects.filter(pk=cid).exists()


@pytest.mark.parametrize(
    "persona,allowed", [("dave", False), ("bob", False), ("carol", True), ("admin", True)]
)
def test_contact_create_needs_a_visible_company(request, api_for, acme, persona, allowed):
    client = api_for(request.getfixturevalue(persona))
    resp = post(client, "/api/v1/contacts", {"company": acme.pk, "first_name": "Li"})
    if allowed:
        assert resp.status_code == 201 and resp.json()["company"]["id"] == acme.pk
    else:
        assert resp.status_code == 422
        assert fields_of(resp) == {"company": f"No company with id {acme.pk}."}  # same as a missing one
        assert not Contact.objects.exists()


def test_contact_validation(api, acme):
    resp = post(
        api, "/api/v1/contacts", {"company": acme.pk, "emails": ["not-an-email"], "birthday": "2999-01-01"}
    )
    assert resp.status_code == 422
    assert {"first_name", "emails", "birthday"} <= set(fields_of(resp))
    resp = post(api, "/api/v1/contacts", {"company": 999999, "first_name": "Li"})
    assert resp.status_code == 422 and fields_of(resp) == {"company": "No company with id 999999."}
    resp = post(api, "/api/v1/contacts", {"first_name": "No company"})
    assert resp.status_code == 422 and "company" in fields_of(resp)


def test_contact_cannot_move_to_another_company(api, jane, make_company):
    other = make_company(name="Other")
    resp = patch(api, f"/api/v1/contacts/{jane.pk}", {"company": other.pk, "version": 1})
    assert resp.status_code == 422 and "company" in fields_of(resp)


def test_contact_lists(api, alice, dave, jane, make_company):
    other = make_company(actor=dave, name="Dave's")
    contact_create(actor=dave, company=other, data={"first_name": "Hidden"})
    page = api.get("/api/v1/contacts").json()
    ContactPage.model_validate(page)
    assert [c["first_name"] for c in page["items"]] == ["Jane"]
    assert set(page["items"][0]) == set(ContactOut.model_fields)
    assert [c["id"] for c in api.get("/api/v1/contacts", {"q": "jane@acme"}).json()["items"]] == [jane.pk]
    assert api.get("/api/v1/contacts", {"q": "nobody-here"}).json()["items"] == []
    by_company = api.get(f"/api/v1/companies/{jane.company_id}/contacts").json()
    assert [c["id"] for c in by_company["items"]] == [jane.pk]
    assert api.get("/api/v1/contacts", {"company": other.pk}).status_code == 404


def test_add_contact_through_its_company(api, acme):
    resp = post(api, f"/api/v1/companies/{acme.pk}/contacts", {"first_name": "Li", "wechat": "li_wx"})
    assert resp.status_code == 201 and resp.json()["company"]["id"] == acme.pk
    resp = post(api, f"/api/v1/companies/{acme.pk}/contacts", {"first_name": "Li", "company": acme.pk})
    assert resp.status_code == 422  # the company is in the URL


def test_contact_list_query_count(api, alice, acme, django_assert_max_num_queries):
    for i in range(20):
        contact_create(actor=alice, company=acme, data={"first_name": f"C{i}"})
    api.get("/api/v1/contacts")
    with django_assert_max_num_queries(3):
        assert len(api.get("/api/v1/contacts", {"limit": 200}).json()["items"]) == 20


# --- tags -------------------------------------------------------------------------------------


def test_tag_crud_and_list(api, api_for, dave, east_tag):
    resp = post(api, "/api/v1/tags", {"name": "Alibaba lead", "color": "#00AA00"})
    assert resp.status_code == 201
    TagOut.model_validate(resp.json())
    assert resp.json()["color"] == "#00aa00"
    assert resp["Location"] == f"/api/v1/tags/{resp.json()['id']}"
    page = api.get("/api/v1/tags").json()
    TagPage.model_validate(page)
    assert [t["name"] for t in page["items"]] == ["Alibaba lead", "VIP"]
    assert api_for(dave).get("/api/v1/tags").json()["items"] == []
    first = api.get("/api/v1/tags", {"limit": 1}).json()
    assert [t["name"] for t in first["items"]] == ["Alibaba lead"]
    second = api.get("/api/v1/tags", {"limit": 1, "cursor": first["next_cursor"]}).json()
    assert [t["name"] for t in second["items"]] == ["VIP"]
    tid = resp.json()["id"]
    changed = patch(api, f"/api/v1/tags/{tid}", {"name": "B2B lead", "version": 1}).json()
    assert changed["version"] == 2 and changed["updated_at"] > resp.json()["updated_at"]
    assert changed == api.get(f"/api/v1/tags/{tid}").json()  # the answer is what was stored
    conflict = patch(api, f"/api/v1/tags/{tid}", {"name": "C", "version": 1})
    assert conflict.status_code == 409 and conflict.json()["current_version"] == 2
    assert conflict.json()["detail"].startswith("Someone changed this record")  # tags do not record who
    assert api.delete(f"/api/v1/tags/{tid}").status_code == 204


def test_tag_validation(api, east_tag):
    resp = post(api, "/api/v1/tags", {"name": "vip", "color": "red"})
    assert resp.status_code == 422
    assert set(fields_of(resp)) == {"color"}  # the colour is checked before the name clash
    resp = post(api, "/api/v1/tags", {"name": "vip"})
    assert resp.status_code == 422 and "exists already" in fields_of(resp)["name"]


# --- OpenAPI ----------------------------------------------------------------------------------


def test_openapi_is_served_and_lists_the_endpoints(client, db):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    doc = resp.json()
    assert doc["info"]["title"] == "TradeCRM API" and doc["info"]["version"] == "1"
    assert {
        "/api/v1/companies",
        "/api/v1/companies/{company_id}",
        "/api/v1/contacts",
        "/api/v1/tags/{tag_id}",
    } <= set(doc["paths"])
    assert doc["components"]["securitySchemes"]["BearerTokenAuth"]["scheme"] == "bearer"


def test_api_docs_page_needs_no_cdn(client, db):
    # Offices behind restrictive networks (and the Great Firewall) often cannot reach jsDelivr.
    resp = client.get("/api/v1/docs")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "cdn.jsdelivr.net" not in html


@pytest.mark.parametrize("walk", [True, False], ids=["walk-newest-first", "collect-visible"])
def test_contact_list_visibility_on_both_query_paths(
    monkeypatch, api_for, alice, bob, carol, dave, admin, make_company, walk
):
    from tradecrm.customers import selectors

    monkeypatch.setattr(selectors, "CONTACT_WALK_THRESHOLD", 1 if walk else 10_000)
    mine = make_company(name="Alice's")
    followed = make_company(name="Followed by Bob")
    CompanyFollower.objects.create(company=followed, user=bob)
    theirs = make_company(actor=dave, name="Dave's")
    ids = {}
    for company, name in ((mine, "Ann"), (followed, "Fay"), (theirs, "Dan")):
        ids[name] = contact_create(
            actor=alice if company.owner_id == alice.pk else dave, company=company, data={"first_name": name}
        ).pk
    expected = {
        "alice": {"Ann", "Fay"},
        "bob": {"Fay"},
        "carol": {"Ann", "Fay"},
        "dave": {"Dan"},
        "admin": {"Ann", "Fay", "Dan"},
    }
    users = {"alice": alice, "bob": bob, "carol": carol, "dave": dave, "admin": admin}
    for persona, names in expected.items():
        items = api_for(users[persona]).get("/api/v1/contacts").json()["items"]
        assert {c["first_name"] for c in items} == names, persona
        assert [c["id"] for c in items] == sorted((ids[n] for n in names), reverse=True), (
            persona
        )  # newest first
