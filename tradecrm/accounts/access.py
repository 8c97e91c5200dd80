"""The visibility rule and the per-action permissions. Every list and every load by id goes
through here.

Each role has a policy (`RolePolicy`, edited by administrators on "Roles & permissions"): a
visibility scope and a set of allowed actions. Defaults keep the original behaviour:

admin      sees everything and may do everything (not editable)
manager    sees the customers of their team and its sub-teams, plus their own and followed ones
sales      sees the customers they own and the ones they follow
assistant  sees (and works on) the customers of the reps they act for (`User.acts_for`), plus
           their own and followed ones
read_only  sees per its scope and changes nothing (services refuse, see `require_writer`)

Whatever the scope, a user always sees the customers they own and follow. Missing and not-visible
both end as 404 (Http404) so ids cannot be probed.

Policies are read once per process and kept for `POLICY_TTL` seconds (the process that changes
them drops its copy at once; other worker processes follow within the TTL), and remembered on the
user object, so checks cost no query on the hot paths.
"""

from __future__ import annotations

import os
import time

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from .models import DEFAULT_POLICIES, WRITE_ACTIONS, Action, Role, Scope, Team, User

# Seconds a worker process keeps the policies it read. Tests keep them (a test that changes one
# clears the copy): an expiry in the middle of a test would add a query to the counted ones.
POLICY_TTL = float("inf") if os.environ.get("TRADECRM_TESTING") else 10.0
_ALL_ACTIONS = frozenset(Action.values)
_cache: dict = {"at": float("-inf"), "policies": None}


def role_policies() -> dict[str, tuple[str, frozenset[str]]]:
    """{role: (scope, allowed actions)} for every role: the stored policies over the defaults."""
    now = time.monotonic()
    if _cache["policies"] is not None and now - _cache["at"] < POLICY_TTL:
        return _cache["policies"]
    from .models import RolePolicy

    policies = dict(DEFAULT_POLICIES)
    for role, scope, actions in RolePolicy.objects.values_list("role", "scope", "actions"):
        if role in policies and role != Role.ADMIN:
            policies[role] = (scope, frozenset(actions or ()) & _ALL_ACTIONS)
    _cache.update(at=now, policies=policies)
    return policies


def clear_policy_cache() -> None:
    _cache.update(at=float("-inf"), policies=None)


def _remember(user, name: str, value):
    try:
        setattr(user, name, value)
    except AttributeError:  # a frozen stand-in user
        pass
    return value


def forget(user) -> None:
    """Drop what was remembered on the user object (after a role or team change)."""
    for name in ("_role_policy", "_visible_team_ids", "_acts_for_ids"):
        user.__dict__.pop(name, None)


def user_policy(user) -> tuple[str, frozenset[str]]:
    """(scope, allowed actions) of the user's role."""
    cached = getattr(user, "_role_policy", None)
    if cached is not None:
        return cached
    if getattr(user, "is_admin", False):
        policy = (Scope.ALL, _ALL_ACTIONS)
    elif not getattr(user, "is_authenticated", False):
        policy = (Scope.OWN, frozenset())
    else:
        scope, actions = role_policies().get(getattr(user, "role", ""), (Scope.OWN, frozenset()))
        if getattr(user, "role", "") == Role.READ_ONLY:
            actions = actions - WRITE_ACTIONS
        policy = (scope, actions)
    return _remember(user, "_role_policy", policy)


def visibility_scope(user) -> str:
    return user_policy(user)[0]


def has_action(user, action: str) -> bool:
    """Whether the user's role allows `action` (one of `Action`). No query after the first call."""
    if user is None:
        return False
    return action in user_policy(user)[1]


_REFUSALS = {
    Action.CREATE: lambda: _("Your role may not create customers."),
    Action.EDIT: lambda: _("Your role may not change customers."),
    Action.DELETE: lambda: _("Your role may not delete customers."),
    Action.EXPORT: lambda: _("You may not export lists. An administrator can give you the export permission."),
    Action.REVEAL: lambda: _("Your role may not see full phone numbers and email addresses."),
    Action.MERGE: lambda: _("Your role may not merge duplicates."),
    Action.MANAGE_POOL: lambda: _("Your role may not manage the public pool."),
    Action.SEE_MARGINS: lambda: _("Your role may not see costs and margins."),
}


def read_only_message() -> str:
    return _("Your role is read-only: you may look, but not change anything.")


def require_writer(actor) -> None:
    """Refuse any change by a read-only user (PermissionDenied: a 403 page or API answer).
    `None` is the system (CLI, jobs) and may write."""
    if actor is not None and getattr(actor, "role", "") == Role.READ_ONLY and not getattr(actor, "is_admin", False):
        raise PermissionDenied(read_only_message())


