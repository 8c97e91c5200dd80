"""/api/v1/followups and /api/v1/reminder-rules: visibility (404 for dave on every id), versions,
422 naming the field, complete with log, keyset paging and filters, admin-only rules."""

import datetime as dt
import json

import pytest
from django.test import Client

from tradecrm.accounts.models import ApiToken
from tradecrm.followups.models import CadenceRule, FollowUp
from tradecrm.followups.schemas import FollowUpOut, FollowUpPage, FollowUpWritten, RuleOut, RulePage
from tradecrm.interactions.models import Interaction

pytestmark = pytest.mark.django_db
JSON = "application/json"


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


BY_ID = [
    ("get", "/api/v1/followups/{id}", None, 200),
    ("patch", "/api/v1/followups/{id}", {"title": "Call Jane", "version": 1}, 200),
    ("post", "/api/v1/followups/{id}/complete", {"version": 1}, 200),
    ("post", "/api/v1/followups/{id}/cancel", {"version": 1}, 200),
    ("delete", "/api/v1/followups/{id}", None, 204),
    ("get", "/api/v1/followups?company_id={company}", None, 200),
]


@pytest.mark.parametrize("method,url,body,ok", BY_ID, ids=[f"{m} {u}" for m, u, _b, _o in BY_ID])
@pytest.mark.parametrize(
    "persona,allowed", [("dave", False), ("bob", False), ("carol", True), ("admin", True)]
)
def test_every_followup_by_id_follows_visibility(
    request, api_for, make_followup, method, url, body, ok, persona, allowed
):
    f = make_followup()
    resp = call(
        api_for(request.getfixturevalue(persona)), method, url.format(id=f.pk, company=f.company_id), body
    )
    assert resp.status_code == (ok if allowed else 404), resp.content
    if not allowed:
        assert resp.json() == {"detail": "Not found."}
        f.refresh_from_db()
        assert (f.title, f.status, f.version) == ("Call about the sample", "open", 1)


def test_the_assignee_sees_it_without_seeing_the_customer(api_for, carol, bob, make_followup):
    f = make_followup(actor=carol, assignee=None)
    FollowUp.objects.filter(pk=f.pk).update(assignee=bob)  # e.g. handed over, then sharing ended
    assert call(api_for(bob), "get", f"/api/v1/followups/{f.pk}").status_code == 200
    assert call(api_for(bob), "get", "/api/v1/followups?assignee=me").json()["items"][0]["id"] == f.pk


def test_create_names_every_bad_field_and_flags_past_due(api_for, alice, dave, acme):
    api = api_for(alice)
    r = call(
        api,
        "post",
        "/api/v1/followups",
        {"company": acme.pk, "title": "", "due_at": "soon", "assignee": dave.pk},
    )
    assert r.status_code == 422
    assert set(fields_of(r)) == {"title", "due_at", "assignee"}
    r = call(
        api,
        "post",
        "/api/v1/followups",
        {"company": acme.pk, "title": "x", "due_at": "2026-03-05T09:00", "colour": "red"},
    )
    assert r.status_code == 422 and fields_of(r) == {"colour": "Unknown field."}
    r = call(
        api_for(dave), "post", "/api/v1/followups", {"company": acme.pk, "title": "x", "due_at": "2026-03-05"}
    )
    assert r.status_code == 422 and "company" in fields_of(r)
    r = call(
        api, "post", "/api/v1/followups", {"company": acme.pk, "title": "Call", "due_at": "2026-03-01T09:00"}
    )
    assert r.status_code == 201 and r["Location"] == f"/api/v1/followups/{r.json()['id']}"
    body = FollowUpWritten.model_validate(r.json())
    assert body.warnings and body.due_at == dt.datetime(2026, 3, 1, 1, 0, tzinfo=dt.UTC)  # alice is UTC+8


def test_patch_needs_a_version_and_refuses_a_stale_one(api_for, alice, make_followup):
    f = make_followup()
    api = api_for(alice)
    assert call(api, "patch", f"/api/v1/followups/{f.pk}", {"title": "A"}).status_code == 428
    r = call(api, "patch", f"/api/v1/followups/{f.pk}", {"title": "A"}, HTTP_IF_MATCH='"1"')
    assert r.status_code == 200 and r["ETag"] == '"2"'
    r = call(api, "patch", f"/api/v1/followups/{f.pk}", {"title": "B", "version": 1})
    assert r.status_code == 409 and r.json()["current_version"] == 2 and r.json()["changed_by"] == "Alice"


def test_complete_with_log_creates_the_interaction_and_outcome(api_for, alice, make_followup):
    f = make_followup()
    r = call(
        api_for(alice),
        "post",
        f"/api/v1/followups/{f.pk}/complete",
        {"version": 1, "log": {"type": "whatsapp", "body": "Sent the price list"}},
    )
    assert r.status_code == 200, r.content
    out = FollowUpWritten.model_validate(r.json())
    i = Interaction.objects.get()
    assert out.status == "done" and out.outcome_id == i.pk and (i.type, i.direction) == ("whatsapp", "out")
    r = call(api_for(alice), "post", f"/api/v1/followups/{f.pk}/complete", {"version": 2})
    assert r.status_code == 422 and "status" in fields_of(r)


