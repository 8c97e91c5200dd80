"""JSON API of departments and teams (mounted at /api/v1/teams through accounts.api.ROUTERS).

GET  /teams          every team in tree order, with `parent_id`, `depth` and member count
GET  /teams/{id}     one team
POST /teams          {"name", "parent"}: a department (no parent) or a team inside one (administrators)
PATCH /teams/{id}    {"name"?, "parent"?}: rename and/or move (administrators; never under itself)
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema

from tradecrm.core.api import LIST, READ, WRITE, Id, json_response

from . import teams as team_services

teams = Router(tags=["teams"])


class TeamOut(Schema):
    id: int
    name: str
    parent_id: int | None = Field(None, description="None: a department (a team at the top)")
    parent_name: str
    depth: int
    members_count: int


class TeamIn(Schema):
    name: str = Field(max_length=120)
    parent: Id | None = Field(None, description="The team it belongs to; none for a department.")


class TeamPatch(Schema):
    name: str | None = Field(None, max_length=120)
    parent: Id | None = Field(None, description="The new parent; send null to make it a department.")


_KEYS = ("id", "name", "parent_id", "parent_name", "depth", "members_count")


def _out(team_id: int) -> dict:
    row = next(r for r in team_services.team_tree() if r["id"] == team_id)  # the caller checked access
    return {k: row[k] for k in _KEYS}


@teams.get("", response={200: list[TeamOut], **LIST}, summary="List departments and teams")
def list_teams(request: HttpRequest):
    """The teams you may see: all for administrators; else your own with the departments above it
    and the teams your role's visibility covers."""
    return json_response([{k: r[k] for k in _KEYS} for r in team_services.team_tree(request.auth)])


@teams.get("/{int:team_id}", response={200: TeamOut, **READ}, summary="Get a team")
def get_team(request: HttpRequest, team_id: Id):
    return json_response(_out(team_services.team_get_for_user(request.auth, team_id).pk))


@teams.post("", response={201: TeamOut, **WRITE}, summary="Create a department or a team")
def create_team(request: HttpRequest, payload: TeamIn):
    team = team_services.team_create(actor=request.auth, data=payload.model_dump())
    response = json_response(_out(team.pk), status=201)
    response["Location"] = f"/api/v1/teams/{team.pk}"
    return response


@teams.patch("/{int:team_id}", response={200: TeamOut, **WRITE}, summary="Rename or move a team")
def patch_team(request: HttpRequest, team_id: Id, payload: TeamPatch):
    team = team_services.team_get_for_user(request.auth, team_id)
    team_services.team_update(actor=request.auth, team=team, data=payload.model_dump(exclude_unset=True))
    return json_response(_out(team.pk))
