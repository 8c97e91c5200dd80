"""The merge screens and the merges API: 404 for dave on everything by id, the side-by-side form,
the history with undo, and the API contract."""

import json

import pytest

from tradecrm.accounts.models import ApiToken
from tradecrm.customers.models import Company, CompanyFollower, Contact
from tradecrm.customers.services import contact_create
from tradecrm.dedup import merge
from tradecrm.dedup.merge_api import MergeOut, PreviewOut, UndoOut
from tradecrm.dedup.models import DuplicatePair, MergeRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(make_company):
    return make_company(name="Acme Imports LLC", country="US", city="Chicago", industry="")


@pytest.fixture
def acme2(make_company):
    return make_company(name="ACME Imports", country="US", industry="Lighting", phones=["+13125550199"])


@pytest.fixture
def api_for(db):
    from django.test import Client

    def make(user):
        _tok, raw = ApiToken.issue(user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


def post_json(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def fields_of(resp) -> dict:
    return {e["field"]: e["message"] for e in resp.json()["detail"]}


# --- 404 for dave on everything by id -----------------------------------------------------------


def test_dave_gets_404_on_every_page_and_endpoint_by_id(alice, dave, acme, acme2, client_for, api_for):
    jane = contact_create(actor=alice, company=acme, data={"first_name": "Jane"})
    jd = contact_create(actor=alice, company=acme, data={"first_name": "J."})
    record = merge.company_merge(actor=alice, keep_id=acme.pk, merge_ids=[acme2.pk])
    web, api = client_for(dave), api_for(dave)
    ids = f"{acme.pk},{acme2.pk}"
    assert web.get(f"/merge/companies/?ids={ids}").status_code == 404
    assert web.post("/merge/companies/", {"ids": ids, "keep": acme.pk}).status_code == 404
    assert web.get(f"/merge/contacts/?ids={jane.pk},{jd.pk}").status_code == 404
    assert web.get(f"/merge/contacts/?company={acme.pk}").status_code == 404
    assert web.get(f"/merges/{record.pk}/").status_code == 404
    assert web.post(f"/merges/{record.pk}/undo/").status_code == 404
    assert api.get(f"/api/v1/merges/{record.pk}").status_code == 404
    assert post_json(api, f"/api/v1/merges/{record.pk}/undo").status_code == 404
    assert api.get(f"/api/v1/merges/preview?ids={jane.pk},{jd.pk}&entity=contacts").status_code == 404
    resp = post_json(api, "/api/v1/merges", {"entity": "contacts", "keep": jane.pk, "merge": [jd.pk]})
    assert resp.status_code == 404
    assert api.get("/api/v1/merges").json()["items"] == []
    assert MergeRecord.objects.get().undone_at is None and Contact.objects.count() == 2


# --- the screens --------------------------------------------------------------------------------


def test_merge_screen_shows_records_side_by_side_and_merges_with_the_chosen_values(
    alice, acme, acme2, client_for
):
    web = client_for(alice)
    html = web.get(f"/merge/companies/?ids={acme.pk},{acme2.pk}&keep={acme.pk}").content.decode()
    assert "Acme Imports LLC" in html and "ACME Imports" in html and 'data-testid="kept-badge"' in html
    assert f'name="f_industry" value="{acme2.pk}" checked' in html  # the only non-empty value
    assert f'name="f_name" value="{acme.pk}" checked' in html
    resp = web.post("/merge/companies/", {"ids": f"{acme.pk},{acme2.pk}", "keep": acme.pk,
                                          "f_name": acme2.pk, "f_industry": acme2.pk,
                                          f"v_{acme.pk}": acme.version, f"v_{acme2.pk}": acme2.version})  # fmt: skip
    record = MergeRecord.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/merges/{record.pk}/"
    kept = Company.objects.get()
    assert (kept.pk, kept.name, kept.industry, kept.phones) == (
        acme.pk,
        "ACME Imports",
        "Lighting",
        ["+13125550199"],
    )
    page = web.get(resp["Location"]).content.decode()
    assert "Merged 1 record(s) into" in page and 'data-testid="merge-undo"' in page


def test_a_stale_form_is_refused_with_a_message(alice, acme, acme2, client_for):
    resp = client_for(alice).post("/merge/companies/", {"ids": f"{acme.pk},{acme2.pk}", "keep": acme.pk,
                                                        f"v_{acme2.pk}": acme2.version + 5})  # fmt: skip
    assert resp.status_code == 200 and "changed after you opened this page" in resp.content.decode()
    assert Company.objects.count() == 2


def test_sales_rep_sees_why_a_colleague_of_another_team_record_cannot_be_merged(alice, dave, acme, make_company,
                                                                                client_for):  # fmt: skip
    theirs = make_company(actor=dave, name="Acme Imports (West)")
    CompanyFollower.objects.create(company=theirs, user=alice)
    html = client_for(alice).get(f"/merge/companies/?ids={acme.pk},{theirs.pk}").content.decode()
    assert 'data-testid="merge-refused"' in html and "Ask a manager" in html
    assert 'data-testid="merge-submit"' not in html
    resp = client_for(alice).post("/merge/companies/", {"ids": f"{acme.pk},{theirs.pk}", "keep": acme.pk})
    assert "Ask a manager" in resp.content.decode() and Company.objects.count() == 2


def test_picker_offers_likely_duplicates_and_search_results(alice, acme, acme2, make_company, client_for):
    DuplicatePair.objects.create(
        entity="company", a_id=acme.pk, b_id=acme2.pk, score=0.91, reasons=["same name"]
    )
    make_company(name="Acme Tools")
    html = client_for(alice).get(f"/merge/companies/?ids={acme.pk}&q=acme").content.decode()
    assert 'data-testid="merge-suggestions"' in html and "same name" in html
    assert f"ids={acme.pk}%2C{acme2.pk}" in html  # "Add" link
    assert "Acme Tools" in html


def test_picker_offers_what_the_duplicate_check_finds(alice, acme, make_company, client_for):
    from tradecrm.dedup.keys import refresh_company_keys

    twin = make_company(name="ACME IMPORTS, LLC", country="US")
    refresh_company_keys([acme.pk, twin.pk])
    html = client_for(alice).get(f"/merge/companies/?ids={acme.pk}").content.decode()
    assert 'data-testid="merge-suggestions"' in html and f"ids={acme.pk}%2C{twin.pk}" in html


def test_contacts_picker_and_merge(alice, acme, client_for):
    jane = contact_create(actor=alice, company=acme, data={"first_name": "Jane", "emails": ["jane@acme.com"]})
    jd = contact_create(actor=alice, company=acme, data={"first_name": "J.", "emails": ["jd@acme.com"]})
    web = client_for(alice)
    html = web.get(f"/merge/contacts/?company={acme.pk}").content.decode()
    assert f'name="ids" value="{jane.pk}"' in html and f'name="ids" value="{jd.pk}"' in html
    html = web.get(f"/merge/contacts/?ids={jane.pk}&ids={jd.pk}&keep={jane.pk}").content.decode()
    assert 'data-testid="merge-submit"' in html
    resp = web.post("/merge/contacts/", {"ids": f"{jane.pk},{jd.pk}", "keep": jane.pk, "f_email": jd.pk})
    assert resp.status_code == 302
    assert Contact.objects.get().emails == ["jd@acme.com", "jane@acme.com"]


def test_history_and_undo_from_the_page(alice, carol, acme, acme2, client_for):
    record = merge.company_merge(actor=alice, keep_id=acme.pk, merge_ids=[acme2.pk])
    html = client_for(carol).get("/merges/").content.decode()  # the manager sees the team's merges
    assert 'data-testid="merge-list"' in html and "ACME Imports" in html
    resp = client_for(alice).post(f"/merges/{record.pk}/undo/", follow=True)
    assert "Merge undone" in resp.content.decode()
    assert Company.objects.count() == 2
    resp = client_for(alice).post(f"/merges/{record.pk}/undo/", follow=True)
    assert "undone already" in resp.content.decode()


def test_company_page_snippet_links_to_the_merge_screens(alice, acme):
    from django.template.loader import render_to_string

    html = render_to_string("dedup/merge/_company_actions.html", {"company": acme})
    assert f"/merge/companies/?ids={acme.pk}" in html and f"/merge/contacts/?company={acme.pk}" in html


# --- API ----------------------------------------------------------------------------------------


def test_api_preview_merge_get_list_and_undo(alice, acme, acme2, api_for):
    contact_create(actor=alice, company=acme2, data={"first_name": "Tom"})
    api = api_for(alice)
    resp = api.get(f"/api/v1/merges/preview?entity=companies&ids={acme2.pk},{acme.pk}&keep={acme.pk}")
    assert resp.status_code == 200, resp.content
    p = PreviewOut.model_validate(resp.json())
    assert p.keep == acme.pk and {f.name: f.default for f in p.fields}["industry"] == acme2.pk
    assert {r.key: r.counts for r in p.related}["customers.contact.company_id"] == {
        str(acme.pk): 0,
        str(acme2.pk): 1,
    }
    resp = post_json(api, "/api/v1/merges", {"entity": "companies", "keep": acme.pk, "merge": [acme2.pk],
                                             "chosen": {"name": acme2.pk}})  # fmt: skip
    assert resp.status_code == 201, resp.content
    body = MergeOut.model_validate(resp.json())
    assert resp["Location"] == f"/api/v1/merges/{body.id}"
    assert (
        body.kept.id == acme.pk
        and body.kept.label == "ACME Imports"
        and [m.id for m in body.merged] == [acme2.pk]
    )
    assert [c.field for c in body.chosen] == ["name", "industry"]
    assert MergeOut.model_validate(api.get(f"/api/v1/merges/{body.id}").json()).id == body.id
    assert [m["id"] for m in api.get("/api/v1/merges").json()["items"]] == [body.id]
    undone = post_json(api, f"/api/v1/merges/{body.id}/undo")
    assert undone.status_code == 200, undone.content
    out = UndoOut.model_validate(undone.json())
    assert out.undone_at is not None and out.result["fields_kept"] == []
    assert Company.objects.get(pk=acme.pk).name == "Acme Imports LLC"
    again = post_json(api, f"/api/v1/merges/{body.id}/undo")
    assert again.status_code == 422 and "undone already" in again.json()["detail"][0]["message"]


def test_api_errors_name_the_field(alice, acme, acme2, api_for):
    api = api_for(alice)
    resp = post_json(api, "/api/v1/merges", {"keep": acme.pk, "merge": [acme.pk]})
    assert resp.status_code == 422 and "merge" in fields_of(resp)
    resp = post_json(api, "/api/v1/merges", {"keep": acme.pk, "merge": [acme2.pk], "chosen": {"city": 5}})
    assert resp.status_code == 422 and "chosen.city" in fields_of(resp)
    resp = post_json(api, "/api/v1/merges", {"entity": "deals", "keep": acme.pk, "merge": [acme2.pk]})
    assert resp.status_code == 422 and "entity" in fields_of(resp)
    resp = post_json(
        api, "/api/v1/merges", {"keep": acme.pk, "merge": [acme2.pk], "versions": {str(acme2.pk): 9}}
    )
    assert resp.status_code == 409
    assert api.get(f"/api/v1/merges/preview?ids={acme.pk}").status_code == 422
    assert Company.objects.count() == 2


def test_api_sales_rep_gets_403_for_another_team_record(alice, dave, acme, make_company, api_for):
    theirs = make_company(actor=dave, name="Acme West")
    CompanyFollower.objects.create(company=theirs, user=alice)
    resp = post_json(api_for(alice), "/api/v1/merges", {"keep": acme.pk, "merge": [theirs.pk]})
    assert resp.status_code == 403 and "Acme West" in resp.json()["detail"]
