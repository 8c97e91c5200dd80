"""Roles, per-action permissions, visibility scopes, assistants, read-only and offboarding."""

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import Client

from tradecrm.accounts import access
from tradecrm.accounts.models import ApiToken, Role, RolePolicy
from tradecrm.accounts.services import role_policy_update, user_offboard, user_update
from tradecrm.audit.models import AuditEvent
from tradecrm.customers import selectors as cs
from tradecrm.customers.models import Company
from tradecrm.customers.services import company_delete, company_update, contact_create, tag_create

JSON = "application/json"


@pytest.fixture(autouse=True)
def _fresh_policies():
    access.clear_policy_cache()
    yield
    access.clear_policy_cache()


def _user(username, role, team, **extra):
    from tradecrm.accounts.models import User

    u = User(username=username, role=role, team=team, first_name=username.capitalize(), **extra)
    u.set_password("pw-" + username + "-12345")
    u.save()
    return u


@pytest.fixture
def erin(teams, alice):
    """A sales assistant who acts for alice."""
    u = _user("erin", "assistant", teams["east"])
    u.acts_for.add(alice)
    return u


@pytest.fixture
def rita(teams):
    """Read-only, in the Sales department (sees it and its sub-teams by default)."""
    return _user("rita", "read_only", teams["sales"])


@pytest.fixture
def world(make_company, alice, bob, dave):
    return {
        "a": make_company(name="Alpha"),
        "b": make_company(actor=bob, name="Bravo"),
        "d": make_company(actor=dave, name="Delta"),
    }


def _seen(user) -> set[str]:
    fresh = type(user).objects.get(pk=user.pk)
    by_q = set(cs.companies_for_user(fresh).values_list("name", flat=True))
    rows, _n, _p = cs.company_list(type(user).objects.get(pk=user.pk), cs.CompanyFilters(), limit=50)
    assert {r["name"] for r in rows} == by_q  # the paged list (branch by branch) agrees
    return by_q


