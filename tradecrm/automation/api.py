"""JSON API of automation, mounted at /api/v1/automation.

Rules (administrators; managers see and change the rules they built — anybody else gets 404 as if
missing), their versions, run logs, dry runs and the test on a sample record; assignment rules
(administrators) with their order and test box; approvals (the inbox: what you may decide and what
you asked for) with approve / reject. A rule that is refused (unknown field, impossible condition,
loop, an action you may not take) answers 422 naming each bad part.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from tradecrm.core.api import LIST, READ, WRITE, Id, Text, Version, json_response, page_response
from tradecrm.core.errors import ValidationError
from tradecrm.core.paging import Sort, keyset_page

from . import approvals, engine, selectors, services
from .assignment import Assigner
from .models import Approval, AssignmentRule, Rule, RuleRun

router = Router(tags=["automation"])


class RuleIn(Schema):
    name: Text = Field(max_length=120)
    description: Text = Field("", max_length=2000)
    event: Text = Field(description="One of the event names, e.g. record.created, scheduled.")
    entity: Text = Field("company", description="company or inquiry.")
    conditions: dict[str, Any] = Field(
        default_factory=dict, description="The condition tree (all/any, field/op/value)."
    )
    actions: list[dict[str, Any]] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict, description='e.g. {"hours": 24}, {"days": 3}.')
    schedule: Text = Field("", max_length=64, description="Cron expression of a scheduled rule.")
    active: bool = True
    max_runs_per_hour: int = Field(100, ge=1, le=100000)


class RulePatch(Schema):
    version: Version
    name: Text | None = Field(None, max_length=120)
    description: Text | None = Field(None, max_length=2000)
    event: Text | None = None
    entity: Text | None = None
    conditions: dict[str, Any] | None = None
    actions: list[dict[str, Any]] | None = None
    params: dict[str, Any] | None = None
    schedule: Text | None = Field(None, max_length=64)
    active: bool | None = None
    max_runs_per_hour: int | None = Field(None, ge=1, le=100000)


class RuleOut(Schema):
    id: int
    name: str
    description: str
    event: str
    entity: str
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    params: dict[str, Any]
    schedule: str
    active: bool
    max_runs_per_hour: int
    next_run_at: dt.datetime | None
    version: int
    created_by_id: int | None
    updated_at: dt.datetime


class RunOut(Schema):
    id: int
    rule_id: int
    version: int
    event: str
    obj_type: str
    obj_id: int | None
    status: str
    inputs: dict[str, Any]
    results: list[dict[str, Any]]
    error: str
    depth: int
    affected: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    seconds: float


class RunPage(Schema):
    items: list[RunOut]
    next_cursor: str | None
    prev_cursor: str | None


class RunQuery(Schema):
    rule: Id | None = None
    status: Text | None = Field(None, max_length=16)
    cursor: Text | None = Field(None, max_length=1000)
    limit: int = Field(50, ge=1, le=200)


class DryRunQuery(Schema):
    since: dt.date = Field(description="Replay the history from this day on.")
    limit: int = Field(200, ge=1, le=1000)


class TestIn(Schema):
    obj_type: Text = Field("company", max_length=24)
    obj_id: Id
    changes: dict[str, Any] = Field(default_factory=dict)


class VersionOut(Schema):
    version: int
    definition: dict[str, Any]
    created_at: dt.datetime
    created_by_id: int | None


class AssignmentIn(Schema):
    name: Text = Field(max_length=120)
    entity: Text = "company"
    conditions: dict[str, Any] = Field(default_factory=dict)
    assign_to: Text = Field(description="user, round_robin, least_loaded or pool.")
    user: Id | None = None
    team: Id | None = None
    pool: Id | None = None
    max_holdings: int | None = Field(None, ge=1, le=1000000)
    active: bool = True


class AssignmentPatch(Schema):
    version: Version
    name: Text | None = Field(None, max_length=120)
    conditions: dict[str, Any] | None = None
    assign_to: Text | None = None
    user: Id | None = None
    team: Id | None = None
    pool: Id | None = None
    max_holdings: int | None = Field(None, ge=1, le=1000000)
    active: bool | None = None


class AssignmentOut(Schema):
    id: int
    name: str
    entity: str
    position: int
    active: bool
    conditions: dict[str, Any]
    assign_to: str
    user_id: int | None
    team_id: int | None
    pool_id: int | None
    max_holdings: int | None
    version: int


class MoveIn(Schema):
    offset: int = Field(ge=-1000, le=1000, description="-1: up one place, 1: down one place.")


class AssignmentTestIn(Schema):
    entity: Text = "company"
    values: dict[str, Any] = Field(
        description='A sample record, e.g. {"country": "DE", "source": "trade_show"}.'
    )


class ApprovalOut(Schema):
    id: int
    kind: str
    obj_type: str
    obj_id: int
    company_id: int | None
    title: str
    params: dict[str, Any]
    status: str
    requested_by_id: int | None
    approver_id: int | None
    decided_by_id: int | None
    decided_at: dt.datetime | None
    reason: str
    created_at: dt.datetime
    can_decide: bool


class ApprovalQuery(Schema):
    status: Text | None = Field(
        "pending", max_length=12, description="pending, approved, rejected; empty: all."
    )


class DecisionIn(Schema):
    approve: bool
    reason: Text = Field("", max_length=2000)


class ClaimIn(Schema):
    company_id: Id
    reason: Text = Field("", max_length=500)


def rule_out(r: Rule) -> dict:
    return {"id": r.id, "name": r.name, "description": r.description, "event": r.event, "entity": r.entity,
            "conditions": r.conditions, "actions": r.actions, "params": r.params, "schedule": r.schedule,
            "active": r.active, "max_runs_per_hour": r.max_runs_per_hour, "next_run_at": r.next_run_at,
            "version": r.version, "created_by_id": r.created_by_id, "updated_at": r.updated_at}  # fmt: skip


RUN_FIELDS = ("id", "rule_id", "version", "event", "obj_type", "obj_id", "status", "inputs", "results", "error",
              "depth", "affected", "started_at", "finished_at", "seconds")  # fmt: skip


def run_out(r: RuleRun) -> dict:
    return {f: getattr(r, f) for f in RUN_FIELDS}


def assignment_out(r: AssignmentRule) -> dict:
    return {"id": r.id, "name": r.name, "entity": r.entity, "position": r.position, "active": r.active,
            "conditions": r.conditions, "assign_to": r.assign_to, "user_id": r.user_id, "team_id": r.team_id,
            "pool_id": r.pool_id, "max_holdings": r.max_holdings, "version": r.version}  # fmt: skip


def approval_out(a: Approval, user) -> dict:
    return {"id": a.id, "kind": a.kind, "obj_type": a.obj_type, "obj_id": a.obj_id, "company_id": a.company_id,
            "title": a.title, "params": a.params, "status": a.status, "requested_by_id": a.requested_by_id,
            "approver_id": a.approver_id, "decided_by_id": a.decided_by_id, "decided_at": a.decided_at,
            "reason": a.reason, "created_at": a.created_at,
            "can_decide": a.status == "pending" and approvals.can_decide(user, a)}  # fmt: skip


# --- rules ------------------------------------------------------------------------------------------


@router.get("/rules", response={200: list[RuleOut], **LIST}, summary="List automation rules")
def list_rules(request: HttpRequest):
    return json_response([rule_out(r) for r in selectors.rules_for_user(request.auth)[:500]])


@router.post("/rules", response={201: RuleOut, **WRITE}, summary="Create a rule")
def create_rule(request: HttpRequest, payload: RuleIn):
    rule = services.rule_create(actor=request.auth, data=payload.dict())
    return json_response(rule_out(rule), status=201)


@router.get("/rules/{int:rule_id}", response={200: RuleOut, **READ}, summary="Get a rule")
def get_rule(request: HttpRequest, rule_id: Id):
    return json_response(rule_out(selectors.rule_get_for_user(request.auth, rule_id)))


@router.patch(
    "/rules/{int:rule_id}", response={200: RuleOut, **WRITE}, summary="Change a rule (a new version)"
)
def patch_rule(request: HttpRequest, rule_id: Id, payload: RulePatch):
    rule = selectors.rule_get_for_user(request.auth, rule_id)
    data = {k: v for k, v in payload.dict(exclude={"version"}).items() if v is not None}
    rule = services.rule_update(actor=request.auth, rule=rule, version=payload.version, data=data)
    return json_response(rule_out(rule))


@router.delete("/rules/{int:rule_id}", response={204: None, **WRITE}, summary="Delete a rule")
def delete_rule(request: HttpRequest, rule_id: Id):
    services.rule_delete(actor=request.auth, rule=selectors.rule_get_for_user(request.auth, rule_id))
    return HttpResponse(status=204)


@router.get(
    "/rules/{int:rule_id}/versions", response={200: list[VersionOut], **READ}, summary="A rule's versions"
)
def rule_versions(request: HttpRequest, rule_id: Id):
    rule = selectors.rule_get_for_user(request.auth, rule_id)
    return json_response([{"version": v.version, "definition": v.definition, "created_at": v.created_at,
                           "created_by_id": v.created_by_id} for v in rule.versions.all()[:200]])  # fmt: skip


@router.get(
    "/rules/{int:rule_id}/dry-run", response={200: dict[str, Any], **READ}, summary="Dry run on past data"
)
def rule_dry_run(request: HttpRequest, rule_id: Id, query: Query[DryRunQuery]):
    """What the rule would have done since the day given: the matching records and the actions;
    nothing is changed."""
    rule = selectors.rule_get_for_user(request.auth, rule_id)
    since = timezone.make_aware(dt.datetime.combine(query.since, dt.time()))
    return json_response(engine.dry_run(rule, since, limit=query.limit))


@router.post("/rules/{int:rule_id}/test", response={200: dict[str, Any], **WRITE}, summary="Test on a record")
def rule_test(request: HttpRequest, rule_id: Id, payload: TestIn):
    """Would the rule fire on this record, and why (each condition with the record's value)."""
    rule = selectors.rule_get_for_user(request.auth, rule_id)
    _visible(request.auth, payload.obj_type, payload.obj_id)
    return json_response(engine.test_on_record(rule.definition(), obj_type=payload.obj_type, obj_id=payload.obj_id,
                                               changes=payload.changes))  # fmt: skip


def _visible(user, obj_type: str, obj_id: int) -> None:
    if obj_type == "company":
        from tradecrm.customers.selectors import company_get_for_user

        company_get_for_user(user, obj_id)
    elif obj_type == "inquiry":
        from tradecrm.sales.selectors import inquiry_get_for_user

        inquiry_get_for_user(user, obj_id)
    else:
        raise ValidationError({"obj_type": [_("Test on a customer (company) or an inquiry.")]})


@router.get("/runs", response={200: RunPage, **LIST}, summary="Run log")
def list_runs(request: HttpRequest, query: Query[RunQuery]):
    """Newest first (keyset paged): each run's inputs, rule version and action results."""
    qs = selectors.runs_for_user(request.auth)
    if query.rule:
        qs = qs.filter(rule_id=query.rule)
    if query.status:
        qs = qs.filter(status=query.status)
    rows, nxt, prev = keyset_page(
        qs, Sort("started_at", True, "datetime"), query.cursor, query.limit, RUN_FIELDS
    )
    return page_response(rows, nxt, prev)


@router.get("/runs/{int:run_id}", response={200: RunOut, **READ}, summary="One run")
def get_run(request: HttpRequest, run_id: Id):
    return json_response(run_out(selectors.run_get_for_user(request.auth, run_id)))


# --- assignment rules -----------------------------------------------------------------------------------


def _admin(user) -> None:
    if not user.is_admin:
        raise PermissionDenied(_("Only administrators may see and change assignment rules."))


@router.get(
    "/assignment-rules", response={200: list[AssignmentOut], **LIST}, summary="Assignment rules, in order"
)
def list_assignment(request: HttpRequest):
    _admin(request.auth)
    return json_response([assignment_out(r) for r in selectors.assignment_rules_for_user(request.auth)])


@router.post(
    "/assignment-rules", response={201: AssignmentOut, **WRITE}, summary="Add an assignment rule (last)"
)
def create_assignment(request: HttpRequest, payload: AssignmentIn):
    rule = services.assignment_create(actor=request.auth, data=payload.dict())
    return json_response(assignment_out(rule), status=201)


@router.patch("/assignment-rules/{int:rule_id}", response={200: AssignmentOut, **WRITE}, summary="Change one")
def patch_assignment(request: HttpRequest, rule_id: Id, payload: AssignmentPatch):
    rule = selectors.assignment_get_for_user(request.auth, rule_id)
    data = {k: v for k, v in payload.dict(exclude={"version"}, exclude_unset=True).items()}
    return json_response(assignment_out(services.assignment_update(actor=request.auth, rule=rule,
                                                                   version=payload.version, data=data)))  # fmt: skip


@router.post(
    "/assignment-rules/{int:rule_id}/move", response={200: list[AssignmentOut], **WRITE}, summary="Reorder"
)
def move_assignment(request: HttpRequest, rule_id: Id, payload: MoveIn):
    rule = selectors.assignment_get_for_user(request.auth, rule_id)
    return json_response([assignment_out(r) for r in services.assignment_move(actor=request.auth, rule=rule,
                                                                              offset=payload.offset)])  # fmt: skip


@router.delete("/assignment-rules/{int:rule_id}", response={204: None, **WRITE}, summary="Delete one")
def delete_assignment(request: HttpRequest, rule_id: Id):
    services.assignment_delete(
        actor=request.auth, rule=selectors.assignment_get_for_user(request.auth, rule_id)
    )
    return HttpResponse(status=204)


@router.post(
    "/assignment-rules/test", response={200: list[dict[str, Any]], **WRITE}, summary="Which rule would fire"
)
def test_assignment(request: HttpRequest, payload: AssignmentTestIn):
    """For a sample record: each rule in order, whether its conditions hold (with the values), and
    the one that would assign, to whom and why. Nothing is assigned."""
    _admin(request.auth)
    if payload.entity not in ("company", "inquiry"):
        raise ValidationError({"entity": [_("company or inquiry.")]})
    return json_response(Assigner(payload.entity).trace(_sample(payload.values)))


def _sample(values: dict) -> dict:
    out = dict(values)
    if isinstance(out.get("country"), str):
        out["country"] = out["country"].upper()
    if isinstance(out.get("hs_codes"), str):
        out["hs_codes"] = [c.strip() for c in out["hs_codes"].split(",") if c.strip()]
    return out


# --- approvals ------------------------------------------------------------------------------------------


@router.get("/approvals", response={200: list[ApprovalOut], **LIST}, summary="Approvals inbox")
def list_approvals(request: HttpRequest, query: Query[ApprovalQuery]):
    status = query.status or None
    if status and status not in ("pending", "approved", "rejected", "cancelled"):
        raise ValidationError({"status": [_("pending, approved, rejected or cancelled.")]})
    qs = approvals.approvals_for_user(request.auth, status=status)[:500]
    return json_response([approval_out(a, request.auth) for a in qs])


@router.get("/approvals/{int:approval_id}", response={200: ApprovalOut, **READ}, summary="One approval")
def get_approval(request: HttpRequest, approval_id: Id):
    return json_response(
        approval_out(approvals.approval_get_for_user(request.auth, approval_id), request.auth)
    )


@router.post(
    "/approvals/{int:approval_id}/decide", response={200: ApprovalOut, **WRITE}, summary="Approve or reject"
)
def decide(request: HttpRequest, approval_id: Id, payload: DecisionIn):
    a = approvals.approval_get_for_user(request.auth, approval_id)
    a = approvals.approval_decide(
        actor=request.auth, approval=a, approve=payload.approve, reason=payload.reason
    )
    return json_response(approval_out(a, request.auth))


@router.post(
    "/approvals/proforma-credit/{int:proforma_id}",
    response={201: ApprovalOut, **WRITE},
    summary="Ask a manager to approve a proforma invoice's credit terms",
)
def request_proforma_credit(request: HttpRequest, proforma_id: Id):
    """Credit terms (O/A, D/A) on a draft proforma invoice need a manager's approval before it is
    issued (unless the quotation it comes from had them approved)."""
    from tradecrm.documents.selectors import proforma_get_for_user

    pi = proforma_get_for_user(request.auth, proforma_id)
    a = approvals.proforma_credit_request(actor=request.auth, proforma=pi)
    return json_response(approval_out(a, request.auth), status=201)


@router.post(
    "/approvals/pool-claims", response={201: ApprovalOut, **WRITE}, summary="Ask to claim above the quota"
)
def request_pool_claim(request: HttpRequest, payload: ClaimIn):
    """When the daily claim limit is reached: ask a manager to approve this claim."""
    a = approvals.pool_claim_request(actor=request.auth, company_id=payload.company_id, reason=payload.reason)
    return json_response(approval_out(a, request.auth), status=201)


ROUTERS: list[tuple[str, Router]] = [("/automation", router)]
