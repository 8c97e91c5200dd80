"""HTML pages and the JSON API: authz (dave and the sales reps get 404 on rules, runs, assignment
rules and other people's approvals), rule builder rows, refusals with the reason (422), the test
and dry run endpoints, and the approvals inbox."""

import json

import pytest

from tradecrm.automation.models import Approval, Rule

DE = {"all": [{"field": "country", "op": "eq", "value": "DE"}]}


@pytest.fixture
def api(client):
    from tradecrm.accounts.models import ApiToken

    def call(user, method, path, body=None):
        _tok, raw = ApiToken.issue(user, "t")
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        return getattr(client, method)(f"/api/v1/automation{path}", **kwargs)

    return call


def test_rule_api_create_refuse_patch_and_authz(api, admin, alice, dave, carol):
    r = api(admin, "post", "/rules", {"name": "DE", "event": "record.created", "conditions": DE,
                                      "actions": [{"type": "notify", "to": "owner", "message": "hi"}]})  # fmt: skip
    assert r.status_code == 201, r.content
    rid = r.json()["id"]
    bad = api(admin, "post", "/rules", {"name": "x", "event": "record.created",
                                        "conditions": {"field": "nope", "op": "eq", "value": 1},
                                        "actions": [{"type": "notify", "to": "owner", "message": "m"}]})  # fmt: skip
    assert bad.status_code == 422 and "nope" in bad.content.decode()
    p = api(admin, "patch", f"/rules/{rid}", {"version": 1, "active": False})
    assert p.status_code == 200 and p.json()["version"] == 2 and p.json()["active"] is False
    assert api(admin, "get", f"/rules/{rid}/versions").json()[0]["version"] == 2
    for user in (alice, dave, carol):  # carol did not build it
        assert api(user, "get", f"/rules/{rid}").status_code == 404
        assert api(user, "patch", f"/rules/{rid}", {"version": 2, "active": True}).status_code == 404
        assert api(user, "get", f"/rules/{rid}/dry-run?since=2026-03-01").status_code == 404
        assert api(user, "post", f"/rules/{rid}/test", {"obj_id": 1}).status_code == 404
        assert api(user, "delete", f"/rules/{rid}").status_code == 404
    assert api(alice, "post", "/rules", {"name": "x", "event": "record.created",
                                         "actions": [{"type": "notify", "to": "owner", "message": "m"}]}).status_code == 403  # fmt: skip


def test_runs_dry_run_and_test_api(
    api, admin, alice, dave, make_company, django_capture_on_commit_callbacks, settings
):
    rid = api(admin, "post", "/rules", {"name": "DE", "event": "record.created", "conditions": DE,
                                        "actions": [{"type": "notify", "to": "owner", "message": "hi"}]}).json()["id"]  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        c = make_company(actor=alice, name="Bonn GmbH", country="DE")
    runs = api(admin, "get", f"/runs?rule={rid}").json()
    assert runs["items"][0]["obj_id"] == c.pk and runs["items"][0]["status"] == "done"
    run_id = runs["items"][0]["id"]
    assert api(admin, "get", f"/runs/{run_id}").status_code == 200
    assert api(dave, "get", f"/runs/{run_id}").status_code == 404
    assert api(dave, "get", "/runs").json()["items"] == []
    assert api(admin, "get", f"/rules/{rid}/dry-run?since=2026-03-01").json()["total"] == 1
    t = api(admin, "post", f"/rules/{rid}/test", {"obj_type": "company", "obj_id": c.pk}).json()
    assert t["fires"] is True


def test_assignment_api_and_authz(api, admin, alice, bob, dave):
    r = api(
        admin,
        "post",
        "/assignment-rules",
        {"name": "DE to Bob", "conditions": DE, "assign_to": "user", "user": bob.pk},
    )
    assert r.status_code == 201
    rid = r.json()["id"]
    api(admin, "post", "/assignment-rules", {"name": "Rest", "assign_to": "user", "user": alice.pk})
    moved = api(admin, "post", f"/assignment-rules/{rid}/move", {"offset": 1}).json()
    assert [m["name"] for m in moved] == ["Rest", "DE to Bob"]
    trace = api(admin, "post", "/assignment-rules/test", {"values": {"country": "de"}}).json()
    assert [t["fires"] for t in trace] == [True, False]
    for user in (alice, dave):
        assert (
            api(user, "patch", f"/assignment-rules/{rid}", {"version": 1, "active": False}).status_code == 404
        )
        assert api(user, "post", f"/assignment-rules/{rid}/move", {"offset": 1}).status_code == 404
        assert api(user, "delete", f"/assignment-rules/{rid}").status_code == 404
        assert api(user, "get", "/assignment-rules").status_code == 403
    assert api(admin, "delete", f"/assignment-rules/{rid}").status_code == 204