def test_complete_with_a_bad_log_names_the_field(api_for, alice, make_followup):
    f = make_followup()
    r = call(
        api_for(alice), "post", f"/api/v1/followups/{f.pk}/complete", {"version": 1, "log": {"type": "fax"}}
    )
    assert r.status_code == 422 and "log.type" in fields_of(r)
    assert FollowUp.objects.get(pk=f.pk).status == "open"


def test_cancel_and_reopen(api_for, alice, make_followup):
    f = make_followup()
    api = api_for(alice)
    assert call(api, "post", f"/api/v1/followups/{f.pk}/cancel", {}).status_code == 428
    assert (
        call(api, "post", f"/api/v1/followups/{f.pk}/cancel", {"version": 1}).json()["status"] == "cancelled"
    )
    assert call(api, "post", f"/api/v1/followups/{f.pk}/reopen", {"version": 2}).json()["status"] == "open"


def test_list_filters_and_keyset_paging(api_for, alice, bob, acme, make_company, make_followup):
    other = make_company(name="Other Ltd")
    for day in range(1, 6):
        make_followup(due_at=f"2026-03-{10 + day:02d}T09:00")
    make_followup(company=other, due_at="2026-03-02T09:00")
    make_followup(actor=bob, company=make_company(actor=bob, name="Bob's"), due_at="2026-03-03T09:00")
    api = api_for(alice)
    page = call(api, "get", "/api/v1/followups?limit=2").json()
    FollowUpPage.model_validate(page)
    seen = [i["id"] for i in page["items"]]
    while page["next_cursor"]:
        page = call(api, "get", f"/api/v1/followups?limit=2&cursor={page['next_cursor']}").json()
        seen += [i["id"] for i in page["items"]]
    assert len(seen) == len(set(seen)) == 6  # bob's customer is not alice's
    dues = [FollowUp.objects.get(pk=i).due_at for i in seen]
    assert dues == sorted(dues)
    r = call(api, "get", f"/api/v1/followups?company_id={other.pk}").json()
    assert [i["company"]["name"] for i in r["items"]] == ["Other Ltd"]
    r = call(api, "get", "/api/v1/followups?due_before=2026-03-12T12:00&due_after=2026-03-03").json()
    assert len(r["items"]) == 2  # the 11th and 12th, 09:00 Shanghai
    assert call(api, "get", "/api/v1/followups?status=done").json()["items"] == []
    r = call(api, "get", "/api/v1/followups?assignee=nobody")
    assert r.status_code == 422 and "assignee" in fields_of(r)
    r = call(api, "get", "/api/v1/followups?due_before=someday")
    assert r.status_code == 422 and "due_before" in fields_of(r)
    assert call(api, "get", "/api/v1/followups?cursor=garbage").status_code == 400


def test_get_validates_against_its_schema_and_etag(api_for, alice, make_followup):
    f = make_followup()
    r = call(api_for(alice), "get", f"/api/v1/followups/{f.pk}")
    FollowUpOut.model_validate(r.json())
    assert (
        call(api_for(alice), "get", f"/api/v1/followups/{f.pk}", HTTP_IF_NONE_MATCH=r["ETag"]).status_code
        == 304
    )


# --- reminder rules -----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["alice", "carol", "dave"])
def test_rules_are_for_administrators_only(request, api_for, persona):
    rule = CadenceRule.objects.get(kind="cadence", status="prospect")
    api = api_for(request.getfixturevalue(persona))
    assert call(api, "get", "/api/v1/reminder-rules").status_code == 403
    assert (
        call(api, "post", "/api/v1/reminder-rules", {"name": "x", "kind": "cadence", "days": 3}).status_code
        == 403
    )
    for method, body in (("get", None), ("patch", {"days": 1, "version": 1}), ("delete", None)):
        assert call(api, method, f"/api/v1/reminder-rules/{rule.pk}", body).status_code == 404
    rule.refresh_from_db()
    assert rule.days == 7


def test_admin_edits_rules(api_for, admin):
    api = api_for(admin)
    page = call(api, "get", "/api/v1/reminder-rules").json()
    RulePage.model_validate(page)
    assert len(page["items"]) == 10
    rule = CadenceRule.objects.get(kind="cadence", status="prospect")
    r = call(api, "patch", f"/api/v1/reminder-rules/{rule.pk}", {"days": 5, "active": False, "version": 1})
    assert r.status_code == 200 and RuleOut.model_validate(r.json()).days == 5 and r.json()["active"] is False
    r = call(
        api,
        "post",
        "/api/v1/reminder-rules",
        {"name": "Lost: every 180 days", "kind": "cadence", "status": "lost"},
    )
    assert r.status_code == 422 and "days" in fields_of(r)
    r = call(
        api,
        "post",
        "/api/v1/reminder-rules",
        {"name": "Dup", "kind": "cadence", "status": "prospect", "days": 3},
    )
    assert r.status_code == 422 and "status" in fields_of(r)
    r = call(
        api,
        "post",
        "/api/v1/reminder-rules",
        {"name": "Lost: every 180 days", "kind": "cadence", "status": "lost", "days": 180},
    )
    assert r.status_code == 201
    assert call(api, "delete", f"/api/v1/reminder-rules/{r.json()['id']}").status_code == 204
    assert not CadenceRule.objects.filter(status="lost").exists()
