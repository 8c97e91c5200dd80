"""Saved segments (smart lists): validation, who sees them (own, shared with the team, 404 for
another team's private one), members scoped to the viewer, the pages, the API and the export."""

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradecrm.accounts.models import ApiToken
from tradecrm.audit.models import AuditEvent
from tradecrm.customers import filtering
from tradecrm.customers import segment_selectors as sel
from tradecrm.customers import segment_services as svc
from tradecrm.customers.api import CompanyPage
from tradecrm.customers.models import Company, CompanyTag, SavedSegment, Tag
from tradecrm.customers.segment_api import SegmentList, SegmentOut
from tradecrm.grading.models import CompanyGrade, Tier

pytestmark = pytest.mark.django_db


def _co(owner, name, **kw):
    return Company.objects.create(name=name, owner=owner, team_id=owner.team_id, **kw)


@pytest.fixture
def api_for(db):
    def make(user):
        _tok, raw = ApiToken.issue(user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


def _json(client, method, url, body=None, **headers):
    return getattr(client, method)(url, json.dumps(body or {}), content_type="application/json", **headers)


@pytest.fixture
def german(alice, bob, dave):
    """DE customers of alice (2), bob (1) and dave (1); a US one of alice."""
    rows = [
        _co(alice, "Berlin GmbH", country="DE"),
        _co(alice, "Munich AG", country="DE"),
        _co(bob, "Hamburg KG", country="DE"),
        _co(dave, "Cologne West", country="DE"),
        _co(alice, "Chicago Inc", country="US"),
    ]
    return rows


def test_create_validates_name_and_filters(alice):
    with pytest.raises(ValidationError) as exc:
        svc.segment_create(
            actor=alice,
            data={"name": " ", "filters": {"tier": "ZZ", "when": "x", "contact_before": "03/01/2026"}},
        )
    errors = exc.value.message_dict
    assert errors["name"] == ["This field is required."]
    assert errors["filters.tier"][0].startswith("There is no tier “ZZ”")
    assert errors["filters.when"][0].startswith("Unknown filter “when”")
    assert errors["filters.contact_before"] == ["Enter a date as YYYY-MM-DD."]
    with pytest.raises(ValidationError) as exc:
        svc.segment_create(actor=alice, data={"name": "x", "filters": ["DE"]})
    assert exc.value.message_dict == {"filters": ["Enter a JSON object of filters."]}
    assert not SavedSegment.objects.exists()


def test_create_keeps_clean_filters_and_audits(alice):
    s = svc.segment_create(
        actor=alice,
        data={
            "name": "German buyers",
            "shared": True,
            "filters": {"country": "de", "hs": "8471.30", "tag": []},
        },
    )
    assert s.filters == {"country": "DE", "hs": "847130"}
    assert (s.team_id, s.shared, s.version) == (alice.team_id, True, 1)
    assert AuditEvent.objects.filter(action="segment.create", object_id=s.pk).exists()
    with pytest.raises(ValidationError) as exc:
        svc.segment_create(actor=alice, data={"name": "german BUYERS"})
    assert "already have a segment" in exc.value.message_dict["name"][0]


def test_visibility_own_shared_team_manager_admin_and_404(alice, bob, carol, dave, admin):
    private = svc.segment_create(actor=alice, data={"name": "Mine", "filters": {}})
    shared = svc.segment_create(actor=alice, data={"name": "Team", "shared": True, "filters": {}})
    assert {s.name for s in sel.segment_list(alice)} == {"Mine", "Team"}
    assert [s.name for s in sel.segment_list(bob)] == ["Team"]
    assert [s.name for s in sel.segment_list(carol)] == ["Team"]  # the manager above East
    assert sel.segment_list(dave) == []
    assert {s.name for s in sel.segment_list(admin)} == {"Mine", "Team"}
    from django.http import Http404

    for user, seg in ((dave, private), (dave, shared), (bob, private)):
        with pytest.raises(Http404):
            sel.segment_get_for_user(user, seg.pk)
    with pytest.raises(PermissionDenied):
        svc.segment_update(actor=bob, segment=shared, version=1, data={"name": "Bob's now"})
    svc.segment_update(actor=alice, segment=shared, version=1, data={"shared": False})
    assert sel.segment_list(bob) == []


def test_members_are_scoped_to_the_viewer(alice, bob, carol, dave, admin, german):
    seg = svc.segment_create(actor=alice, data={"name": "DE", "shared": True, "filters": {"country": "DE"}})
    names = lambda u: sorted(c.name for c in sel.segment_companies(u, seg))  # noqa: E731
    assert names(alice) == ["Berlin GmbH", "Munich AG"]
    assert names(bob) == ["Hamburg KG"]
    assert names(carol) == ["Berlin GmbH", "Hamburg KG", "Munich AG"]
    assert names(admin) == ["Berlin GmbH", "Cologne West", "Hamburg KG", "Munich AG"]
    assert sel.segment_count(carol, seg) == 3


def test_smart_filters_in_a_segment(alice, teams):
    tier_a = Tier.objects.get_or_create(code="A", defaults={"name": "Key", "rank": 1, "min_score": 80})[0]
    vip = Tag.objects.create(name="VIP", team=teams["east"])
    hit, miss = _co(alice, "Key VIP", hs_codes=["610910"]), _co(alice, "Key only", hs_codes=["610910"])
    CompanyGrade.objects.bulk_create(
        [CompanyGrade(company=hit, tier=tier_a.code), CompanyGrade(company=miss, tier=tier_a.code)]
    )
    CompanyTag.objects.create(company=hit, tag=vip)
    seg = svc.segment_create(
        actor=alice,
        data={"name": "Key VIP knitwear", "filters": {"tier": "A", "tag": [vip.pk], "hs": "6109"}},
    )
    assert [c.name for c in sel.segment_companies(alice, seg)] == ["Key VIP"]


def test_update_is_versioned_and_replaces_filters(alice):
    from tradecrm.core.errors import ConcurrentEditError

    seg = svc.segment_create(actor=alice, data={"name": "S", "filters": {"country": "DE", "source": "b2b"}})
    svc.segment_update(actor=alice, segment=seg, version=1, data={"filters": {"country": "FR"}})
    seg.refresh_from_db()
    assert (seg.filters, seg.version) == ({"country": "FR"}, 2)
    with pytest.raises(ConcurrentEditError):
        svc.segment_update(actor=alice, segment=seg, version=1, data={"name": "T"})


# --- pages ----------------------------------------------------------------------------------------


def test_save_the_view_as_a_segment_and_open_it(alice, client_for, german):
    c = client_for(alice)
    page = c.get("/segments/new/?q=&country=DE&tier=&hs=&cursor=abc")
    assert page.status_code == 200 and "Germany" in page.content.decode()
    resp = c.post("/segments/new/", {"name": "German buyers", "filters": "country=DE&q=", "shared": "on"})
    seg = SavedSegment.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/customers/?segment={seg.pk}"
    assert seg.filters == {"country": "DE"} and seg.shared
    html = c.get(resp["Location"]).content.decode()
    assert "Berlin GmbH" in html and "Munich AG" in html and "Chicago Inc" not in html
    assert 'data-testid="segment-banner"' in html and 'data-testid="update-segment"' in html
    # the filter form, once submitted, states the whole view (the US one shows when DE is cleared)
    html = c.get(f"/customers/?segment={seg.pk}&q=&country=", HTTP_HX_REQUEST="true").content.decode()
    assert "Chicago Inc" in html
    listing = c.get("/segments/").content.decode()
    assert "German buyers" in listing and "Germany" in listing
    assert (
        c.get(f"/segments/{seg.pk}/count/").content.decode().strip()
        == '<span data-testid="segment-count">2</span>'
    )


def test_save_refuses_bad_input_with_the_message(alice, client_for):
    resp = client_for(alice).post("/segments/new/", {"name": "", "filters": "country=DE"})
    assert resp.status_code == 422 and "This field is required." in resp.content.decode()


def test_edit_with_new_filters_from_the_list(alice, client_for):
    seg = svc.segment_create(actor=alice, data={"name": "S", "filters": {"country": "DE"}})
    c = client_for(alice)
    page = c.get(f"/segments/{seg.pk}/edit/?segment={seg.pk}&q=&country=FR&source=b2b").content.decode()
    assert "New filters" in page and "France" in page
    resp = c.post(
        f"/segments/{seg.pk}/edit/", {"name": "S2", "version": 1, "filters": "country=FR&source=b2b"}
    )
    assert resp.status_code == 302
    seg.refresh_from_db()
    assert (seg.name, seg.filters) == ("S2", {"country": "FR", "source": "b2b"})
    resp = c.post(f"/segments/{seg.pk}/edit/", {"name": "S3", "version": 2})  # no filters: kept
    seg.refresh_from_db()
    assert (seg.name, seg.filters) == ("S3", {"country": "FR", "source": "b2b"})


def test_dave_gets_404_on_every_segment_page(alice, dave, bob, client_for):
    seg = svc.segment_create(actor=alice, data={"name": "Private", "filters": {}})
    shared = svc.segment_create(actor=alice, data={"name": "Shared", "shared": True, "filters": {}})
    d = client_for(dave)
    for url in (
        f"/customers/?segment={seg.pk}",
        f"/segments/{seg.pk}/edit/",
        f"/segments/{seg.pk}/delete/",
        f"/segments/{seg.pk}/count/",
        f"/segments/new/?segment={seg.pk}",
        f"/customers/?segment={shared.pk}",
    ):
        assert d.get(url).status_code == 404, url
    assert d.post(f"/segments/{seg.pk}/delete/").status_code == 404
    assert client_for(bob).get(f"/segments/{shared.pk}/edit/").status_code == 403
    assert SavedSegment.objects.count() == 2


def test_delete_page(alice, client_for):
    seg = svc.segment_create(actor=alice, data={"name": "Old", "filters": {}})
    c = client_for(alice)
    assert "Delete the segment “Old”" in c.get(f"/segments/{seg.pk}/delete/").content.decode()
    assert c.post(f"/segments/{seg.pk}/delete/").status_code == 302
    assert not SavedSegment.objects.exists()


# --- API ------------------------------------------------------------------------------------------


def test_api_crud_members_and_count(alice, bob, api_for, german):
    c = api_for(alice)
    resp = _json(c, "post", "/api/v1/segments", {"name": "DE", "shared": True, "filters": {"country": "DE"}})
    assert resp.status_code == 201
    body = SegmentOut.model_validate(resp.json())
    assert (
        body.filters == {"country": "DE"}
        and body.can_edit
        and resp["Location"] == f"/api/v1/segments/{body.id}"
    )
    assert [s.name for s in SegmentList.model_validate(c.get("/api/v1/segments").json()).items] == ["DE"]
    assert c.get(f"/api/v1/segments/{body.id}/count").json() == {"id": body.id, "count": 2}
    page = CompanyPage.model_validate(c.get(f"/api/v1/segments/{body.id}/companies?limit=1").json())
    assert len(page.items) == 1 and page.next_cursor
    page2 = c.get(f"/api/v1/segments/{body.id}/companies?limit=1&cursor={page.next_cursor}").json()
    assert {page.items[0].name, page2["items"][0]["name"]} == {"Berlin GmbH", "Munich AG"}
    # bob sees the shared segment with his own members only, and may not change it
    b = api_for(bob)
    assert b.get(f"/api/v1/segments/{body.id}/count").json()["count"] == 1
    assert SegmentOut.model_validate(b.get(f"/api/v1/segments/{body.id}").json()).can_edit is False
    assert _json(b, "patch", f"/api/v1/segments/{body.id}", {"name": "x", "version": 1}).status_code == 403
    resp = _json(c, "patch", f"/api/v1/segments/{body.id}", {"filters": {"country": "US"}, "version": 1})
    assert (
        resp.status_code == 200
        and resp.json()["filters"] == {"country": "US"}
        and resp.json()["version"] == 2
    )
    assert _json(c, "patch", f"/api/v1/segments/{body.id}", {"name": "y"}).status_code == 428
    assert c.delete(f"/api/v1/segments/{body.id}").status_code == 204
    assert not SavedSegment.objects.exists()


def test_api_bad_filters_are_422_with_fields(alice, api_for):
    resp = _json(
        api_for(alice),
        "post",
        "/api/v1/segments",
        {"name": "Bad", "filters": {"tier": "Q", "hs": "abc", "bogus": 1}},
    )
    assert resp.status_code == 422
    fields = {d["field"] for d in resp.json()["detail"]}
    assert fields == {"filters.tier", "filters.hs", "filters.bogus"}


def test_api_dave_gets_404_for_another_teams_segment(alice, dave, api_for):
    private = svc.segment_create(actor=alice, data={"name": "Private", "filters": {}})
    shared = svc.segment_create(actor=alice, data={"name": "Shared", "shared": True, "filters": {}})
    d = api_for(dave)
    for seg in (private, shared):
        assert d.get(f"/api/v1/segments/{seg.pk}").status_code == 404
        assert d.get(f"/api/v1/segments/{seg.pk}/count").status_code == 404
        assert d.get(f"/api/v1/segments/{seg.pk}/companies").status_code == 404
        assert _json(d, "patch", f"/api/v1/segments/{seg.pk}", {"name": "x", "version": 1}).status_code == 404
        assert d.delete(f"/api/v1/segments/{seg.pk}").status_code == 404
    assert d.get("/api/v1/segments").json() == {"items": []}
    assert SavedSegment.objects.count() == 2


# --- export ---------------------------------------------------------------------------------------


def test_companies_export_accepts_a_segment(alice, carol, dave, client_for, german):
    seg = svc.segment_create(actor=alice, data={"name": "DE", "shared": True, "filters": {"country": "DE"}})
    resp = client_for(carol).get(f"/exports/companies/?segment={seg.pk}&format=csv")
    assert resp.status_code == 200
    body = b"".join(resp.streaming_content) if resp.streaming else resp.content
    text = body.decode("utf-8-sig")
    assert "Berlin GmbH" in text and "Hamburg KG" in text and "Chicago Inc" not in text
    assert "Cologne West" not in text  # dave's: not visible to carol
    dave.can_export = True
    dave.save(update_fields=["can_export"])
    assert client_for(dave).get(f"/exports/companies/?segment={seg.pk}&format=csv").status_code == 404


def test_companies_api_takes_the_smart_filters_and_a_segment(alice, dave, api_for, german):
    from tradecrm.catalog.models import Product

    seg = svc.segment_create(actor=alice, data={"name": "DE", "filters": {"country": "DE"}})
    c = api_for(alice)
    names = lambda url: sorted(i["name"] for i in c.get(url).json()["items"])  # noqa: E731
    assert names(f"/api/v1/companies?segment={seg.pk}") == ["Berlin GmbH", "Munich AG"]
    assert names(f"/api/v1/companies?segment={seg.pk}&country=US") == ["Chicago Inc"]  # given ones win
    Company.objects.filter(name="Munich AG").update(hs_codes=["847130"])
    assert names(f"/api/v1/companies?segment={seg.pk}&hs=8471") == ["Munich AG"]
    p1 = Product.objects.create(sku="P1", name_en="One")
    p2 = Product.objects.create(sku="P2", name_en="Two")
    assert names(f"/api/v1/companies?product={p1.pk}&product={p2.pk}") == []
    resp = c.get("/api/v1/companies?tier=ZZ&contact_after=2026-13-01")
    assert resp.status_code == 422
    assert {d["field"] for d in resp.json()["detail"]} == {"tier", "contact_after"}
    assert api_for(dave).get(f"/api/v1/companies?segment={seg.pk}").status_code == 404


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
filter_keys = st.sampled_from([*filtering.FILTER_KEYS, "x"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(filters=st.dictionaries(filter_keys, json_values, max_size=5))
def test_any_filters_are_cleaned_or_refused_with_messages(alice, filters):
    """What the API hands to the segment service: anything JSON. Either clean filters whose query
    runs, or messages naming the filter; never an exception."""
    clean, errors = filtering.read_filters(filters, alice, strict=True)
    assert all(k in filtering.FILTER_KEYS for k in clean)
    assert all(messages and all(messages) for messages in errors.values())
    list(sel.segment_companies(alice, SavedSegment(filters=clean, owner=alice)).values_list("id")[:1])
