"""JSON API of the public pool, mounted at /api/v1/pools.

You see the pools that serve your team (administrators: all); another team's pool, or a customer
in one, is 404 as if missing. Claiming follows the pool's limits (422 with the reason in words);
assigning is for managers and administrators; the rules are read and changed by administrators
and apply from the next recall run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from tradecrm.accounts.models import User
from tradecrm.core.api import LIST, READ, WRITE, Id, Text, Version, json_response, page_response
from tradecrm.core.errors import ValidationError
from tradecrm.customers.selectors import company_get_for_user

from . import selectors, services
from .models import Pool, PoolMove
from .rules import effective_rules, summary

pools = Router(tags=["public pool"])


class PoolOut(Schema):
    id: int
    name: str
    description: str
    countries: list[str]
    teams: list[int]
    active: bool
    size: int
    rules_version: int
    version: int
    summary: list[str]


class EntryOut(Schema):
    company_id: int
    name: str
    country: str
    since: dt.datetime
    days: int
    previous_owner_id: int | None
    previous_owner: str
    kind: str
    reason: str


class EntryPage(Schema):
    items: list[EntryOut]
    next_cursor: str | None
    prev_cursor: str | None


class EntryQuery(Schema):
    country: Text = Field("", max_length=2, description="ISO country code.")
    min_days: int | None = Field(None, ge=0, le=36500, description="In the pool at least this many days.")
    max_days: int | None = Field(None, ge=0, le=36500, description="In the pool at most this many days.")
    previous_owner: Id | None = None
    cursor: Text | None = Field(None, max_length=1000)
    limit: int = Field(50, ge=1, le=200)


class MoveOut(Schema):
    id: int
    company_id: int
    pool_id: int
    kind: str
    from_owner_id: int | None
    to_owner_id: int | None
    reason: str
    at: dt.datetime


class AssignIn(Schema):
    owner: Id = Field(description="The rep who gets the customer.")


class ReleaseIn(Schema):
    reason: Text = Field(max_length=255, description="Why: the next owner reads it.")
    pool: Id | None = Field(None, description="Empty: the pool whose rules the customer falls under.")


class RulesOut(Schema):
    pool_id: int
    version: int
    rules_version: int
    rules: dict[str, Any]


class RulesIn(Schema):
    version: Version
    rules: dict[str, Any] = Field(description="Only the rules to change; see GET for the keys.")


class RunOut(Schema):
    id: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: str
    dry_run: bool
    trigger: str
    due: int
    recalled: int
    skipped: int
    seconds: float
    rule_versions: dict[str, int]
    error: str


class StateOut(Schema):
    company_id: int
    in_pool: bool
    pool_id: int | None
    pool: str | None
    since: dt.datetime | None
    previous_owner_id: int | None
    reason: str
    owner_id: int | None
    locked: bool
    exempt: bool
    recall_rule: str | None
    recall_due: dt.datetime | None


def pool_out(p: Pool, size: int) -> dict:
    return {"id": p.id, "name": p.name, "description": p.description, "countries": p.countries,
            "teams": sorted(t.id for t in p.teams.all()), "active": p.active, "size": size,
            "rules_version": p.rules_version, "version": p.version,
            "summary": summary(effective_rules(p))}  # fmt: skip


def move_out(m: PoolMove) -> dict:
    return {"id": m.id, "company_id": m.company_id, "pool_id": m.pool_id, "kind": m.kind,
            "from_owner_id": m.from_owner_id, "to_owner_id": m.to_owner_id, "reason": m.reason, "at": m.at}  # fmt: skip


@pools.get("", response={200: list[PoolOut], **LIST}, summary="List pools")
def list_pools(request: HttpRequest):
    return json_response([pool_out(p["pool"], p["size"]) for p in selectors.pool_list(request.auth)])


@pools.get("/runs", response={200: list[RunOut], **LIST}, summary="Recall runs")
def list_runs(request: HttpRequest):
    """The latest recall runs, newest first (managers and administrators)."""
    if not services.can_manage(request.auth):
        raise PermissionDenied(_("The recall log is for managers and administrators."))
    out = [{"id": r.id, "started_at": r.started_at, "finished_at": r.finished_at, "status": r.status,
            "dry_run": r.dry_run, "trigger": r.trigger, "due": r.due, "recalled": r.recalled, "skipped": r.skipped,
            "seconds": r.seconds, "rule_versions": {k: v.get("version", 0) for k, v in (r.rules or {}).items()},
            "error": r.error} for r in selectors.runs(100)]  # fmt: skip
    return json_response(out)


@pools.get("/{int:pool_id}", response={200: PoolOut, **READ}, summary="Get a pool")
def get_pool(request: HttpRequest, pool_id: Id):
    pool = selectors.pool_get_for_user(request.auth, pool_id)
    return json_response(pool_out(pool, pool.entries.count()))


@pools.get("/{int:pool_id}/customers", response={200: EntryPage, **LIST}, summary="Customers in a pool")
def pool_customers(request: HttpRequest, pool_id: Id, query: Query[EntryQuery]):
    """Longest in the pool first (keyset paged)."""
    pool = selectors.pool_get_for_user(request.auth, pool_id)
    f = selectors.EntryFilters(country=query.country.upper(), min_days=query.min_days, max_days=query.max_days,
                               previous_owner=query.previous_owner)  # fmt: skip
    rows, nxt, prev = selectors.pool_entries(pool, f, cursor=query.cursor or None, limit=query.limit)
    items = [{"company_id": r["company_id"], "name": r["company__name"], "country": r["company__country"],
              "since": r["since"], "days": r["days"], "previous_owner_id": r["previous_owner_id"],
              "previous_owner": r["previous_owner_name"], "kind": r["kind"], "reason": r["reason"]}
             for r in rows]  # fmt: skip
    return page_response(items, nxt, prev)


@pools.get("/{int:pool_id}/rules", response={200: RulesOut, **READ}, summary="A pool's rules")
def get_rules(request: HttpRequest, pool_id: Id):
    pool = selectors.pool_get_for_user(request.auth, pool_id)
    if not request.auth.is_admin:
        raise PermissionDenied(_("Only administrators may see and change pool rules."))
    return json_response({"pool_id": pool.id, "version": pool.version, "rules_version": pool.rules_version,
                          "rules": effective_rules(pool)})  # fmt: skip


@pools.put("/{int:pool_id}/rules", response={200: RulesOut, **WRITE}, summary="Change a pool's rules")
def put_rules(request: HttpRequest, pool_id: Id, payload: RulesIn):
    """Administrators. The rules given are merged over the current ones and validated as a whole
    (422 names each bad rule); they apply from the next recall run."""
    pool = selectors.pool_get_for_user(request.auth, pool_id)
    if not request.auth.is_admin:
        raise PermissionDenied(_("Only administrators may see and change pool rules."))
    merged = {**effective_rules(pool), **payload.rules}
    pool = services.pool_update(
        actor=request.auth, pool=pool, version=payload.version, data={"rules": merged}
    )
    return json_response({"pool_id": pool.id, "version": pool.version, "rules_version": pool.rules_version,
                          "rules": effective_rules(pool)})  # fmt: skip


@pools.post("/customers/{int:company_id}/claim", response={200: MoveOut, **WRITE}, summary="Claim a customer")
def claim(request: HttpRequest, company_id: Id):
    selectors.entry_get_for_user(request.auth, company_id)
    return json_response(move_out(services.pool_claim(actor=request.auth, company_id=company_id)))


@pools.post(
    "/customers/{int:company_id}/assign", response={200: MoveOut, **WRITE}, summary="Assign a customer"
)
def assign(request: HttpRequest, company_id: Id, payload: AssignIn):
    """Managers (to reps of the teams they manage) and administrators."""
    selectors.entry_get_for_user(request.auth, company_id)
    if not services.can_manage(request.auth):
        raise PermissionDenied(_("Only managers and administrators may assign customers from the pool."))
    to_user = User.objects.filter(pk=payload.owner).first()
    if to_user is None:
        raise ValidationError({"owner": [_("There is no user with id %(id)s.") % {"id": payload.owner}]})
    return json_response(
        move_out(services.pool_assign(actor=request.auth, company_id=company_id, to_user=to_user))
    )


@pools.post(
    "/companies/{int:company_id}/release", response={200: MoveOut, **WRITE}, summary="Release a customer"
)
def release(request: HttpRequest, company_id: Id, payload: ReleaseIn):
    """The owner, their manager or an administrator puts the customer into a pool."""
    company = company_get_for_user(request.auth, company_id)
    pool = None
    if payload.pool is not None:
        try:
            pool = selectors.pool_get_for_user(request.auth, payload.pool)
        except Http404:
            raise ValidationError({"pool": [_("No pool with id %(id)s.") % {"id": payload.pool}]}) from None
    move = services.pool_release(actor=request.auth, company=company, reason=payload.reason, pool=pool)
    return json_response(move_out(move))


@pools.get("/companies/{int:company_id}", response={200: StateOut, **READ}, summary="A customer's pool state")
def company_state(request: HttpRequest, company_id: Id):
    """In a pool (which, since, previous owner, reason) or owned (when the rules would recall it)."""
    company = company_get_for_user(request.auth, company_id)
    s = selectors.company_pool_state(company)
    e = s.get("entry")
    return json_response({
        "company_id": company.pk, "in_pool": e is not None, "pool_id": e.pool_id if e else None,
        "pool": e.pool.name if e else (s["pool"].name if s.get("pool") else None), "since": e.since if e else None,
        "previous_owner_id": e.previous_owner_id if e else None, "reason": e.reason if e else "",
        "owner_id": company.owner_id, "locked": s.get("lock") is not None, "exempt": bool(s.get("exempt")),
        "recall_rule": s.get("rule"), "recall_due": s.get("due"),
    })  # fmt: skip
