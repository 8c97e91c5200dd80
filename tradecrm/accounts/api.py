"""JSON API of roles & permissions and offboarding; each (prefix, router) in ROUTERS is mounted
under /api/v1/.

GET /roles lists every role's visibility and allowed actions (anyone signed in: it tells a script
what its user may do); PUT /roles/{role} changes one (administrators; audited "permission_change").
POST /users/{id}/offboard hands a leaving user's customers, open follow-ups and open opportunities
to another user or a pool (administrators and the user's manager; others get 404 for the user).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from tradecrm.core.api import READ, WRITE, Id, json_response
from tradecrm.core.errors import ValidationError

from . import selectors, services
from .models import Action, Role, Scope, User

roles = Router(tags=["roles & permissions"])
users = Router(tags=["users"])


class RoleOut(Schema):
    role: str
    label: str
    scope: str = Field(description="own | team | team_subteams | all")
    scope_label: str
    actions: list[str] = Field(description=", ".join(Action.values))
    version: int
    editable: bool


class RolePut(Schema):
    scope: str | None = Field(None, description=" | ".join(Scope.values))
    actions: list[str] | None = Field(None, description="Any of: " + ", ".join(Action.values))
    version: int | None = Field(None, description="The version you read; a stale one is refused with 409.")


class OffboardIn(Schema):
    to: Id | None = Field(None, description="The user who takes over customers, follow-ups and opportunities.")
    pool: Id | None = Field(None, description="A pool for the customers instead (follow-ups and opportunities "
                                              "then need `to`, else they stay).")
    deactivate: bool = False


class OffboardOut(Schema):
    customers: int
    followups: int
    opportunities: int
    followups_left: int
    opportunities_left: int
    deactivated: bool


@roles.get("", response={200: list[RoleOut], **READ}, summary="List roles and their permissions")
def list_roles(request: HttpRequest):
    return json_response(selectors.policy_rows())


@roles.put("/{role}", response={200: RoleOut, 409: dict, **WRITE}, summary="Change a role's permissions")
def put_role(request: HttpRequest, role: str, payload: RolePut):
    if role not in Role.values:
        raise Http404
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version", None)
    services.role_policy_update(actor=request.auth, role=role, data=data, version=version)
    return json_response(next(r for r in selectors.policy_rows() if r["role"] == role))


def _user_or_error(field: str, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    u = User.objects.filter(pk=user_id).first()
    if u is None:
        raise ValidationError({field: [_("There is no user with id %(id)s.") % {"id": user_id}]})
    return u


@users.post("/{int:user_id}/offboard", response={200: OffboardOut, **WRITE}, summary="Hand over a leaving user's work")
def offboard_user(request: HttpRequest, user_id: Id, payload: OffboardIn):
    from tradecrm.pool.models import Pool

    leaving = selectors.user_get_for_user(request.auth, user_id)
    to_user = _user_or_error("to", payload.to)
    pool = None
    if payload.pool is not None:
        pool = Pool.objects.filter(pk=payload.pool).first()
        if pool is None:
            raise ValidationError({"pool": [_("There is no pool with id %(id)s.") % {"id": payload.pool}]})
    counts = services.user_offboard(actor=request.auth, user=leaving, to_user=to_user, pool=pool,
                                    deactivate=payload.deactivate)  # fmt: skip
    return json_response(counts)


from .team_api import teams  # noqa: E402  (departments and teams)

ROUTERS: list[tuple[str, Router]] = [("/roles", roles), ("/users", users), ("/teams", teams)]
