"""The visibility rule. Every list and every load by id goes through here.

admin    sees everything
manager  sees the customers of their team and its sub-teams, plus their own and followed ones
sales    sees the customers they own and the ones they follow
Missing and not-visible both end as 404 (Http404) so ids cannot be probed.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import Role, Team, User


def visible_team_ids(user: User) -> list[int] | None:
    """Team ids whose customers the user sees as a manager; None means all (admin)."""
    if user.is_admin:
        return None
    # Remembered on the user object: one request asks several times (list, filters, tags).
    cached = getattr(user, "_visible_team_ids", None)
    if cached is not None:
        return cached
    ids: list[int] = []
    if user.role == Role.MANAGER and user.team_id:
        team = Team.objects.only("path").get(pk=user.team_id)
        ids = team.subtree_ids()
    user._visible_team_ids = ids
    return ids


def company_visibility_q(user: User, prefix: str = "") -> Q | None:
    """A Q selecting the companies the user may see (None: no restriction).
    `prefix` lets related models reuse the rule ("company__")."""
    from tradecrm.customers.models import CompanyFollower

    if user.is_admin:
        return None
    followed = CompanyFollower.objects.filter(user_id=user.id).values("company_id")
    q = Q(**{f"{prefix}owner_id": user.id}) | Q(**{f"{prefix}id__in": followed})
    team_ids = visible_team_ids(user)
    if team_ids:
        q |= Q(**{f"{prefix}team_id__in": team_ids})
    return q


def company_visibility_branches(user: User) -> list[Q] | None:
    """The visibility rule as separate conditions whose union is what the user sees (None: all).
    Each one is served by its own index in sort order: (owner_id, …), the follower table,
    (team_id, …) per team."""
    if user.is_admin:
        return None
    # a join, not "id IN (followed)": both databases then start from the follower index
    branches = [Q(owner_id=user.id), Q(companyfollower__user_id=user.id)]
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
    """Purchase costs, tax rebates and margins: administrators and managers only."""
    return bool(user.is_admin or user.role == Role.MANAGER)


def can_export(user: User) -> bool:
    """Exporting a list takes the data out of the system: managers and admins may, a sales user
    only when an admin allowed it."""
    return bool(user.is_authenticated and (user.role in (Role.ADMIN, Role.MANAGER) or user.can_export))
