"""Departments and teams: a team with no parent is a department (or a stand-alone team); teams nest
under it. "Own team and its sub-teams" visibility follows `Team.path` ("/1/4/"), so moving a team
rewrites the path of the team and of everything under it in the same transaction.

Administrators change the structure (page "Teams", API /api/v1/teams); everyone signed in may read it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.http import Http404
from django.utils.translation import gettext as _

from tradecrm.audit.services import audit_record
from tradecrm.core.errors import Errors
from tradecrm.core.ids import parse_id

from .models import Team

NAME_MAX = 120


def _check_admin(actor) -> None:
    if actor is not None and not getattr(actor, "is_admin", False):
        raise PermissionDenied(_("Only administrators may change departments and teams."))


def _parent(errors: Errors, raw) -> Team | None:
    if raw in (None, ""):
        return None
    pk = parse_id(raw)
    parent = Team.objects.filter(pk=pk).first() if pk is not None else None
    if parent is None:
        errors.add("parent", _("There is no team with id %(id)s.") % {"id": raw})
    return parent


def _name(errors: Errors, raw, *, exclude: int | None = None) -> str:
    name = " ".join(str(raw or "").split())
    if not name:
        errors.add("name", _("Enter the team's name."))
    elif len(name) > NAME_MAX:
        errors.add("name", _("A team's name has at most %(n)d characters.") % {"n": NAME_MAX})
    elif Team.objects.filter(name__iexact=name).exclude(pk=exclude).exists():
        errors.add("name", _("A team named “%(name)s” exists already.") % {"name": name})
    return name


@transaction.atomic
def team_create(*, actor, data: dict) -> Team:
    """A department (no `parent`) or a team inside one (`parent`: a team id)."""
    _check_admin(actor)
    errors = Errors()
    name = _name(errors, data.get("name"))
    parent = _parent(errors, data.get("parent"))
    errors.raise_if_any()
    team = Team.objects.create(name=name, parent=parent)
    audit_record(
        actor=actor, action="team.create", obj=team, changes={"name": name, "parent": parent and parent.pk}
    )
    return team


@transaction.atomic
def team_update(*, actor, team: Team, data: dict) -> Team:
    """Rename a team and/or move it (`parent`: a team id, or empty for a department of its own).
    A team cannot move under itself or under one of its own sub-teams."""
    _check_admin(actor)
    team = Team.objects.select_for_update().get(pk=team.pk)
    errors = Errors()
    changes: dict = {}
    if "name" in data:
        name = _name(errors, data.get("name"), exclude=team.pk)
        if name and name != team.name:
            changes["name"] = [team.name, name]
    if "parent" in data:
        parent = _parent(errors, data.get("parent"))
        if parent is not None and parent.path.startswith(team.path):
            errors.add("parent", _("“%(team)s” cannot be placed inside itself or one of its own sub-teams.")
                       % {"team": team.name})  # fmt: skip
        elif (parent.pk if parent else None) != team.parent_id:
            changes["parent"] = [team.parent_id, parent.pk if parent else None]
    errors.raise_if_any()
    if not changes:
        return team
    if "name" in changes:
        team.name = changes["name"][1]
    old_path = team.path
    if "parent" in changes:
        team.parent_id = changes["parent"][1]
    team.save()  # recomputes the team's own path
    team.refresh_from_db(fields=["path"])
    if team.path != old_path:
        # everything under it: the same suffix under the new prefix (a few rows; teams are few)
        for sub in Team.objects.filter(path__startswith=old_path).exclude(pk=team.pk).only("id", "path"):
            Team.objects.filter(pk=sub.pk).update(path=team.path + sub.path[len(old_path) :])
    audit_record(actor=actor, action="team.update", obj=team, changes=changes)
    return team


# --- reads --------------------------------------------------------------------------------------


def visible_team_ids_for_tree(user) -> set[int] | None:
    """Teams a user may see in the tree (None: all, for administrators): their own team with the
    departments above it, and the teams their role's visibility covers. Others' teams are a 404."""
    from .access import visible_team_ids

    if user is None or getattr(user, "is_admin", False):
        return None
    ids = set(visible_team_ids(user) or [])
    if user.team_id:
        path = Team.objects.filter(pk=user.team_id).values_list("path", flat=True).first() or ""
        ids |= {int(p) for p in path.strip("/").split("/") if p}
    return ids


def team_get_for_user(user, team_id) -> Team:
    pk = parse_id(team_id)
    allowed = visible_team_ids_for_tree(user)
    team = (
        Team.objects.filter(pk=pk).first() if pk is not None and (allowed is None or pk in allowed) else None
    )
    if team is None:
        raise Http404
    return team


def team_tree(user=None) -> list[dict]:
    """The teams `user` may see (all without a user) in tree order (departments first, each
    followed by its sub-teams, by name), with depth, parent and member count."""
    allowed = visible_team_ids_for_tree(user)
    qs = Team.objects.all() if allowed is None else Team.objects.filter(pk__in=allowed)
    rows = list(
        qs.annotate(members_count=Count("members")).values("id", "name", "parent_id", "path", "members_count")
    )
    by_id = {r["id"]: r for r in rows}

    def sort_key(r):  # names from the root down: siblings by name, children under their parent
        ids = [int(p) for p in r["path"].strip("/").split("/") if p]
        return [by_id[i]["name"].lower() if i in by_id else "" for i in ids]

    rows.sort(key=sort_key)
    for r in rows:
        r["depth"] = max(0, r["path"].strip("/").count("/"))
        r["indent"] = "— " * r["depth"]
        r["parent_name"] = by_id[r["parent_id"]]["name"] if r["parent_id"] in by_id else ""
    return rows
