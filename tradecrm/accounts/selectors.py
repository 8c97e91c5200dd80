"""Reads of users and role policies, scoped to who asks."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from tradecrm.core.ids import parse_id

from .access import role_policies, visible_team_ids
from .models import Action, Role, RolePolicy, Scope, User


def users_for_user(user):
    """The accounts a user administers: all for administrators, the members of the teams a
    manager sees (themselves excluded) for managers, none for anyone else."""
    if user.is_admin:
        return User.objects.all()
    if not user.is_manager:
        return User.objects.none()
    return User.objects.filter(team_id__in=visible_team_ids(user) or []).exclude(pk=user.pk)


def user_get_for_user(user, user_id) -> User:
    pk = parse_id(user_id)
    if pk is None:
        raise Http404
    try:
        return users_for_user(user).select_related("team").get(pk=pk)
    except User.DoesNotExist:
        raise Http404 from None


def handover_targets(user, leaving: User):
    """Who may take over from `leaving`: active, not read-only, not the leaver; a manager hands
    over within the teams they manage (or to themselves)."""
    qs = User.objects.filter(is_active=True).exclude(pk=leaving.pk).exclude(role=Role.READ_ONLY)
    if not user.is_admin:
        qs = qs.filter(Q(team_id__in=visible_team_ids(user) or []) | Q(pk=user.pk))
    return qs.order_by("first_name", "username")


def policy_rows() -> list[dict]:
    """Every role's policy as shown on "Roles & permissions" and by GET /api/v1/roles."""
    stored = {p.role: p for p in RolePolicy.objects.all()}
    current = role_policies()
    rows = []
    for role, label in Role.choices:
        scope, actions = current[role]
        p = stored.get(role)
        rows.append({
            "role": role,
            "label": str(label),
            "scope": scope,
            "scope_label": str(dict(Scope.choices).get(scope, scope)),
            "actions": [a for a in Action.values if a in actions],
            "version": p.version if p else 0,
            "editable": role != Role.ADMIN,
        })  # fmt: skip
    return rows