def api_for(user):
    _tok, raw = ApiToken.issue(user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


# --- policies -------------------------------------------------------------------------------------


def test_seeded_policies_keep_todays_behaviour(db):
    got = {p.role: (p.scope, set(p.actions)) for p in RolePolicy.objects.all()}
    assert got["manager"][0] == "team_subteams" and {"export", "manage_pool", "see_margins"} <= got["manager"][1]
    assert got["sales"] == ("own", {"create", "edit", "delete", "reveal", "merge"})
    assert "reveal" not in got["assistant"][1] and got["read_only"][1] == set()


def test_default_export_costs_and_pool_rights(alice, carol, admin):
    assert not access.can_export(alice) and access.can_export(carol) and access.can_export(admin)
    alice.can_export = True
    assert access.can_export(alice)  # the per-user grant still works
    assert not access.can_see_costs(alice) and access.can_see_costs(carol)
    from tradecrm.pool.services import can_manage

    assert not can_manage(alice) and can_manage(carol)


def test_has_action_costs_no_query_after_the_first(alice, django_assert_num_queries):
    access.has_action(alice, "create")
    with django_assert_num_queries(0):
        for action in ("create", "edit", "export", "reveal", "merge", "see_margins"):
            access.has_action(alice, action)
        access.can_export(alice)
        access.visible_team_ids(alice)


def test_policy_change_is_audited_and_applies(admin, alice):
    role_policy_update(actor=admin, role="sales", data={"actions": ["create", "edit", "export", "manage_pool"]})
    ev = AuditEvent.objects.filter(action="permission_change").latest("id")
    assert ev.actor_id == admin.pk and ev.changes["role"] == "sales"
    assert ev.changes["before"]["actions"] == ["create", "delete", "edit", "merge", "reveal"]
    assert ev.changes["after"] == {"scope": "own", "actions": ["create", "edit", "export", "manage_pool"]}
    fresh = type(alice).objects.get(pk=alice.pk)
    assert access.can_export(fresh) and not access.can_reveal(fresh)
    from tradecrm.pool.services import can_manage

    assert can_manage(fresh)


def test_policy_change_refusals(admin, carol):
    with pytest.raises(PermissionDenied):
        role_policy_update(actor=carol, role="sales", data={"scope": "all"})
    with pytest.raises(ValidationError) as e:
        role_policy_update(actor=admin, role="admin", data={"scope": "own"})
    assert "role" in e.value.message_dict
    with pytest.raises(ValidationError) as e:
        role_policy_update(actor=admin, role="sales", data={"scope": "galaxy", "actions": ["fly"]})
    assert set(e.value.message_dict) == {"scope", "actions"} and "fly" in e.value.message_dict["actions"][0]
    with pytest.raises(ValidationError) as e:
        role_policy_update(actor=admin, role="read_only", data={"actions": ["edit"]})
    assert "read-only" in e.value.message_dict["actions"][0]
    assert not AuditEvent.objects.filter(action="permission_change").exists()


def test_roles_page_and_api(admin, alice, client_for):
    c = client_for(admin)
    assert c.get("/settings/roles/").status_code == 200
    r = c.post("/settings/roles/", {"role": "sales", "scope": "team", "actions": ["create", "edit"]})
    assert r.status_code == 302
    assert RolePolicy.objects.get(role="sales").scope == "team"
    r = c.post("/settings/roles/", {"role": "sales", "scope": "nowhere", "actions": []})
    assert r.status_code == 422 and "Unknown visibility" in r.content.decode()
    assert client_for(alice).get("/settings/roles/").status_code == 403

    rows = api_for(alice).get("/api/v1/roles").json()
    assert {r["role"] for r in rows} == set(Role.values)
    r = api_for(alice).put("/api/v1/roles/sales", {"scope": "all"}, content_type=JSON)
    assert r.status_code == 403
    r = api_for(admin).put("/api/v1/roles/sales", {"scope": "all", "actions": ["create"]}, content_type=JSON)
    assert r.status_code == 200 and r.json()["scope"] == "all" and r.json()["actions"] == ["create"]
    r = api_for(admin).put("/api/v1/roles/sales", {"scope": "own", "version": 1}, content_type=JSON)
    assert r.status_code == 409  # stale version
    assert api_for(admin).put("/api/v1/roles/nobody", {}, content_type=JSON).status_code == 404


def test_user_role_change_is_audited(admin, alice, bob, teams, client_for):
    user_update(actor=admin, user=bob, data={"role": "assistant", "acts_for": [alice.pk]})
    ev = AuditEvent.objects.filter(action="permission_change", object_id=bob.pk).latest("id")
    assert ev.changes["role"] == ["sales", "assistant"] and ev.changes["acts_for"] == [[], [alice.pk]]
    with pytest.raises(ValidationError) as e:
        user_update(actor=admin, user=alice, data={"role": "sales", "acts_for": [bob.pk]})
    assert "acts_for" in e.value.message_dict
    with pytest.raises(ValidationError):
        user_update(actor=admin, user=admin, data={"role": "sales"})  # the last administrator
    with pytest.raises(PermissionDenied):
        user_update(actor=alice, user=bob, data={"role": "admin"})
    c = client_for(admin)
    assert c.get(f"/settings/users/{alice.pk}/").status_code == 200
    r = c.post(f"/settings/users/{alice.pk}/", {"role": "read_only", "team": str(teams["east"].pk), "is_active": "on"})
    assert r.status_code == 302 and type(alice).objects.get(pk=alice.pk).role == "read_only"


# --- visibility -----------------------------------------------------------------------------------


def test_visibility_per_role_and_scope(world, alice, bob, carol, dave, admin, rita):
    assert _seen(alice) == {"Alpha"}
    assert _seen(carol) == {"Alpha", "Bravo"}
    assert _seen(dave) == {"Delta"}
    assert _seen(admin) == {"Alpha", "Bravo", "Delta"}
    assert _seen(rita) == {"Alpha", "Bravo"}  # read-only: its department by default
    role_policy_update(actor=admin, role="sales", data={"scope": "team"})
    assert _seen(alice) == {"Alpha", "Bravo"} and _seen(dave) == {"Delta"}
    role_policy_update(actor=admin, role="sales", data={"scope": "all"})
    assert _seen(alice) == {"Alpha", "Bravo", "Delta"}
    role_policy_update(actor=admin, role="manager", data={"scope": "own"})
    assert _seen(carol) == set()


def test_assistant_sees_and_works_on_the_reps_customers_only(world, erin, alice):
    assert _seen(erin) == {"Alpha"}
    a = cs.company_get_for_user(erin, world["a"].pk)
    company_update(actor=erin, company=a, version=a.version, data={"city": "Hamburg"})
    assert Company.objects.get(pk=a.pk).city == "Hamburg"
    from django.http import Http404

    with pytest.raises(Http404):
        cs.company_get_for_user(erin, world["b"].pk)
    with pytest.raises(PermissionDenied):  # the default assistant policy has no "delete"
        company_delete(actor=erin, company=a)


def test_read_only_is_refused_by_every_service(world, rita, make_company):
    from tradecrm.followups.services import followup_create

    a = Company.objects.get(pk=world["a"].pk)
    calls = [
        lambda: make_company(actor=rita, name="New"),
        lambda: company_update(actor=rita, company=a, version=a.version, data={"city": "X"}),
        lambda: company_delete(actor=rita, company=a),
        lambda: contact_create(actor=rita, company=a, data={"first_name": "Zed"}),
        lambda: tag_create(actor=rita, data={"name": "Mine"}),
        lambda: followup_create(actor=rita, company=a, data={"title": "Call", "due_at": "2030-01-01T09:00"}),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied) as e:
            call()
        assert "read-only" in str(e.value) or "may not" in str(e.value)
    assert Company.objects.get(pk=a.pk).city == a.city and not Company.objects.filter(name="New").exists()


def test_read_only_gets_403_in_pages_and_api_and_sees_no_edit_buttons(world, rita, client_for):
    c = client_for(rita)
    page = c.get(f"/customers/{world['a'].pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"/customers/{world['a'].pk}/edit/" not in html and "Add contact" not in html
    assert c.get("/customers/new/").status_code == 403
    assert c.post("/customers/new/", {"name": "X", "country": "US"}).status_code == 403
    assert c.post(f"/customers/{world['a'].pk}/delete/").status_code == 403
    r = api_for(rita).post("/api/v1/companies", {"name": "X", "country": "US"}, content_type=JSON)
    assert r.status_code == 403 and "read-only" in r.json()["detail"]
    r = api_for(rita).post("/api/v1/interactions", {}, content_type=JSON)  # any other write, too
    assert r.status_code == 403
    assert api_for(rita).get(f"/api/v1/companies/{world['a'].pk}").status_code == 200
    assert c.post("/language/", {"language": "en"}).status_code == 302  # own settings stay open


def test_merge_follows_the_policy(rita, alice, admin):
    from tradecrm.dedup.merge import may_merge

    assert "read-only" in may_merge(rita, [(alice.pk, alice.team_id, "Alpha")])
    assert may_merge(alice, [(alice.pk, alice.team_id, "Alpha")]) == ""
    role_policy_update(actor=admin, role="sales", data={"actions": ["create", "edit"]})
    assert may_merge(type(alice).objects.get(pk=alice.pk), [(alice.pk, alice.team_id, "Alpha")])


# --- offboarding ----------------------------------------------------------------------------------


@pytest.fixture
def holdings(world, alice, bob):
    import datetime as dt

    from django.utils import timezone

    from tradecrm.followups.models import FollowUp
    from tradecrm.sales.models import Opportunity, Pipeline

    a = world["a"]
    a2 = Company.objects.create(name="Alpha Two", owner=alice, team_id=alice.team_id)
    due = timezone.now() + dt.timedelta(days=2)
    f_open = FollowUp.objects.create(company=a, assignee=alice, title="Call", due_at=due)
    f_done = FollowUp.objects.create(company=a, assignee=alice, title="Old", due_at=due, status="done")
    pipeline = Pipeline.objects.get(is_default=True)
    stage = pipeline.stages.filter(kind="open").first()
    opp = Opportunity.objects.create(name="Deal", company=a, pipeline=pipeline, stage=stage, currency="USD",
                                     owner=alice, stage_entered_at=timezone.now())
    return {"companies": [a, a2], "f_open": f_open, "f_done": f_done, "opp": opp}


def test_offboarding_moves_everything_and_is_audited(holdings, alice, bob, carol):
    from tradecrm.followups.models import FollowUp, Notification
    from tradecrm.sales.models import Opportunity

    counts = user_offboard(actor=carol, user=alice, to_user=bob, deactivate=True, chunk=1)
    assert counts["customers"] == 2 and counts["followups"] == 1 and counts["opportunities"] == 1
    assert set(Company.objects.filter(owner=bob).values_list("name", flat=True)) >= {"Alpha", "Alpha Two"}
    assert FollowUp.objects.get(pk=holdings["f_open"].pk).assignee_id == bob.pk
    assert FollowUp.objects.get(pk=holdings["f_done"].pk).assignee_id == alice.pk  # closed ones stay
    assert Opportunity.objects.get(pk=holdings["opp"].pk).owner_id == bob.pk
    assert not type(alice).objects.get(pk=alice.pk).is_active
    assert AuditEvent.objects.filter(action="company.transfer", actor=carol).count() == 2
    assert AuditEvent.objects.filter(action="followup.reassign").count() == 1
    assert AuditEvent.objects.filter(action="opportunity.reassign").count() == 1
    summary = AuditEvent.objects.get(action="user.offboard")
    assert summary.object_id == alice.pk and summary.changes["customers"] == 2
    note = Notification.objects.get(user=bob, kind="offboard_received")
    from tradecrm.followups.notifications import render

    assert "2 customers" in render(note)


def test_offboarding_to_a_pool(holdings, alice, admin):
    from tradecrm.pool.models import Pool, PoolEntry

    pool = Pool.objects.create(name="Everyone")
    counts = user_offboard(actor=admin, user=alice, pool=pool)
    assert counts["customers"] == 2 and counts["followups_left"] == 0  # the pool cancelled them
    assert PoolEntry.objects.filter(pool=pool).count() == 2
    assert not Company.objects.filter(owner=alice).exists()
    assert AuditEvent.objects.filter(action="pool.recall").count() == 2


def test_offboarding_refusals(holdings, alice, bob, dave, carol, rita):
    with pytest.raises(PermissionDenied):
        user_offboard(actor=bob, user=alice, to_user=bob)  # a rep is not their colleague's manager
    with pytest.raises(ValidationError) as e:
        user_offboard(actor=carol, user=alice)
    assert "to" in e.value.message_dict
    with pytest.raises(ValidationError) as e:
        user_offboard(actor=carol, user=alice, to_user=dave)  # West is not carol's
    assert "not in a team you manage" in e.value.message_dict["to"][0]
    with pytest.raises(ValidationError):
        user_offboard(actor=carol, user=alice, to_user=rita)  # read-only cannot hold customers
    assert Company.objects.filter(owner=alice).count() == 2


def test_offboarding_endpoints_page_api_cli_and_dave_404(holdings, alice, bob, carol, dave, admin, client_for):
    # dave (other team) and bob (a rep) cannot even see alice's account
    assert client_for(dave).get(f"/settings/users/{alice.pk}/offboard/").status_code == 404
    assert client_for(dave).get(f"/settings/users/{alice.pk}/").status_code == 404
    r = api_for(dave).post(f"/api/v1/users/{alice.pk}/offboard", {"to": dave.pk}, content_type=JSON)
    assert r.status_code == 404
    assert api_for(bob).post(f"/api/v1/users/{alice.pk}/offboard", {"to": bob.pk}, content_type=JSON).status_code == 404
    assert Company.objects.filter(owner=alice).count() == 2

    c = client_for(carol)
    page = c.get(f"/settings/users/{alice.pk}/offboard/")
    assert page.status_code == 200 and "2 customers" in page.content.decode()
    r = c.post(f"/settings/users/{alice.pk}/offboard/", {"to": "", "pool": ""})
    assert r.status_code == 422
    r = c.post(f"/settings/users/{alice.pk}/offboard/", {"to": str(bob.pk)})
    assert r.status_code == 200 and 'data-testid="offboard-summary"' in r.content.decode()
    assert Company.objects.filter(owner=bob).count() == 3  # Bravo was bob's already

    r = api_for(admin).post(f"/api/v1/users/{bob.pk}/offboard", {"to": alice.pk}, content_type=JSON)
    assert r.status_code == 200 and json.loads(r.content)["customers"] == 3
    r = api_for(admin).post(f"/api/v1/users/{bob.pk}/offboard", {"to": 999999}, content_type=JSON)
    assert r.status_code == 422

    call_command("offboard", "alice", "--to", "bob", "--deactivate")
    assert Company.objects.filter(owner=bob).count() == 3 and not type(alice).objects.get(pk=alice.pk).is_active