def test_approvals_api(api, alice, carol, dave, make_company):
    c = make_company(actor=alice, name="Q")
    a = Approval.objects.create(kind="credit_terms", obj_type="company", obj_id=c.pk, company=c, title="O/A 60",
                                requested_by=alice, team_id=alice.team_id, created_at="2026-03-04T10:00:00Z")  # fmt: skip
    assert api(dave, "get", f"/approvals/{a.pk}").status_code == 404
    assert api(dave, "post", f"/approvals/{a.pk}/decide", {"approve": True}).status_code == 404
    assert api(alice, "get", "/approvals").json()[0]["can_decide"] is False
    assert api(carol, "post", f"/approvals/{a.pk}/decide", {"approve": False}).status_code == 422
    r = api(carol, "post", f"/approvals/{a.pk}/decide", {"approve": False, "reason": "too long"})
    assert r.status_code == 200 and r.json()["status"] == "rejected" and r.json()["reason"] == "too long"
    assert api(dave, "post", "/approvals/pool-claims", {"company_id": c.pk}).status_code == 404


def test_pages_build_a_rule_with_rows(client_for, admin, alice, dave, tag):
    c = client_for(admin)
    assert c.get("/automation/").status_code == 200
    assert c.get("/automation/new/").status_code == 200
    assert 'name="c_field"' in c.get("/automation/rows/condition/").content.decode()
    assert 'name="a_type"' in c.get("/automation/rows/action/").content.decode()
    r = c.post("/automation/new/", {"name": "Tag Germans", "event": "record.created", "entity": "company",
                                    "active": "on", "max_runs_per_hour": "100", "c_join": "all",
                                    "c_field": ["country"], "c_op": ["eq"], "c_value": ["de"],
                                    "a_type": ["add_tag"], "a_target": [str(tag.pk)], "a_text": [""], "a_number": [""],
                                    "a_body": [""]})  # fmt: skip
    assert r.status_code == 302, r.content.decode()[:2000]
    rule = Rule.objects.get()
    assert rule.conditions == {"all": [{"field": "country", "op": "eq", "value": "DE"}]}
    assert rule.actions == [{"type": "add_tag", "tag": tag.pk}]
    bad = c.post("/automation/new/", {"name": "Bad", "event": "record.created", "c_field": ["shoe"], "c_op": ["eq"],
                                      "c_value": ["1"], "a_type": ["notify"], "a_target": ["owner"], "a_text": ["x"],
                                      "a_number": [""], "a_body": [""]})  # fmt: skip
    assert bad.status_code == 200 and "Unknown field" in bad.content.decode()
    for url in (f"/automation/{rule.pk}/", f"/automation/{rule.pk}/dry-run/", "/automation/runs/"):
        assert c.get(url).status_code == 200
    assert c.post(f"/automation/{rule.pk}/toggle/").status_code == 302
    assert not Rule.objects.get().active
    t = c.post(f"/automation/{rule.pk}/test/", {"company": "999999"})
    assert "No customer" in t.content.decode()
    for user in (dave, alice):
        u = client_for(user)
        assert u.get(f"/automation/{rule.pk}/").status_code == 404
        assert u.post(f"/automation/{rule.pk}/toggle/").status_code == 404
        assert u.get(f"/automation/{rule.pk}/dry-run/").status_code == 404
        assert u.post(f"/automation/{rule.pk}/test/", {"company": "1"}).status_code == 404
        assert u.get("/automation/").status_code == 404


def test_assignment_page_and_test_box(client_for, admin, alice, bob, dave):
    c = client_for(admin)
    r = c.post("/automation/assignment/", {"name": "DE to Bob", "entity": "company", "assign_to": "user",
                                           "user": str(bob.pk), "c_field": ["country"], "c_op": ["eq"],
                                           "c_value": ["DE"]})  # fmt: skip
    assert r.status_code == 302
    page = c.get("/automation/assignment/").content.decode()
    assert "DE to Bob" in page
    trace = c.post("/automation/assignment/test/", {"country": "de", "entity": "company"}).content.decode()
    assert "Bob" in trace
    from tradecrm.automation.models import AssignmentRule

    rid = AssignmentRule.objects.get().pk
    for user in (dave, alice):
        u = client_for(user)
        assert u.get("/automation/assignment/").status_code == 404
        assert u.post(f"/automation/assignment/{rid}/move/", {"dir": "up"}).status_code == 404
        assert u.post(f"/automation/assignment/{rid}/toggle/").status_code == 404
        assert u.post(f"/automation/assignment/{rid}/delete/").status_code == 404


def test_approvals_page(client_for, alice, carol, dave, make_company):
    co = make_company(actor=alice, name="Q")
    a = Approval.objects.create(kind="credit_terms", obj_type="company", obj_id=co.pk, company=co, title="O/A 60",
                                requested_by=alice, team_id=alice.team_id, created_at="2026-03-04T10:00:00Z")  # fmt: skip
    assert "O/A 60" in client_for(carol).get("/approvals/").content.decode()
    assert "O/A 60" not in client_for(dave).get("/approvals/").content.decode()
    assert client_for(dave).post(f"/approvals/{a.pk}/decide/", {"decision": "approve"}).status_code == 404
    r = client_for(carol).post(f"/approvals/{a.pk}/decide/", {"decision": "approve", "reason": "fine"})
    assert r.status_code == 302
    a.refresh_from_db()
    assert a.status == "approved" and a.reason == "fine"
