"""Departments and teams: administrators create a department and nest teams in it (page and API),
move a team (its sub-teams move with it) but never under itself; "own team and its sub-teams"
visibility follows the tree at once; others' teams are a 404."""

import json

import pytest
from django.test import Client

from tradecrm.accounts import access
from tradecrm.accounts.models import ApiToken, Team
from tradecrm.accounts.teams import team_create, team_update
from tradecrm.audit.models import AuditEvent
from tradecrm.customers import selectors as cs

pytestmark = pytest.mark.django_db
JSON = "application/json"


def api_for(user):
    _tok, raw = ApiToken.issue(user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def _visible_names(user) -> set[str]:
    access.forget(user)
    return set(cs.companies_for_user(user).values_list("name", flat=True))


def test_admin_creates_a_department_and_nests_teams_on_the_page(admin, client_for):
    c = client_for(admin)
    assert c.post("/settings/teams/", {"name": "Europe", "parent": ""}).status_code == 302
    europe = Team.objects.get(name="Europe")
    assert c.post("/settings/teams/", {"name": "DACH", "parent": europe.pk}).status_code == 302
    dach = Team.objects.get(name="DACH")
    assert dach.parent_id == europe.pk and dach.path == f"{europe.path}{dach.pk}/"
    html = c.get("/settings/teams/").content.decode()
    assert f'data-testid="team-{dach.pk}"' in html and "— </span>DACH" in html and "department" in html
    # a bad input names the field and saves nothing
    r = c.post("/settings/teams/", {"name": "dach", "parent": ""})
    assert r.status_code == 422 and "exists already" in r.content.decode()
    assert Team.objects.filter(name__iexact="dach").count() == 1
    assert AuditEvent.objects.filter(action="team.create").count() == 2


def test_moving_a_team_moves_its_sub_teams_and_visibility_follows(admin, teams, carol, dave, make_company):
    make_company(actor=dave, name="Delta West")
    lagos = team_create(actor=admin, data={"name": "Lagos desk", "parent": teams["west"].pk})
    assert "Delta West" not in _visible_names(carol)  # carol manages Sales (East is inside)
    team_update(actor=admin, team=teams["west"], data={"parent": teams["sales"].pk})
    lagos.refresh_from_db()
    assert lagos.path == f"{teams['sales'].path}{teams['west'].pk}/{lagos.pk}/"
    assert "Delta West" in _visible_names(carol)  # West is now a sub-team of Sales
    assert AuditEvent.objects.filter(action="team.update", object_id=teams["west"].pk).exists()
    # back out: a department of its own again
    team_update(actor=admin, team=teams["west"], data={"parent": None})
    assert "Delta West" not in _visible_names(carol)


def test_a_team_never_moves_under_itself(admin, teams, client_for):
    r = client_for(admin).post(
        f"/settings/teams/{teams['sales'].pk}/", {"name": "Sales", "parent": teams["east"].pk}
    )
    assert r.status_code == 422 and "inside itself" in r.content.decode()
    teams["sales"].refresh_from_db()
    assert teams["sales"].parent_id is None


def test_only_administrators_change_teams(alice, carol, teams, client_for):
    assert client_for(alice).get("/settings/teams/").status_code == 403
    assert client_for(carol).get("/settings/teams/").status_code == 200  # managers look
    assert client_for(carol).post("/settings/teams/", {"name": "Rogue"}).status_code == 403
    assert (
        api_for(carol).post("/api/v1/teams", json.dumps({"name": "Rogue"}), content_type=JSON).status_code
        == 403
    )
    assert not Team.objects.filter(name="Rogue").exists()


def test_api_lists_creates_and_moves_and_dave_gets_404(admin, dave, teams):
    api = api_for(admin)
    r = api.post("/api/v1/teams", json.dumps({"name": "Americas"}), content_type=JSON)
    assert r.status_code == 201 and r.json()["parent_id"] is None
    americas = r.json()["id"]
    r = api.patch(f"/api/v1/teams/{teams['west'].pk}", json.dumps({"parent": americas}), content_type=JSON)
    assert r.status_code == 200 and r.json()["parent_name"] == "Americas" and r.json()["depth"] == 1
    r = api.patch(f"/api/v1/teams/{americas}", json.dumps({"parent": teams["west"].pk}), content_type=JSON)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "parent"
    names = [t["name"] for t in api.get("/api/v1/teams").json()]
    assert names.index("Americas") < names.index("West")
    # dave (West) sees his own team and the department above it, not the Sales tree
    d = api_for(dave)
    assert {t["name"] for t in d.get("/api/v1/teams").json()} == {"Americas", "West"}
    assert d.get(f"/api/v1/teams/{teams['east'].pk}").status_code == 404
    assert d.get(f"/api/v1/teams/{teams['west'].pk}").status_code == 200