def require_action(actor, action: str) -> None:
    """Refuse with PermissionDenied unless the actor's role allows `action` (`None`: the system)."""
    if actor is None:
        return
    if action in WRITE_ACTIONS:
        require_writer(actor)
    if not has_action(actor, action):
        raise PermissionDenied(_REFUSALS[action]())


def acts_for_ids(user) -> list[int]:
    """The reps an assistant acts for (empty for every other role)."""
    if getattr(user, "role", "") != Role.ASSISTANT or not getattr(user, "pk", None):
        return []
    cached = getattr(user, "_acts_for_ids", None)
    if cached is not None:
        return cached
    ids = list(User.acts_for.through.objects.filter(from_user_id=user.pk).values_list("to_user_id", flat=True))
    return _remember(user, "_acts_for_ids", sorted(ids))


def owner_ids(user) -> list[int]:
    """Whose customers the user works on as if they were theirs: themselves and, for an assistant,
    the reps they act for."""
    return [user.id, *acts_for_ids(user)]


def visible_team_ids(user: User) -> list[int] | None:
    """Team ids whose customers the user sees beyond their own; None means all (admin)."""
    if user.is_admin:
        return None
    # Remembered on the user object: one request asks several times (list, filters, tags).
    cached = getattr(user, "_visible_team_ids", None)
    if cached is not None:
        return cached
    scope = visibility_scope(user)
    ids: list[int] = []
    if scope == Scope.ALL:
        ids = list(Team.objects.values_list("id", flat=True))
    elif scope == Scope.TEAM_SUBTEAMS and user.team_id:
        team = Team.objects.only("path").get(pk=user.team_id)
        ids = team.subtree_ids()
    elif scope == Scope.TEAM and user.team_id:
        ids = [user.team_id]
    return _remember(user, "_visible_team_ids", ids)


def sees_all(user) -> bool:
    return bool(user.is_admin or visibility_scope(user) == Scope.ALL)


def company_visibility_q(user: User, prefix: str = "") -> Q | None:
    """A Q selecting the companies the user may see (None: no restriction).
    `prefix` lets related models reuse the rule ("company__")."""
    from tradecrm.customers.models import CompanyFollower

    if sees_all(user):
        return None
    owners = owner_ids(user)
    if len(owners) == 1:
        followed = CompanyFollower.objects.filter(user_id=user.id).values("company_id")
        q = Q(**{f"{prefix}owner_id": user.id}) | Q(**{f"{prefix}id__in": followed})
    else:
        followed = CompanyFollower.objects.filter(user_id__in=owners).values("company_id")
        q = Q(**{f"{prefix}owner_id__in": owners}) | Q(**{f"{prefix}id__in": followed})
    team_ids = visible_team_ids(user)
    if team_ids:
        q |= Q(**{f"{prefix}team_id__in": team_ids})
    return q


def company_visibility_branches(user: User) -> list[Q] | None:
    """The visibility rule as separate conditions whose union is what the user sees (None: all).
    Each one is served by its own index in sort order: (owner_id, …), the follower table,
    (team_id, …) per team."""
    if sees_all(user):
        return None
    # a join, not "id IN (followed)": both databases then start from the follower index
    branches = []
    for uid in owner_ids(user):
        branches += [Q(owner_id=uid), Q(companyfollower__user_id=uid)]
    branches += [Q(team_id=t) for t in visible_team_ids(user) or []]
    return branches


def scope_companies(qs: QuerySet, user: User, prefix: str = "") -> QuerySet:
    q = company_visibility_q(user, prefix)
    return qs if q is None else qs.filter(q)


def tag_visibility_q(user: User) -> Q | None:
    """Tags are shared by a team (or by everyone when they have no team)."""
    if user.is_admin:
        return None
    team_ids = visible_team_ids(user) or []
    if user.team_id:
        team_ids = [*team_ids, user.team_id]
    return Q(team__isnull=True) | Q(team_id__in=team_ids)


def can_see_costs(user: User) -> bool:
    """Purchase costs, tax rebates and margins: the roles with "see margins" (by default
    administrators and managers)."""
    return has_action(user, Action.SEE_MARGINS)


def can_export(user: User) -> bool:
    """Exporting a list takes the data out of the system: the roles with "export" (by default
    managers and admins), and any user an administrator allowed (`User.can_export`)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(has_action(user, Action.EXPORT) or getattr(user, "can_export", False))


def can_reveal(user) -> bool:
    """Whether the user sees full phones and emails (else they are masked)."""
    return has_action(user, Action.REVEAL)
